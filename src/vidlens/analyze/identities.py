"""People across the library: identities, the ``identities`` projection that links each video's people to
them, and the gallery operations a person performs (name, merge, split).

Each video's faces analyzer clusters face tracks into people (``people``: one unit-length embedding
each). The projection links every person of a newly stored document to the identity whose centroid
(mean of its members' embeddings) is nearest, when the cosine similarity reaches ``MATCH_THRESHOLD``
(the faces analyzer's default ``identity_threshold``), else to a new identity; two people of one video
never share an identity, since the analyzer already judged them different. A gallery name found by the
analyzer links to the identity of that name. Names, merges and splits are a person's decisions: names
live on the identity, and the links a person named, merged or split are ``pinned``, so rebuilding the
projection keeps them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vidlens.analyze.tables import identities, identity_faces, people, tracks
from vidlens.errors import NotFoundError, UsageError
from vidlens.services import ServiceContext
from vidlens.store.db import Store
from vidlens.store.schema import videos

MATCH_THRESHOLD = 0.45  # cosine; the faces analyzer's identity_threshold, the similarity that names a face


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


def _vector(values: Any) -> np.ndarray | None:
    if not isinstance(values, list) or not values:
        return None
    try:
        return _unit(np.asarray(values, np.float64))
    except (TypeError, ValueError):
        return None


def _centroids(conn: Connection, exclude_video: str) -> tuple[list[int], np.ndarray | None]:
    """Identity ids and their unit centroids, from every linked person outside ``exclude_video`` (and its pins)."""
    rows = conn.execute(
        sa.select(identity_faces.c.identity_id, people.c.embedding)
        .join(people, sa.and_(people.c.video_id == identity_faces.c.video_id,
                              people.c.person_id == identity_faces.c.person_id))
        .where(people.c.embedding.is_not(None))
        .where(sa.or_(identity_faces.c.video_id != exclude_video, identity_faces.c.pinned.is_(True)))).all()
    sums: dict[int, np.ndarray] = {}
    for ident, blob in rows:
        v = np.frombuffer(blob, "<f4").astype(np.float64)
        sums[ident] = sums.get(ident, 0) + v
    if not sums:
        return [], None
    ids = sorted(sums)
    return ids, np.stack([_unit(sums[i]) for i in ids])


def _named(conn: Connection, name: str) -> int:
    found = conn.execute(sa.select(identities.c.id).where(identities.c.name == name)
                         .order_by(identities.c.id).limit(1)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(identities.insert().values(name=name[:255], created_at=time.time())).inserted_primary_key[0])


def apply_identities(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    """Link each person of the document to an identity (nearest centroid, gallery name, or a new one)."""
    pinned = dict(conn.execute(sa.select(identity_faces.c.person_id, identity_faces.c.identity_id)
                               .where(identity_faces.c.video_id == video_id,
                                      identity_faces.c.pinned.is_(True))).all())
    used = set(pinned.values())
    ids, cents = _centroids(conn, video_id)
    candidates = []
    for p in document.get("people") or []:
        pid = str(p.get("person_id"))
        if pid in pinned:
            continue
        name = p.get("identity") if isinstance(p.get("identity"), str) and p["identity"].strip() else None
        candidates.append((pid, name, _vector(p.get("embedding"))))
    # strongest matches first, so the best-fitting person of a video takes an identity
    scored = []
    for pid, name, v in candidates:
        sims = cents @ v if cents is not None and v is not None and len(v) == cents.shape[1] else None
        scored.append((float(sims.max()) if sims is not None else -1.0, pid, name, sims))
    rows = []
    for best, pid, name, sims in sorted(scored, key=lambda s: -s[0]):
        ident, sim = None, None
        if name is not None:
            ident = _named(conn, name)
        elif sims is not None:
            for i in np.argsort(-sims):
                if sims[i] < MATCH_THRESHOLD:
                    break
                if ids[i] not in used:
                    ident, sim = ids[i], round(float(sims[i]), 4)
                    break
        if ident is None:
            ident = int(conn.execute(identities.insert().values(name=None, created_at=time.time()))
                        .inserted_primary_key[0])
        used.add(ident)
        rows.append(dict(video_id=video_id, person_id=pid, identity_id=ident, similarity=sim, pinned=False))
    if rows:
        conn.execute(identity_faces.insert(), rows)


def clear_identities(conn: Connection, video_id: str) -> None:
    """Drop the video's automatic links (pins stay), then unnamed identities left with no one."""
    conn.execute(identity_faces.delete().where(identity_faces.c.video_id == video_id,
                                               identity_faces.c.pinned.is_(False)))
    _drop_orphans(conn)


def _drop_orphans(conn: Connection) -> None:
    linked = sa.select(identity_faces.c.identity_id).distinct()
    conn.execute(identities.delete().where(identities.c.name.is_(None), identities.c.id.not_in(linked)))


class Identities:
    """The people gallery: every identity with its faces and appearances; naming, merging and splitting."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> Identities:
        return cls(ctx.store)

    def list(self, *, q: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Identities seen in at least one video, most screen time first."""
        stats = (sa.select(identity_faces.c.identity_id.label("iid"),
                           sa.func.count(sa.distinct(identity_faces.c.video_id)).label("videos"),
                           sa.func.count().label("appearances"),
                           sa.func.sum(people.c.screen_time_s).label("screen_time_s"),
                           sa.func.max(people.c.faces).label("most_faces"))
                 .join(people, sa.and_(people.c.video_id == identity_faces.c.video_id,
                                       people.c.person_id == identity_faces.c.person_id))
                 .group_by(identity_faces.c.identity_id).subquery())
        query = (sa.select(identities.c.id, identities.c.name, stats.c.videos, stats.c.appearances,
                           stats.c.screen_time_s)
                 .join(stats, stats.c.iid == identities.c.id)
                 .order_by(stats.c.screen_time_s.desc(), identities.c.id).limit(limit).offset(offset))
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(identities.c.name.ilike(pattern, escape="\\"))
        with self.store.read() as conn:
            rows = conn.execute(query).all()
            thumbs = self._thumbnails(conn, [r.id for r in rows])
        return [{"id": r.id, "name": r.name, "videos": r.videos, "appearances": r.appearances,
                 "screen_time_s": round(float(r.screen_time_s or 0), 3), "thumbnail_blob": thumbs.get(r.id)}
                for r in rows]

    @staticmethod
    def _thumbnails(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
        """The face thumbnail of each identity's appearance with the most detections."""
        if not ids:
            return {}
        rows = conn.execute(sa.select(identity_faces.c.identity_id, people.c.thumbnail_blob, people.c.faces)
                            .join(people, sa.and_(people.c.video_id == identity_faces.c.video_id,
                                                  people.c.person_id == identity_faces.c.person_id))
                            .where(identity_faces.c.identity_id.in_(ids), people.c.thumbnail_blob.is_not(None))
                            .order_by(people.c.faces.desc())).all()
        out: dict[int, str] = {}
        for ident, blob, _faces in rows:
            out.setdefault(ident, blob)
        return out

    def get(self, identity_id: int) -> dict[str, Any]:
        """One identity with each appearance: video, title, face thumbnail, spans on screen."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(identities).where(identities.c.id == identity_id)).first()
            if row is None:
                raise NotFoundError(f"no person {identity_id} in the gallery")
            apps = conn.execute(
                sa.select(identity_faces.c.video_id, identity_faces.c.person_id, identity_faces.c.pinned,
                          identity_faces.c.similarity, people.c.screen_time_s, people.c.first_s,
                          people.c.best_t, people.c.thumbnail_blob, people.c.faces,
                          sa.func.coalesce(videos.c.title, videos.c.filename).label("title"))
                .join(people, sa.and_(people.c.video_id == identity_faces.c.video_id,
                                      people.c.person_id == identity_faces.c.person_id))
                .join(videos, videos.c.id == identity_faces.c.video_id)
                .where(identity_faces.c.identity_id == identity_id)
                .order_by(people.c.screen_time_s.desc())).all()
            spans = conn.execute(
                sa.select(tracks.c.video_id, tracks.c.ref, tracks.c.start_s, tracks.c.end_s)
                .where(tracks.c.kind == "person",
                       sa.tuple_(tracks.c.video_id, tracks.c.ref).in_([(a.video_id, a.person_id) for a in apps]))
                .order_by(tracks.c.start_s)).all() if apps else []
        by = {}
        for s in spans:
            by.setdefault((s.video_id, s.ref), []).append({"start_s": s.start_s, "end_s": s.end_s})
        appearances = [{"video_id": a.video_id, "person_id": a.person_id, "title": a.title, "pinned": bool(a.pinned),
                        "similarity": a.similarity, "screen_time_s": a.screen_time_s, "first_s": a.first_s,
                        "best_t": a.best_t, "faces": a.faces, "thumbnail_blob": a.thumbnail_blob,
                        "spans": by.get((a.video_id, a.person_id), [])} for a in apps]
        return {"id": row.id, "name": row.name, "appearances": appearances,
                "thumbnail_blob": next((a["thumbnail_blob"] for a in appearances if a["thumbnail_blob"]), None)}

    def rename(self, identity_id: int, name: str | None) -> dict[str, Any]:
        """Give a person a name (``None`` or blank: forget it); every video and search follow at once."""
        clean = (name or "").strip() or None
        if clean is not None and len(clean) > 255:
            raise UsageError("a name is at most 255 characters")
        with self.store.tx() as conn:
            if conn.execute(identities.update().where(identities.c.id == identity_id)
                            .values(name=clean)).rowcount == 0:
                raise NotFoundError(f"no person {identity_id} in the gallery")
            if clean is not None:  # a person vouched for these faces: rebuilding keeps them together
                conn.execute(identity_faces.update().where(identity_faces.c.identity_id == identity_id)
                             .values(pinned=True))
        return self.get(identity_id)

    def merge(self, identity_id: int, others: Sequence[int]) -> dict[str, Any]:
        """Make ``others`` the same person as ``identity_id``: their faces move over (pinned), they go."""
        others = sorted({int(o) for o in others} - {identity_id})
        if not others:
            raise UsageError("name at least one other person to merge into this one")
        with self.store.tx() as conn:
            found = dict(conn.execute(sa.select(identities.c.id, identities.c.name)
                                      .where(identities.c.id.in_([identity_id, *others]))).all())
            missing = sorted({identity_id, *others} - set(found))
            if missing:
                raise NotFoundError(f"no person {', '.join(map(str, missing))} in the gallery")
            conn.execute(identity_faces.update().where(identity_faces.c.identity_id.in_([identity_id, *others]))
                         .values(identity_id=identity_id, pinned=True))
            if found[identity_id] is None:
                name = next((found[o] for o in others if found[o]), None)
                conn.execute(identities.update().where(identities.c.id == identity_id).values(name=name))
            conn.execute(identities.delete().where(identities.c.id.in_(others)))
        return self.get(identity_id)

    def split(self, identity_id: int, video_id: str, person_id: str) -> dict[str, Any]:
        """Take one appearance out of a person into a new, unnamed person of its own (pinned)."""
        with self.store.tx() as conn:
            link = conn.execute(sa.select(identity_faces.c.identity_id)
                                .where(identity_faces.c.video_id == video_id,
                                       identity_faces.c.person_id == person_id)).scalar()
            if link != identity_id:
                raise NotFoundError(f"person {identity_id} has no appearance {person_id} in video {video_id[:12]}")
            new = int(conn.execute(identities.insert().values(name=None, created_at=time.time()))
                      .inserted_primary_key[0])
            # both sides are a person's decision now: the rest stays together, the one taken out stays out
            conn.execute(identity_faces.update().where(identity_faces.c.identity_id == identity_id)
                         .values(pinned=True))
            conn.execute(identity_faces.update().where(identity_faces.c.video_id == video_id,
                                                       identity_faces.c.person_id == person_id)
                         .values(identity_id=new, pinned=True, similarity=None))
            _drop_orphans(conn)
        return self.get(new)

    def of_video(self, video_id: str) -> dict[str, dict[str, Any]]:
        """``person_id`` → ``{"identity_id", "name"}`` for one video's people."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(identity_faces.c.person_id, identities.c.id, identities.c.name)
                                .join(identities, identities.c.id == identity_faces.c.identity_id)
                                .where(identity_faces.c.video_id == video_id)).all()
        return {r.person_id: {"identity_id": r.id, "name": r.name} for r in rows}


def name_hits(conn: Connection, words: Sequence[str], *, video_id: str | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    """Search hits for people whose given name holds every word: one per span on screen."""
    if not words:
        return []
    query = (sa.select(tracks.c.video_id, identities.c.name.label("text"), tracks.c.start_s, tracks.c.end_s,
                       sa.func.coalesce(videos.c.title, videos.c.filename).label("title"))
             .select_from(identity_faces.join(identities, identities.c.id == identity_faces.c.identity_id)
                          .join(tracks, sa.and_(tracks.c.video_id == identity_faces.c.video_id,
                                                tracks.c.kind == "person", tracks.c.ref == identity_faces.c.person_id))
                          .join(videos, videos.c.id == identity_faces.c.video_id))
             .order_by(tracks.c.video_id, tracks.c.start_s).limit(limit))
    for w in words:
        pattern = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(identities.c.name.ilike(pattern, escape="\\"))
    if video_id:
        query = query.where(tracks.c.video_id == video_id)
    return [{"analyzer": "faces", "kind": "people", **dict(r._mapping)} for r in conn.execute(query)]
