"""The face watch-list (the deep-synthesis rules' "blacklist"): faces to flag wherever they appear.

Adding reads a face file (an image or a video of one person, exactly as a digital human's face
sample is read: ``vidlens.humans.samples.face_samples``), then stores the entry and appends a
``watchlist.add`` entry to the audit chain in ONE transaction, with who added it, why, the source
file's SHA-256 and the digest of the stored embeddings. Removing deletes the entry and appends
``watchlist.remove`` with its reason in the same transaction, so the chain holds the whole history
and nothing is half-done. A listed face is found by ``matcher()`` (a ``FaceMatcher`` at the
calibrated face threshold of ``[humans]``), which a file scan and the library check of analysed
uploads call; a live camera gets the same faces as arrays (``templates``) and matches them with the
same ``FaceMatcher`` in its own process. Each sighting on a camera appends ``watchlist.seen``
(``record_sighting``) in the transaction that stores the camera's event.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from vidlens.errors import ConflictError, NotFoundError, UsageError
from vidlens.govern import audit
from vidlens.govern.tables import watchlist
from vidlens.hashing import sha256_bytes
from vidlens.humans.embedders import Embedders
from vidlens.humans.matching import FaceMatcher
from vidlens.humans.settings import HumansSettings
from vidlens.index import HotIndex
from vidlens.services import ServiceContext
from vidlens.store.db import Store
from vidlens.vectors import VectorIndex

ADD, REMOVE, SEEN = "watchlist.add", "watchlist.remove", "watchlist.seen"
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class WatchEntry:
    id: str
    name: str
    reason: str
    source_name: str
    source_sha256: str
    faces: int
    added_at: float
    added_by: str | None
    audit_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"entry_id": self.id, "name": self.name, "reason": self.reason, "source_name": self.source_name,
                "source_sha256": self.source_sha256, "faces": self.faces, "added_at": self.added_at,
                "added_by": self.added_by, "audit_seq": self.audit_seq}


@dataclass(frozen=True, slots=True)
class WatchMatch:
    entry: WatchEntry
    start: float
    end: float
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry.id, "name": self.entry.name, "start": round(self.start, 3),
                "end": round(self.end, 3), "score": round(self.score, 4)}


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_TEXT or not value.isprintable():
        raise UsageError(f"the watch-list needs a printable {what} of 1 to {MAX_TEXT} characters")
    return value


class WatchList:
    """The listed faces of one install; ``who`` arguments are ``vidlens.govern.audit.record``'s keywords."""

    def __init__(self, store: Store, embedders: Embedders, settings: HumansSettings) -> None:
        self.store = store
        self.embedders = embedders
        self.settings = settings
        self._hot = HotIndex(lambda: (self.version(), self._build))

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> WatchList:
        humans = ctx.service("humans")  # one face model and one calibrated threshold for every face consumer
        return cls(ctx.store, humans.embedders, humans.settings)

    # -- change -------------------------------------------------------------------------------
    def add(self, file: str | Path, /, *, name: str, reason: str, **who: Any) -> WatchEntry:
        from vidlens.humans.samples import face_samples

        name, reason = _text(name, "name"), _text(reason, "reason (--reason)")
        found = face_samples(file, self.embedders)  # refuses a file with no usable face, saying why
        blob = np.stack([s.embedding for s in found]).astype(np.float32).tobytes()
        source = found[0]
        with self.store.read() as conn:
            clash = conn.execute(sa.select(watchlist.c.id).where(
                watchlist.c.source_sha256 == source.source_sha256)).first()
        if clash is not None:
            raise ConflictError(f"{source.source_name} is already on the watch-list (entry {clash.id})")
        entry_id, now = uuid.uuid4().hex, round(time.time(), 6)
        with self.store.tx() as conn:
            logged = audit.record(conn, ADD, f"watchlist:{entry_id}", {
                "name": name, "reason": reason, "source_name": source.source_name,
                "source_sha256": source.source_sha256, "faces": len(found), "model": source.model,
                "embeddings_sha256": sha256_bytes(blob)}, **who)
            conn.execute(watchlist.insert().values(
                id=entry_id, name=name, reason=reason, source_name=source.source_name,
                source_sha256=source.source_sha256, model=source.model, embeddings=blob, added_at=now,
                added_by=who.get("actor"), audit_seq=logged["seq"]))
        return self.get(entry_id)

    def remove(self, ref: str, *, reason: str, **who: Any) -> WatchEntry:
        """Take a face off the list; the removal and its reason are kept in the audit chain."""
        reason = _text(reason, "reason (--reason)")
        entry = self.get(ref)
        with self.store.tx() as conn:
            gone = conn.execute(sa.delete(watchlist).where(watchlist.c.id == entry.id)).rowcount
            if not gone:
                raise NotFoundError(f"watch-list entry {entry.id} was removed meanwhile")
            audit.record(conn, REMOVE, f"watchlist:{entry.id}", {"name": entry.name, "reason": reason,
                                                                 "added_in": entry.audit_seq}, **who)
        return entry

    # -- read ---------------------------------------------------------------------------------
    def get(self, ref: str) -> WatchEntry:
        """By id or unique id prefix (6 characters or more)."""
        cols = [c for c in watchlist.c if c.name != "embeddings"]
        with self.store.read() as conn:
            rows = conn.execute(sa.select(*cols, sa.func.length(watchlist.c.embeddings).label("size"))
                                .where(watchlist.c.id == ref)).mappings().all()
            if not rows and len(ref) >= 6:
                rows = conn.execute(sa.select(*cols, sa.func.length(watchlist.c.embeddings).label("size"))
                                    .where(watchlist.c.id.like(ref.replace("%", "").replace("_", "") + "%"))
                                    .limit(2)).mappings().all()
        if len(rows) > 1:
            raise UsageError(f"watch-list id prefix '{ref}' is ambiguous; give more characters")
        if not rows:
            raise NotFoundError(f"no watch-list entry '{ref}' (see: vidlens watchlist list)")
        return self._entry(rows[0])

    def list(self) -> list[WatchEntry]:
        cols = [c for c in watchlist.c if c.name != "embeddings"]
        with self.store.read() as conn:
            return [self._entry(r) for r in conn.execute(
                sa.select(*cols, sa.func.length(watchlist.c.embeddings).label("size"))
                .order_by(watchlist.c.added_at, watchlist.c.id)).mappings()]

    @staticmethod
    def _entry(r: Any) -> WatchEntry:
        return WatchEntry(r["id"], r["name"], r["reason"], r["source_name"], r["source_sha256"],
                          int(r["size"]) // (128 * 4), r["added_at"], r["added_by"], r["audit_seq"])

    # -- matching -----------------------------------------------------------------------------
    def matcher(self) -> FaceMatcher:
        """The listed faces as a ``FaceMatcher`` (refs: entry ids); rebuilt when the list changes."""
        return FaceMatcher(self._hot.get(), self.settings.face_threshold, "entry", self.embedders.face_model_id)

    def templates(self) -> tuple[list[str], np.ndarray]:
        """(entry id per row, unit face embeddings (N, 128)) of the current face model: the listed faces for a
        matcher away from the database (a live camera's process)."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(watchlist.c.id, watchlist.c.model, watchlist.c.embeddings)
                                .order_by(watchlist.c.id)).all()
        model = self.embedders.face_model_id if rows else ""
        ids: list[str] = []
        vectors = [np.zeros((0, 128), np.float32)]
        for r in rows:
            if r.model == model:
                v = np.frombuffer(r.embeddings, np.float32).reshape(-1, 128)
                ids += [r.id] * len(v)
                vectors.append(v)
        return ids, np.concatenate(vectors)

    def version(self) -> str:
        """A digest of the listed entries: it changes whenever one is added or removed."""
        with self.store.read() as conn:
            ids = [r.id for r in conn.execute(sa.select(watchlist.c.id).order_by(watchlist.c.id))]
        return sha256_bytes("\n".join(ids).encode())

    def _build(self) -> VectorIndex:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(watchlist.c.id, watchlist.c.model, watchlist.c.embeddings)
                                .order_by(watchlist.c.id)).all()
        checkpoint = sha256_bytes("\n".join(r.id for r in rows).encode())
        model = self.embedders.face_model_id if rows else ""
        vectors = ((f"{r.id}:{i}", v, {"entry": r.id}) for r in rows if r.model == model
                   for i, v in enumerate(np.frombuffer(r.embeddings, np.float32).reshape(-1, 128)))
        return VectorIndex.build(vectors, checkpoint=checkpoint)

    def scan(self, path: str | Path, progress: Callable[[float], None] | None = None) -> list[WatchMatch]:
        """Every moment a listed face is seen in ``path`` (a video or an image), in time order."""
        from vidlens.humans.scan import face_moments
        from vidlens.media.probe import probe

        matcher = self.matcher()
        video = probe(path, require_video=False)
        if not video.width or not len(matcher):
            return []
        found = face_moments(video, self.embedders, matcher, self.settings.scan_fps, self.settings.min_face_px,
                             progress, self.settings.detect_side, self.settings.face_reembed_s,
                             self.settings.skip_deblocking)
        entries = {e.id: e for e in self.list()}
        return sorted((WatchMatch(entries[ref], s, e, score) for ref, ms in found.items() if ref in entries
                       for s, e, score in ms), key=lambda m: (m.start, m.entry.id))

    def library(self, video_id: str | None = None) -> dict[str, list[WatchMatch]]:
        """``{video_id: [WatchMatch, ...]}`` over the analysed library (uploads once analysed), no decoding."""
        from vidlens.humans.library import people_matches

        entries = {e.id: e for e in self.list()}
        return {vid: [WatchMatch(entries[h.ref], s, e, h.score) for s, e, h in ms if h.ref in entries]
                for vid, ms in people_matches(self.store, self.matcher(), video_id).items()}


def record_sighting(conn: sa.Connection, entry_id: str, detail: dict[str, Any], **who: Any) -> None:
    """Append ``watchlist.seen`` for entry ``entry_id`` (a listed face seen live) in the caller's transaction."""
    audit.record(conn, SEEN, f"watchlist:{entry_id}", detail, **who)
