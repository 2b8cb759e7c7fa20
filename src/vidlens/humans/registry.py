"""The registry of digital humans: append-only, hash-chained, signed, like the registry of works.

Registering reads every face and voice file first (any unusable one refuses the whole
registration with its reason), then in ONE transaction appends a ledger entry (a
``vidlens.ledger`` chain over ``humans_ledger``), inserts the human, its sample embeddings and
its certificate, signed by the install's identity. Revoking the consent and removing the human
are further entries, each with a newly signed certificate: a revoked human is still recognised
(every use is then unauthorised), a removed one no longer is. ``verify`` replays the chain and
checks every row, sample and certificate against it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from vidlens.errors import ConflictError, NotFoundError, UsageError
from vidlens.hashing import canonical_json, sha256_bytes
from vidlens.humans import certificate as certs
from vidlens.humans.consent import Consent
from vidlens.humans.embedders import Embedders
from vidlens.humans.matching import FaceMatcher
from vidlens.vectors import VectorIndex
from vidlens.humans.samples import Sample, face_samples, voice_sample
from vidlens.humans.settings import HumansSettings
from vidlens.humans.tables import humans, ledger, samples
from vidlens.identity import CertificateError, Identity
from vidlens.index import HotIndex
from vidlens.ledger import Chain
from vidlens.services import ServiceContext
from vidlens.store.db import Store

CHAIN = Chain(ledger, ("human_id", "action", "payload", "created_at"), name="humans ledger")
KINDS = ("face", "voice")
MAX_FILES = 50


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def samples_digest(rows: Sequence[tuple[str, str, bytes]]) -> str:
    """Order-free digest of (kind, model, embedding bytes) of every sample."""
    return sha256_bytes(canonical_json(sorted(sha256_bytes(f"{k}\n{m}\n".encode() + e) for k, m, e in rows)))


@dataclass(frozen=True)
class Human:
    id: str
    name: str
    owner: str
    status: str
    consent: Consent | None
    samples_digest: str
    certificate: dict[str, Any]
    ledger_seq: int
    registered_at: float
    faces: int = 0
    voices: int = 0

    def authorised(self, use: str | None, territory: str | None) -> bool:
        """Whether ``use`` in ``territory`` is covered by this human's consent, now."""
        return self.status == "active" and self.consent is not None and self.consent.covers(use, territory)

    def to_dict(self) -> dict[str, Any]:
        return {"human_id": self.id, "name": self.name, "owner": self.owner, "status": self.status,
                "consent": None if self.consent is None else self.consent.to_json(),
                "face_samples": self.faces, "voice_samples": self.voices, "samples_digest": self.samples_digest,
                "ledger_seq": self.ledger_seq, "registered_at": _iso(self.registered_at)}


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    """The ledger's copy of a registration: every column that must never change silently."""
    return {k: row[k] for k in ("name", "owner", "consent", "samples_digest", "registered_at")} | {
        "sources": row["sources"]}


class HumanRegistry:
    """Digital humans registered on one install."""

    def __init__(self, store: Store, data_dir: Path, settings: HumansSettings | None = None) -> None:
        self.store = store
        self.settings = settings or HumansSettings()
        self.identity = Identity.open(data_dir)
        self.embedders = Embedders(self.settings)
        self._indexes: dict[str, HotIndex[VectorIndex]] = {}

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> HumanRegistry:
        return cls(ctx.store, ctx.data_dir, ctx.section(HumansSettings))

    # -- register -----------------------------------------------------------------------------
    def register(self, name: str, *, owner: str, faces: Sequence[str | Path] = (),
                 voices: Sequence[str | Path] = (), consent: Consent | None = None) -> Human:
        name, owner = name.strip(), owner.strip()
        if not name or not owner or any(not c.isprintable() for c in name + owner):
            raise UsageError("a digital human needs a printable, non-empty name and owner")
        if not faces and not voices:
            raise UsageError("a digital human needs at least one face (--face) or voice (--voice) sample")
        if len(faces) + len(voices) > MAX_FILES:
            raise UsageError(f"at most {MAX_FILES} sample files per registration")
        if consent is not None and consent.expired():
            raise UsageError(f"the consent expired on {consent.expires.date().isoformat()}")
        with self.store.read() as conn:
            clash = conn.execute(sa.select(humans.c.id).where(
                humans.c.name == name, humans.c.owner == owner, humans.c.status != "removed")).first()
        if clash is not None:
            raise ConflictError(f"'{name}' of {owner} is already registered (human {clash.id})")
        found: list[Sample] = []
        for path in faces:
            found += face_samples(path, self.embedders)
        for path in voices:
            found.append(voice_sample(path, self.embedders))
        return self._commit(name, owner, consent, found)

    def _commit(self, name: str, owner: str, consent: Consent | None, found: Sequence[Sample]) -> Human:
        human_id = uuid.uuid4().hex
        now = round(time.time(), 6)
        rows = [{"id": uuid.uuid4().hex, "human_id": human_id, "kind": s.kind, "source_name": s.source_name,
                 "source_sha256": s.source_sha256, "start_s": float(s.start_s), "end_s": float(s.end_s),
                 "model": s.model, "embedding": np.asarray(s.embedding, np.float32).tobytes()} for s in found]
        digest = samples_digest([(r["kind"], r["model"], r["embedding"]) for r in rows])
        sources = sorted({(s.kind, s.source_sha256, s.source_name) for s in found})
        row = {"name": name, "owner": owner, "consent": None if consent is None else consent.to_json(),
               "samples_digest": digest, "registered_at": now,
               "sources": [{"kind": k, "sha256": h, "name": n} for k, h, n in sources]}
        with self.store.tx() as conn:
            entry = CHAIN.append(conn, {"human_id": human_id, "action": "register", "payload": _payload(row),
                                        "created_at": now})
            cert = self._sign(human_id, row, "active", entry)
            conn.execute(humans.insert().values(
                id=human_id, name=name, owner=owner, status="active", consent=row["consent"], samples_digest=digest,
                certificate=cert, ledger_seq=entry["seq"], registered_at=now))
            if rows:
                conn.execute(samples.insert(), rows)
        return self.get(human_id)

    def _sign(self, human_id: str, row: dict[str, Any], status: str, entry: dict[str, Any]) -> dict[str, Any]:
        return certs.sign({"human_id": human_id, "name": row["name"], "owner": row["owner"],
                           "consent": row["consent"], "samples_digest": row["samples_digest"],
                           "sources": row["sources"], "registered_at": _iso(row["registered_at"]),
                           "status": status, "ledger_seq": entry["seq"], "ledger_entry_hash": entry["hash"]},
                          self.identity)

    # -- change of status ---------------------------------------------------------------------
    def revoke(self, ref: str, *, reason: str) -> Human:
        """The consent is withdrawn: the human is still recognised, and no use is authorised any more."""
        return self._transition(ref, "revoke", "revoked", reason, allowed_from=("active",))

    def remove(self, ref: str, *, reason: str) -> Human:
        """Stop protecting this human (kept in the ledger; nothing is erased)."""
        return self._transition(ref, "remove", "removed", reason, allowed_from=("active", "revoked"))

    def _transition(self, ref: str, action: str, status: str, reason: str, *, allowed_from: tuple[str, ...]) -> Human:
        if not reason.strip():
            raise UsageError("say why (--reason): the reason is kept in the ledger and the certificate")
        human = self.get(ref)
        if human.status not in allowed_from:
            raise ConflictError(f"human {human.id} is {human.status}; it cannot be {status}")
        now = round(time.time(), 6)
        with self.store.tx() as conn:
            entry = CHAIN.append(conn, {"human_id": human.id, "action": action,
                                        "payload": {"reason": reason.strip()}, "created_at": now})
            registered = self._registration(conn, human.id)
            cert = self._sign(human.id, registered, status, entry)
            conn.execute(humans.update().where(humans.c.id == human.id).values(
                status=status, certificate=cert, ledger_seq=entry["seq"]))
        return self.get(human.id)

    @staticmethod
    def _registration(conn: sa.Connection, human_id: str) -> dict[str, Any]:
        entry = conn.execute(sa.select(ledger.c.payload).where(
            ledger.c.human_id == human_id, ledger.c.action == "register")).first()
        if entry is None:
            raise CertificateError(f"human {human_id} has no registration in the ledger; run `vidlens humans verify`")
        return dict(entry.payload)

    # -- read ---------------------------------------------------------------------------------
    def get(self, ref: str) -> Human:
        """By id or unique id prefix (6 characters or more)."""
        with self.store.read() as conn:
            r = conn.execute(sa.select(humans).where(humans.c.id == ref)).mappings().first()
            if r is None and len(ref) >= 6:
                found = conn.execute(sa.select(humans).where(humans.c.id.like(ref + "%")).limit(2)).mappings().all()
                if len(found) > 1:
                    raise UsageError(f"human id prefix '{ref}' is ambiguous; give more characters")
                r = found[0] if found else None
            if r is None:
                raise NotFoundError(f"no digital human '{ref}' (see: vidlens humans list)")
            counts = dict(conn.execute(sa.select(samples.c.kind, sa.func.count()).where(
                samples.c.human_id == r["id"]).group_by(samples.c.kind)).all())
        return self._human(r, counts)

    @staticmethod
    def _human(r: Any, counts: dict[str, int]) -> Human:
        return Human(r["id"], r["name"], r["owner"], r["status"],
                     None if r["consent"] is None else Consent.model_validate(r["consent"]), r["samples_digest"],
                     r["certificate"], r["ledger_seq"], r["registered_at"], counts.get("face", 0),
                     counts.get("voice", 0))

    def find(self, ref: str) -> Human:
        """By id, id prefix, or exact name (when one human that is not removed has it)."""
        try:
            return self.get(ref)
        except NotFoundError:
            named = [h for h in self.list() if h.name == ref.strip()]
            if len(named) > 1:
                raise UsageError(f"{len(named)} digital humans are called '{ref}': give the id "
                                 f"({', '.join(h.id[:8] for h in named)})") from None
            if not named:
                raise
            return named[0]

    # -- uses: what was made with a likeness, chained with the registrations -----------------------
    def record_use(self, human_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Append a use (e.g. a presenter video) to the ledger; ``human_id`` is empty for an unregistered
        portrait. Returns the entry (``seq``, ``hash``)."""
        if action in ("register", "revoke", "remove"):
            raise UsageError(f"'{action}' is a change of status, not a use")
        with self.store.tx() as conn:
            return CHAIN.append(conn, {"human_id": human_id, "action": action, "payload": payload,
                                       "created_at": round(time.time(), 6)})

    def use_certificate(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A use's ledger entry, signed by the install's identity: what a video's buyer or platform keeps."""
        return certs.sign({"ledger_seq": entry["seq"], "ledger_entry_hash": entry["hash"],
                           "human_id": entry["human_id"] or None, "action": entry["action"],
                           "recorded_at": _iso(entry["created_at"]), **entry["payload"]}, self.identity,
                          certs.USE_FORMAT)

    def use(self, seq: int) -> dict[str, Any]:
        """The ledger entry of one use, by its sequence number."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(ledger).where(ledger.c.seq == seq)).mappings().first()
        if row is None or row["action"] in ("register", "revoke", "remove"):
            raise NotFoundError(f"no use {seq} in the humans ledger")
        return dict(row)

    def find_use(self, key: str, value: str) -> dict[str, Any] | None:
        """The ledger entry of a use whose payload has ``key`` = ``value`` (e.g. the watermark it carries)."""
        with self.store.read() as conn:
            for e in CHAIN.rows(conn):
                if e["action"] not in ("register", "revoke", "remove") and e["payload"].get(key) == value:
                    return dict(e)
        return None

    def list(self, *, include_removed: bool = False) -> list[Human]:
        q = sa.select(humans).order_by(humans.c.registered_at, humans.c.id)
        if not include_removed:
            q = q.where(humans.c.status != "removed")
        with self.store.read() as conn:
            counts: dict[str, dict[str, int]] = {}
            for hid, kind, n in conn.execute(sa.select(samples.c.human_id, samples.c.kind, sa.func.count())
                                             .group_by(samples.c.human_id, samples.c.kind)):
                counts.setdefault(hid, {})[kind] = n
            return [self._human(r, counts.get(r["id"], {})) for r in conn.execute(q).mappings()]

    def checkpoint(self) -> str:
        """The ledger head: it moves with every registration, revocation and removal."""
        with self.store.read() as conn:
            return CHAIN.head(conn)[1]

    # -- matching -----------------------------------------------------------------------------
    def index(self, kind: str) -> VectorIndex:
        """Every ``kind`` sample of the humans still recognised (active or revoked), embedded with the
        current model; rebuilt whenever the ledger head moves."""
        if kind not in KINDS:
            raise UsageError(f"kind must be face or voice, got {kind!r}")
        hot = self._indexes.get(kind)
        if hot is None:
            hot = self._indexes[kind] = HotIndex(lambda: (self.checkpoint(), lambda: self._build(kind)))
        return hot.get()

    def face_matcher(self) -> FaceMatcher:
        """The registered faces (humans still recognised) as a ``FaceMatcher`` whose refs are human ids."""
        return FaceMatcher(self.index("face"), self.settings.face_threshold, "human", self.embedders.face_model_id)

    def face_templates(self) -> tuple[list[str], list[str], np.ndarray]:
        """(human ids, names, unit face embeddings), one row per face sample of an active human, for
        matchers that run away from the database (a live camera's process)."""
        q = (sa.select(samples.c.human_id, humans.c.name, samples.c.model, samples.c.embedding)
             .join(humans, humans.c.id == samples.c.human_id)
             .where(samples.c.kind == "face", humans.c.status == "active").order_by(samples.c.id))
        with self.store.read() as conn:
            rows = conn.execute(q).all()
        if rows:
            rows = [r for r in rows if r.model == self.embedders.face_model_id]
        vectors = np.stack([np.frombuffer(r.embedding, np.float32) for r in rows]) if rows else np.zeros((0, 128),
                                                                                                        np.float32)
        return [r.human_id for r in rows], [r.name for r in rows], vectors

    def _build(self, kind: str) -> VectorIndex:
        q = (sa.select(samples.c.id, samples.c.human_id, samples.c.model, samples.c.embedding)
             .join(humans, humans.c.id == samples.c.human_id)
             .where(samples.c.kind == kind, humans.c.status != "removed")
             .order_by(samples.c.id))
        with self.store.read() as conn:
            checkpoint = CHAIN.head(conn)[1]
            rows = conn.execute(q).all()
        if rows:  # only then is the model needed: samples of another model are never compared
            model = self.embedders.face_model_id if kind == "face" else self.embedders.voice_model_id
            rows = [r for r in rows if r.model == model]
        return VectorIndex.build(((r.id, np.frombuffer(r.embedding, np.float32), {"human": r.human_id})
                                      for r in rows), checkpoint=checkpoint)

    # -- integrity ----------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Problems in the chain, the rows, their samples and certificates; empty when all is intact."""
        with self.store.read() as conn:
            chain = CHAIN.verify(conn)
            entries = list(CHAIN.rows(conn))
            rows = {r["id"]: dict(r) for r in conn.execute(sa.select(humans)).mappings()}
            kept: dict[str, list[tuple[str, str, bytes]]] = {}
            for s in conn.execute(sa.select(samples.c.human_id, samples.c.kind, samples.c.model,
                                            samples.c.embedding)):
                kept.setdefault(s.human_id, []).append((s.kind, s.model, bytes(s.embedding)))
        problems = list(chain.problems)
        state: dict[str, dict[str, Any]] = {}
        after = {"revoke": "revoked", "remove": "removed"}
        for e in entries:
            if e["action"] == "register":
                state[e["human_id"]] = {"payload": e["payload"], "status": "active", "seq": e["seq"],
                                        "hash": e["hash"]}
            elif e["human_id"] in state and e["action"] in after:  # uses ("speak") change no status
                state[e["human_id"]].update(status=after[e["action"]], seq=e["seq"], hash=e["hash"])
        trusted = [k.public for k in self.identity.trusted()]
        for hid, r in rows.items():
            s = state.get(hid)
            if s is None:
                problems.append(f"human {hid} has no ledger entry")
                continue
            stored = {k: r[k] for k in ("name", "owner", "consent", "samples_digest", "registered_at")}
            if stored != {k: s["payload"].get(k) for k in stored} or r["status"] != s["status"] \
                    or r["ledger_seq"] != s["seq"]:
                problems.append(f"human {hid} differs from its ledger entries (edited outside the registry)")
            if samples_digest(kept.get(hid, [])) != s["payload"].get("samples_digest"):
                problems.append(f"human {hid}: its samples do not match the registered digest")
            try:
                body = certs.verify(r["certificate"], trusted)
            except CertificateError as exc:
                problems.append(f"human {hid}: its certificate does not verify under this install's keys "
                                f"({exc.message})")
                continue
            if (body.get("human_id"), body.get("ledger_entry_hash"), body.get("status")) != (hid, s["hash"],
                                                                                           s["status"]):
                problems.append(f"human {hid}: its certificate names another human, ledger entry or status")
        for hid in state.keys() - rows.keys():
            problems.append(f"human {hid} is in the ledger but its row is gone")
        return problems
