"""The registry of protected works: append-only, hash-chained, signed.

Registering fingerprints the video (picture and sound, one call each), writes
the fingerprints as blobs, then in ONE transaction appends a ledger entry (a
``vidlens.ledger`` chain), inserts the work row and stores its certificate, signed
by the install's identity. If anything fails the blobs just written are deleted,
so no half-registered work is ever visible. Removal is another ledger entry;
nothing is rewritten in place. ``verify`` recomputes the chain and checks every
work row, blob and certificate against it, so an edit made behind the registry's
back (SQL UPDATE, a swapped blob, a forged certificate) is reported.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from vidlens.errors import ConflictError, NotFoundError, UnsupportedMediaError, UsageError
from vidlens.hashing import sha256_bytes
from vidlens.identity import Identity
from vidlens.ledger import Chain
from vidlens.media.probe import probe
from vidlens.protect import certificate as certs
from vidlens.protect.fingerprint import CorruptFingerprintError, Fingerprint, fingerprinter
from vidlens.protect.tables import ledger, works
from vidlens.types import Video

if TYPE_CHECKING:
    from vidlens.blobs.local import BlobStore
    from vidlens.store.db import Store

POLICIES = ("block", "monetise", "track")
# hashed fields are those of the 0.1 ledger, so chains written then verify unchanged
CHAIN = Chain(ledger, ("work_id", "action", "payload", "created_at"), hash_column="entry_hash", name="ledger")
MIN_DURATION_S = 1.0
IMAGE_CONTAINERS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"}


def check_media(video: Video, *, need_video: bool = True) -> None:
    """Refuse inputs no fingerprint can describe, with a one-line reason."""
    name = Path(video.uri).name
    if need_video and not video.width:
        raise UnsupportedMediaError(f"{name}: has no video stream; only videos can be registered", path=video.uri)
    if video.container in IMAGE_CONTAINERS or (video.width and (video.frame_count or 0) == 1):
        raise UnsupportedMediaError(f"{name}: is a still image, not a video", path=video.uri)
    if video.duration_s < MIN_DURATION_S - 1e-3:
        raise UnsupportedMediaError(f"{name}: lasts {video.duration_s:.2f} s; at least {MIN_DURATION_S:.0f} s "
                                    "is needed to fingerprint it", path=video.uri)


# The fingerprints a work keeps: one blob column each in ``protect_works``, both covered by the
# ledger entry and the certificate's digest. The fingerprinters are the installed plugins of these names.
KINDS = ("visual", "audio")


def fingerprints(video: Video) -> tuple[Fingerprint | None, Fingerprint]:
    """(visual or None for audio-only input, audio) fingerprints of ``video``."""
    visual, audio = (fingerprinter(kind) for kind in KINDS)
    return visual.fingerprint(video) if video.width else None, audio.fingerprint(video)


def fingerprint_digest(visual: Fingerprint | None, audio: Fingerprint | None) -> str:
    return sha256_bytes("".join(fp.digest() if fp is not None else "-" for fp in (visual, audio)).encode())


@dataclass(frozen=True)
class Work:
    id: str
    content_sha256: str
    owner: str
    title: str
    licence: str | None
    policy: str
    status: str
    duration_s: float
    source_uri: str
    visual_blob: str | None
    audio_blob: str | None
    fingerprint_digest: str
    certificate: dict[str, Any]
    ledger_seq: int
    registered_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"work_id": self.id, "content_sha256": self.content_sha256, "owner": self.owner,
                "title": self.title, "licence": self.licence, "policy": self.policy, "status": self.status,
                "duration_s": round(self.duration_s, 3), "source_uri": self.source_uri,
                "fingerprint_digest": self.fingerprint_digest, "ledger_seq": self.ledger_seq,
                "registered_at": _iso(self.registered_at), "has_audio_fingerprint": self.audio_blob is not None,
                "has_visual_fingerprint": self.visual_blob is not None}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _payload(w: dict[str, Any]) -> dict[str, Any]:
    """The ledger's copy of a work: every column that must never change silently."""
    keys = ("content_sha256", "owner", "title", "licence", "policy", "duration_s", "visual_blob", "audio_blob",
            "fingerprint_digest", "registered_at")
    return {k: w[k] for k in keys}


class RegistryServices(Protocol):
    """What the registry uses: the store, the blob store and the data directory (for the install's identity).

    A ``ServiceContext`` or a ``Platform`` provides them.
    """

    store: Store
    blobs: BlobStore
    data_dir: Path


class Registry:
    """Works registered on one install."""

    def __init__(self, services: RegistryServices) -> None:
        self.store = services.store
        self.blobs = services.blobs
        self.identity = Identity.open(services.data_dir)

    def public_key_pem(self) -> str:
        """The key new certificates are signed with (the install's identity)."""
        return self.identity.export_public("pem")

    # -- register -------------------------------------------------------------
    def register(self, path: str | Path, *, owner: str, title: str, policy: str = "track",
                 licence: str | None = None) -> Work:
        if policy not in POLICIES:
            raise UsageError(f"policy must be one of {', '.join(POLICIES)}, got '{policy}'")
        if not owner.strip() or not title.strip():
            raise UsageError("owner and title must not be empty")
        video = probe(path, require_video=False)
        check_media(video)
        if self.active_by_content(video.sha256) is not None:
            raise ConflictError(f"{Path(video.uri).name} is already registered "
                                f"(work {self.active_by_content(video.sha256)})")
        visual, audio = fingerprints(video)
        if (visual is None or visual.empty) and audio.empty:
            raise UnsupportedMediaError(f"{Path(video.uri).name}: nothing to fingerprint: the picture is blank "
                                        "or black throughout and the sound is silent or missing", path=video.uri)
        written: list[str] = []
        try:
            vkey = self.blobs.put_bytes(visual.to_bytes(), ".npz") if visual is not None and not visual.empty \
                else None
            if vkey:
                written.append(vkey)
            akey = self.blobs.put_bytes(audio.to_bytes(), ".npz") if not audio.empty else None
            if akey:
                written.append(akey)
            return self._commit(video, owner=owner.strip(), title=title.strip(), policy=policy, licence=licence,
                                vkey=vkey, akey=akey,
                                digest=fingerprint_digest(visual if vkey else None, audio if akey else None))
        except BaseException:
            for key in written:  # blobs are content-addressed: keep any another work still uses
                if not self._blob_in_use(key):
                    self.blobs.delete(key)
            raise

    def _blob_in_use(self, key: str) -> bool:
        with self.store.read() as conn:
            return conn.execute(sa.select(works.c.id).where(
                sa.or_(works.c.visual_blob == key, works.c.audio_blob == key)).limit(1)).first() is not None

    def _commit(self, video: Video, *, owner: str, title: str, policy: str, licence: str | None,
                vkey: str | None, akey: str | None, digest: str) -> Work:
        work_id = uuid.uuid4().hex
        now = time.time()
        row = {"id": work_id, "content_sha256": video.sha256, "owner": owner, "title": title,
               "licence": licence, "policy": policy, "status": "active", "duration_s": round(video.duration_s, 6),
               "source_uri": video.uri, "visual_blob": vkey, "audio_blob": akey, "fingerprint_digest": digest,
               "registered_at": round(now, 6)}
        with self.store.tx() as conn:
            entry = CHAIN.append(conn, {"work_id": work_id, "action": "register", "payload": _payload(row),
                                        "created_at": round(now, 6)})
            seq, h = entry["seq"], entry["entry_hash"]
            cert = certs.sign({"work_id": work_id, "content_sha256": video.sha256, "fingerprint_digest": digest,
                               "owner": owner, "title": title, "policy": policy, "licence": licence,
                               "registered_at": _iso(now), "ledger_seq": seq, "ledger_entry_hash": h},
                              self.identity)
            conn.execute(works.insert().values(**row, certificate=cert, ledger_seq=seq))
        return self.get(work_id)

    def checkpoint(self) -> str:
        """The ledger head: changes with every registration or removal."""
        with self.store.read() as conn:
            return CHAIN.head(conn)[1]

    def active_by_content(self, sha: str) -> str | None:
        """The id of the active work with these content bytes, if any."""
        with self.store.read() as conn:
            r = conn.execute(sa.select(works.c.id).where(works.c.content_sha256 == sha,
                                                         works.c.status == "active")).first()
        return None if r is None else str(r.id)

    # -- read -----------------------------------------------------------------
    def get(self, ref: str) -> Work:
        """By id or unique id prefix (≥ 6 characters)."""
        with self.store.read() as conn:
            r = conn.execute(sa.select(works).where(works.c.id == ref)).mappings().first()
            if r is None and len(ref) >= 6:
                rows = conn.execute(sa.select(works).where(works.c.id.like(ref + "%")).limit(2)).mappings().all()
                if len(rows) > 1:
                    raise UsageError(f"work id prefix '{ref}' is ambiguous; give more characters")
                r = rows[0] if rows else None
        if r is None:
            raise NotFoundError(f"no work '{ref}' in the registry (see: vidlens registry list)")
        return Work(**{k: r[k] for k in Work.__dataclass_fields__})

    def list(self, *, include_removed: bool = False) -> list[Work]:
        q = sa.select(works).order_by(works.c.ledger_seq)
        if not include_removed:
            q = q.where(works.c.status == "active")
        with self.store.read() as conn:
            return [Work(**{k: r[k] for k in Work.__dataclass_fields__}) for r in conn.execute(q).mappings()]

    def load_fingerprint(self, work: Work, kind: str, *, as_stored: bool = False) -> Fingerprint | None:
        """The work's ``kind`` fingerprint, checked; read into the current layout for matching (an earlier
        layout is widened), or with ``as_stored`` as its blob holds it, which is what the digest covers."""
        key = work.visual_blob if kind == "visual" else work.audio_blob
        if key is None:
            return None
        try:
            data = self.blobs.get_bytes(key)
        except (OSError, NotFoundError) as exc:
            raise CorruptFingerprintError(f"work {work.id} ('{work.title}'): its {kind} fingerprint blob is "
                                          f"missing ({exc}); remove and re-register the work") from None
        try:
            fp = Fingerprint.from_bytes(data, source=f"work {work.id} {kind} fingerprint")
            checked = fingerprinter(kind).validate(fp)
            return fp if as_stored else checked
        except CorruptFingerprintError as exc:
            raise CorruptFingerprintError(f"{exc.message}; remove and re-register the work") from None

    # -- remove ---------------------------------------------------------------
    def remove(self, ref: str, *, reason: str = "") -> Work:
        work = self.get(ref)
        if work.status != "active":
            raise ConflictError(f"work {work.id} is already removed")
        now = time.time()
        with self.store.tx() as conn:
            CHAIN.append(conn, {"work_id": work.id, "action": "remove", "payload": {"reason": reason},
                                "created_at": round(now, 6)})
            conn.execute(works.update().where(works.c.id == work.id).values(status="removed"))
        return self.get(work.id)

    # -- integrity ------------------------------------------------------------
    def verify(self) -> list[str]:
        """Problems found in the chain, the work rows, their blobs and certificates; empty when all is intact."""
        state: dict[str, dict[str, Any]] = {}
        with self.store.read() as conn:
            chain = CHAIN.verify(conn)
            entries = list(CHAIN.rows(conn))
            rows = {r["id"]: r for r in conn.execute(sa.select(works)).mappings()}
        problems = list(chain.problems)
        hashes = {e["seq"]: e["entry_hash"] for e in entries}
        for e in entries:
            if e["action"] == "register":
                state[e["work_id"]] = {"payload": e["payload"], "status": "active", "seq": e["seq"]}
            elif e["work_id"] in state:
                state[e["work_id"]]["status"] = "removed"
        trusted = [k.public for k in self.identity.trusted()]
        for wid, r in rows.items():
            s = state.get(wid)
            if s is None:
                problems.append(f"work {wid} has no ledger entry")
                continue
            if _payload(dict(r)) != s["payload"] or r["status"] != s["status"]:
                problems.append(f"work {wid} differs from its ledger entry (edited outside the registry)")
            problems += _certificate_problems(wid, r["certificate"], hashes.get(s["seq"]), trusted)
        for wid in state.keys() - rows.keys():
            problems.append(f"work {wid} is in the ledger but its row is gone")
        for work in self.list():
            try:
                digest = fingerprint_digest(self.load_fingerprint(work, "visual", as_stored=True),
                                            self.load_fingerprint(work, "audio", as_stored=True))
            except CorruptFingerprintError as exc:
                problems.append(exc.message)
                continue
            if digest != work.fingerprint_digest:
                problems.append(f"work {work.id}: its fingerprint blobs do not match the registered digest")
        return problems


def _certificate_problems(work_id: str, cert: Any, entry_hash: str | None, trusted: list[Any]) -> list[str]:
    """A stored certificate must verify under a key this install trusts and name its ledger entry."""
    try:
        body = certs.verify(cert, trusted)
    except certs.CertificateError as exc:
        return [f"work {work_id}: its certificate does not verify under this install's keys ({exc.message})"]
    if body.get("work_id") != work_id or body.get("ledger_entry_hash") != entry_hash:
        return [f"work {work_id}: its certificate names another work or ledger entry"]
    return []


def dumps_certificate(work: Work) -> str:
    return json.dumps(work.certificate, indent=2, sort_keys=True, ensure_ascii=False)
