"""The registry of protected works: append-only, hash-chained, signed.

Registering fingerprints the video (picture and sound, one call each), writes
the fingerprints as blobs, then in ONE transaction appends a ledger entry,
inserts the work row and stores its signed certificate. If anything fails the
blobs just written are deleted, so no half-registered work is ever visible.
Removal is another ledger entry; nothing is rewritten in place. ``verify``
recomputes the chain and checks every work row against it, so an edit made
behind the registry's back (SQL UPDATE, a swapped blob) is reported.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.errors import ConflictError, NotFoundError, UnsupportedMediaError, UsageError
from vidlens.media.probe import probe
from vidlens.protect import certificate as certs
from vidlens.protect.fingerprint import CorruptFingerprintError, Fingerprint, fingerprinter
from vidlens.protect.tables import ledger, works
from vidlens.types import Video

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from vidlens.platform import Platform

POLICIES = ("block", "monetise", "track")
GENESIS = "0" * 64
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
    h = hashlib.sha256()
    for fp in (visual, audio):
        h.update((fp.digest() if fp is not None else "-").encode())
    return h.hexdigest()


def entry_hash(seq: int, work_id: str, action: str, payload: dict[str, Any], prev: str, created_at: float) -> str:
    doc = {"seq": seq, "work_id": work_id, "action": action, "payload": payload, "prev_hash": prev,
           "created_at": round(created_at, 6)}
    return hashlib.sha256(certs.canonical(doc)).hexdigest()


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


class Registry:
    """Works registered on one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.store = platform.store
        self.blobs = platform.blobs
        self.key_path = platform.data_dir / "protect" / "signing_key.pem"

    # -- keys -----------------------------------------------------------------
    def signing_key(self) -> Ed25519PrivateKey:
        return certs.load_or_create_key(self.key_path)

    def public_key_pem(self) -> str:
        return certs.public_pem(self.signing_key().public_key())

    # -- register -------------------------------------------------------------
    def register(self, path: str | Path, *, owner: str, title: str, policy: str = "track",
                 licence: str | None = None) -> Work:
        if policy not in POLICIES:
            raise UsageError(f"policy must be one of {', '.join(POLICIES)}, got '{policy}'")
        if not owner.strip() or not title.strip():
            raise UsageError("owner and title must not be empty")
        video = probe(path, require_video=False)
        check_media(video)
        if self._active_by_content(video.sha256) is not None:
            raise ConflictError(f"{Path(video.uri).name} is already registered "
                                f"(work {self._active_by_content(video.sha256)})")
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
            seq, prev = self._head(conn)
            seq += 1
            payload = _payload(row)
            h = entry_hash(seq, work_id, "register", payload, prev, now)
            conn.execute(ledger.insert().values(seq=seq, work_id=work_id, action="register", payload=payload,
                                                prev_hash=prev, entry_hash=h, created_at=round(now, 6)))
            cert = certs.sign({"work_id": work_id, "content_sha256": video.sha256, "fingerprint_digest": digest,
                               "owner": owner, "title": title, "policy": policy, "licence": licence,
                               "registered_at": _iso(now), "ledger_seq": seq, "ledger_entry_hash": h},
                              self.signing_key())
            conn.execute(works.insert().values(**row, certificate=cert, ledger_seq=seq))
        return self.get(work_id)

    @staticmethod
    def _head(conn: sa.Connection) -> tuple[int, str]:
        last = conn.execute(sa.select(ledger.c.seq, ledger.c.entry_hash).order_by(ledger.c.seq.desc())
                            .limit(1)).first()
        return (0, GENESIS) if last is None else (int(last.seq), str(last.entry_hash))

    def checkpoint(self) -> str:
        """The ledger head: changes with every registration or removal."""
        with self.store.read() as conn:
            return self._head(conn)[1]

    def _active_by_content(self, sha: str) -> str | None:
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

    def load_fingerprint(self, work: Work, kind: str) -> Fingerprint | None:
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
            return fingerprinter(kind).validate(fp)
        except CorruptFingerprintError as exc:
            raise CorruptFingerprintError(f"{exc.message}; remove and re-register the work") from None

    # -- remove ---------------------------------------------------------------
    def remove(self, ref: str, *, reason: str = "") -> Work:
        work = self.get(ref)
        if work.status != "active":
            raise ConflictError(f"work {work.id} is already removed")
        now = time.time()
        with self.store.tx() as conn:
            seq, prev = self._head(conn)
            seq += 1
            payload = {"reason": reason}
            h = entry_hash(seq, work.id, "remove", payload, prev, now)
            conn.execute(ledger.insert().values(seq=seq, work_id=work.id, action="remove", payload=payload,
                                                prev_hash=prev, entry_hash=h, created_at=round(now, 6)))
            conn.execute(works.update().where(works.c.id == work.id).values(status="removed"))
        return self.get(work.id)

    # -- integrity ------------------------------------------------------------
    def verify(self) -> list[str]:
        """Problems found in the chain and the work rows; empty when all is intact."""
        problems: list[str] = []
        state: dict[str, dict[str, Any]] = {}
        prev = GENESIS
        with self.store.read() as conn:
            entries = conn.execute(sa.select(ledger).order_by(ledger.c.seq)).mappings().all()
            rows = {r["id"]: r for r in conn.execute(sa.select(works)).mappings()}
        for i, e in enumerate(entries, start=1):
            if e["seq"] != i:
                problems.append(f"ledger entry {i} is missing (found seq {e['seq']})")
            if e["prev_hash"] != prev:
                problems.append(f"ledger entry {e['seq']} does not chain to the entry before it")
            want = entry_hash(e["seq"], e["work_id"], e["action"], e["payload"], e["prev_hash"], e["created_at"])
            if want != e["entry_hash"]:
                problems.append(f"ledger entry {e['seq']} was altered (hash mismatch)")
            prev = e["entry_hash"]
            if e["action"] == "register":
                state[e["work_id"]] = {"payload": e["payload"], "status": "active", "seq": e["seq"]}
            elif e["work_id"] in state:
                state[e["work_id"]]["status"] = "removed"
        for wid, r in rows.items():
            s = state.get(wid)
            if s is None:
                problems.append(f"work {wid} has no ledger entry")
                continue
            if _payload(dict(r)) != s["payload"] or r["status"] != s["status"]:
                problems.append(f"work {wid} differs from its ledger entry (edited outside the registry)")
        for wid in state.keys() - rows.keys():
            problems.append(f"work {wid} is in the ledger but its row is gone")
        for work in self.list():
            try:
                digest = fingerprint_digest(self.load_fingerprint(work, "visual"), self.load_fingerprint(work, "audio"))
            except CorruptFingerprintError as exc:
                problems.append(exc.message)
                continue
            if digest != work.fingerprint_digest:
                problems.append(f"work {work.id}: its fingerprint blobs do not match the registered digest")
        return problems


def dumps_certificate(work: Work) -> str:
    return json.dumps(work.certificate, indent=2, sort_keys=True, ensure_ascii=False)
