"""Find: hybrid search over moments (words + meaning + picture + face, fused by rank) and similar videos.

Each ranker proposes up to ``candidates`` moments, best first: **words** (FTS5's bm25 on SQLite,
``ts_rank_cd`` on PostgreSQL, each over a first cut of the moments holding the most query words, the
rarest first, over jieba-segmented terms, any query word matching), **meaning**
(multilingual-e5 text vectors: pgvector's HNSW on PostgreSQL with the extension, else an HNSW file),
**picture** (keyframe features of the query image and its mirror) and **face** (SFace vectors of the
largest face). Reciprocal rank fusion adds ``1 / (rrf_k + rank)`` over the rankers that found a
moment; every hit carries what each of them saw (its evidence). Filters are applied to the fused
candidates in one query, then the page is cut. The statements of one search share one connection and
transaction: on PostgreSQL each round trip to the server is a wait for its process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa

from vidlens.analyze.tables import documents, identities, identity_faces
from vidlens.errors import NotFoundError, UsageError
from vidlens.index import CorruptIndexError
from vidlens.search import backends
from vidlens.search.fts_words import IndexStats, fts_words
from vidlens.search.images import QueryImage, embed, read_rgb
from vidlens.search.projections import TEXT_KINDS
from vidlens.search.settings import SearchSettings
from vidlens.search.tables import moments, text_vectors
from vidlens.search.text import MAX_TERMS, TextEmbedder, query_terms, query_text, terms
from vidlens.vectors import VectorIndex
from vidlens.store.schema import videos

if TYPE_CHECKING:
    from vidlens.blobs.local import BlobStore
    from vidlens.services import ServiceContext
    from vidlens.store.db import Store

log = logging.getLogger(__name__)
MAX_LIMIT = 200
MAX_OFFSET = 10_000
RANKERS = ("words", "meaning", "picture", "face")
SOURCES = ("video", "event")  # what a moment is of: a library video, or a camera event
WORD_POOL = 4  # PostgreSQL scores at most this many times the candidates by ts_rank_cd (backends.pg_words)
WORD_STATS_TTL_S = 600.0  # how long PostgreSQL's word statistics are kept before they are read again
# SQLite scores at most this many times the candidates by bm25 (fts_words): filling its first cut reads the
# word index in rowid order, so a smaller cut stops sooner (measured at 1,000,000 moments: docs/benchmarks.md)
FTS_POOL = 2


@dataclass(frozen=True)
class Filters:
    """Narrow hits: a person (identity or person id) or a label (object or tag; an event's own label) on
    screen during the moment, the moment's language, when the video was added or the event happened (epoch
    seconds), the video's duration (seconds), the source (videos or camera events) and the camera."""

    person: str | None = None
    label: str | None = None
    language: str | None = None
    added_after: float | None = None
    added_before: float | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    video_id: str | None = None
    source: str | None = None  # "video" | "event"
    camera: str | None = None

    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


Ranked = list[tuple[int, dict[str, Any]]]  # (moment id, evidence), best first


class Search:
    def __init__(self, store: Store, blobs: BlobStore, data_dir: Path, settings: SearchSettings) -> None:
        self.store, self.blobs, self.settings = store, blobs, settings
        self.index_dir = Path(data_dir) / "search"
        self._embedder: TextEmbedder | None = None
        self._lock = threading.RLock()
        self._text_index: VectorIndex | None = None
        self._image_index: VectorIndex | None = None
        self._faces: tuple[int, np.ndarray, np.ndarray] | None = None  # (count, moment ids, vectors)
        self._fts: bool | None = None
        self._fts_stats = IndexStats()  # the SQLite word index's counts, kept between queries
        self._pgvec: bool | None = None
        self._pg_iterative = False  # pgvector 0.8: an HNSW scan can go on past hnsw.ef_search
        self._synced: tuple[Any, ...] | None = None
        self._word_stats: tuple[float, backends.WordStats] | None = None  # (read at, monotonic s; stats)

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> Search:
        return cls(ctx.store, ctx.blobs, ctx.data_dir, ctx.section(SearchSettings))

    @property
    def embedder(self) -> TextEmbedder:
        if self._embedder is None:
            self._embedder = TextEmbedder.shared(self.settings.text_model)
        return self._embedder

    # -- derived indexes ------------------------------------------------------------
    def _backends(self) -> None:
        if self._fts is not None:
            return
        with self._lock, self.store.tx() as conn:
            if self.store.dialect == "sqlite":
                self._fts, self._pgvec = backends.ensure_fts(conn), False
                if not self._fts:
                    log.warning("this SQLite has no FTS5: words are not searched, only meaning")
            else:
                version = backends.ensure_pg(conn, 384)
                self._fts, self._pgvec = False, version is not None
                self._pg_iterative = version is not None and version >= backends.ITERATIVE_SINCE
                if self._pgvec:
                    backends.fill_pgvec(conn)

    def refresh(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Embed the texts of moments that have no vector for this model yet; returns how many."""
        self._backends()
        model = self.embedder.name
        tv = text_vectors.alias("tv")
        missing = (sa.select(moments.c.text_key, sa.func.min(moments.c.text)).where(moments.c.text_key.is_not(None))
                   .where(~sa.exists().where(tv.c.model == model, tv.c.key == moments.c.text_key))
                   .group_by(moments.c.text_key))
        with self.store.read() as conn:
            todo = [(k, t) for k, t in conn.execute(missing)]
        for i in range(0, len(todo), 64):
            chunk = todo[i:i + 64]
            vecs = self.embedder.passages([t for _, t in chunk])
            with self.store.tx() as conn:
                have = set(conn.execute(sa.select(text_vectors.c.key).where(
                    text_vectors.c.model == model, text_vectors.c.key.in_([k for k, _ in chunk]))).scalars())
                rows = [{"model": model, "key": k, "vector": v.astype("<f4").tobytes()}
                        for (k, _), v in zip(chunk, vecs, strict=True) if k not in have]
                if rows:
                    conn.execute(text_vectors.insert(), rows)
                    if self._pgvec:
                        backends.pg_insert_vectors(conn, [(model, r["key"], np.frombuffer(r["vector"], "<f4"))
                                                          for r in rows])
            if progress is not None:
                progress(min(i + 64, len(todo)), len(todo))
        return len(todo)

    @staticmethod
    def _marker(conn: Any) -> tuple[Any, ...]:
        """A cheap sign that the moments changed, read from two indexes in one statement rather than by
        counting a million rows: the newest moment id and the number of stored documents. (A SQLite
        re-analysis that reuses exactly the same ids keeps both; ``refresh()``, which ``vidlens search``
        calls first, checks every moment.)"""
        newest = sa.select(sa.func.max(moments.c.id)).scalar_subquery()
        stored = sa.select(sa.func.count()).select_from(documents).scalar_subquery()
        return tuple(conn.execute(sa.select(newest, stored)).one())

    def _synced_text_vectors(self, conn: Any) -> VectorIndex | None:
        """Text vectors for every moment, embedding new texts first only when the moments changed (``conn``
        tells): the HNSW file's index, or None where pgvector holds them. The embedding commits on
        connections of its own, which ``conn`` sees on PostgreSQL (read committed); on SQLite its moments are
        the same and the text index is in memory."""
        marker = self._marker(conn)
        if marker != self._synced or (self._text_index is None and not self._pgvec):
            self.refresh()
            if not self._pgvec:
                self._text_vectors()
            self._synced = marker
        return self._text_index if not self._pgvec else None

    def _text_vectors(self, progress: Callable[[int, int], None] | None = None) -> VectorIndex:
        """The HNSW file of this model's text vectors, brought up to date with the table.

        A large graph is built in chunks, ``progress(vectors in the graph, total)`` after each (logged
        every 100,000 by default), and the file is saved along the way: a build that is stopped (a restart,
        a killed benchmark) goes on from its last save instead of starting again."""
        model = self.embedder.name
        with self._lock:
            with self.store.read() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(text_vectors)
                                     .where(text_vectors.c.model == model)).scalar_one()
            checkpoint = f"{model}:{count}"
            index = self._text_index
            path = self.index_dir / f"text-{hashlib.sha256(model.encode()).hexdigest()[:16]}.npz"
            if index is None and path.is_file():
                try:
                    index = VectorIndex.load(path)
                except CorruptIndexError as exc:
                    log.warning("rebuilding the text vector index: %s", exc)
            if index is None:
                index = VectorIndex(exact_below=self.settings.exact_below)
            if index.checkpoint != checkpoint:
                known = set(index.ids)
                with self.store.read() as conn:
                    stored = conn.execution_options(yield_per=50_000).execute(
                        sa.select(text_vectors.c.key, text_vectors.c.vector).where(text_vectors.c.model == model))
                    for part in stored.partitions():
                        _add_stored(index, [(k, b) for k, b in part if k not in known])
                self.index_dir.mkdir(parents=True, exist_ok=True)
                index.build_graph(progress or _log_graph, save=lambda: index.save(path))
                index.checkpoint = checkpoint
                index.save(path)
            self._text_index = index
            return index

    def _frame_vectors(self) -> VectorIndex:
        """Keyframe features of frame moments (read from their blobs), one entry per distinct blob."""
        with self._lock:
            with self.store.read() as conn:
                keys = list(conn.execute(sa.select(moments.c.image_blob).where(moments.c.image_blob.is_not(None))
                                         .distinct()).scalars())
            checkpoint = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
            if self._image_index is not None and self._image_index.checkpoint == checkpoint:
                return self._image_index
            index = VectorIndex(checkpoint=checkpoint, exact_below=self.settings.exact_below)
            for key in keys:
                try:
                    index.add(key, np.load(self.blobs.open(key), allow_pickle=False).astype(np.float32).reshape(-1))
                except (OSError, ValueError, UsageError) as exc:
                    log.warning("keyframe feature %s unreadable, skipped: %s", key, exc)
            self._image_index = index
            return index

    def _face_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock, self.store.read() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(moments)
                                 .where(moments.c.face.is_not(None))).scalar_one()
            if self._faces is None or self._faces[0] != count:
                rows = conn.execute(sa.select(moments.c.id, moments.c.face).where(moments.c.face.is_not(None))).all()
                ids = np.array([r.id for r in rows], np.int64)
                vecs = (np.stack([np.frombuffer(r.face, "<f4") for r in rows]) if rows
                        else np.zeros((0, 128), np.float32))
                self._faces = (count, ids, vecs)
            return self._faces[1], self._faces[2]

    def video_content(self) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
        """Each video's content: up to two unit vectors, ``picture`` (mean keyframe feature of its frame
        moments) and ``words`` (mean text vector of its transcript, on-screen text, labels and tags); and
        its keyframe features themselves (n, d), which tell a copy from a look-alike.

        The vectors are centred on the library's mean before normalising: raw means of e5 vectors all sit
        near one direction (unrelated texts score 0.7-0.8), so centring is what lets a cosine tell topics
        apart."""
        self.refresh()
        pictures, texts = self._frame_vectors(), self._text_vectors()
        by_video: dict[str, dict[str, list[np.ndarray]]] = {}
        with self.store.read() as conn:
            rows = conn.execute(sa.select(moments.c.video_id, moments.c.kind, moments.c.image_blob,
                                          moments.c.text_key).where(moments.c.source == "video")).all()
        pic_m, txt_m = pictures._vectors(), texts._vectors()
        for r in rows:
            slot = by_video.setdefault(r.video_id, {"picture": [], "words": []})
            if r.image_blob and (p := pictures._positions.get(r.image_blob)) is not None:
                slot["picture"].append(pic_m[p].astype(np.float32))
            elif r.kind in TEXT_KINDS and r.kind != "person" and r.text_key \
                    and (p := texts._positions.get(r.text_key)) is not None:
                slot["words"].append(txt_m[p].astype(np.float32))
        frames = {v: np.stack(k["picture"]) for v, k in by_video.items() if k["picture"]}
        means = {v: {k: np.mean(vs, axis=0) for k, vs in kinds.items() if vs} for v, kinds in by_video.items()}
        vectors: dict[str, dict[str, np.ndarray]] = {v: {} for v in means}
        for kind in ("picture", "words"):
            have = [v for v in means if kind in means[v]]
            centre = np.mean([means[v][kind] for v in have], axis=0) if len(have) > 2 else 0.0
            for v in have:
                c = means[v][kind] - centre
                n = float(np.linalg.norm(c))
                if n > 1e-9:
                    vectors[v][kind] = c / n
        return vectors, frames

    # -- rankers ------------------------------------------------------------------------
    def _words(self, conn: Any, q: str, k: int) -> Ranked:
        toks = list(dict.fromkeys(query_terms(q)))[:MAX_TERMS]
        if not toks:
            return []
        if self._fts:
            ranked = [mid for mid, _ in fts_words(conn, toks, k, pool=FTS_POOL * k, stats=self._fts_stats)]
            held = {r.id: r for r in conn.execute(sa.select(moments.c.id, moments.c.terms, moments.c.kind)
                                                  .where(moments.c.id.in_(ranked)))} if ranked else {}
            rows = [(mid, held[mid].terms, held[mid].kind) for mid in ranked if mid in held]
        elif self.store.dialect == "postgresql":
            rows = [(h.id, h.terms, h.kind) for h in
                    backends.pg_words(conn, toks, k, pool=WORD_POOL * k, stats=self._pg_word_stats(conn))]
        else:
            return []
        found = {r[0]: r[1] for r in rows}
        named = self._named_people(conn, toks, k)
        stale = _renamed_people(conn, [r[0] for r in rows if r[2] == "person"])
        out: Ranked = [(mid, {"ranker": "words", "matched": matched}) for mid, matched in named]
        taken = {mid for mid, _ in named}
        for mid in found:
            if mid in taken or mid in stale:
                continue
            have = set(found[mid].split())
            out.append((mid, {"ranker": "words", "matched": [t for t in toks if t in have]}))
        return out[:k]

    def _pg_word_stats(self, conn: Any) -> backends.WordStats:
        """How common words are (pg_stats), read again when older than ``WORD_STATS_TTL_S``: they change
        only when PostgreSQL analyses the table."""
        now = time.monotonic()
        if self._word_stats is None or now - self._word_stats[0] > WORD_STATS_TTL_S:
            self._word_stats = (now, backends.pg_word_stats(conn))
        return self._word_stats[1]

    @staticmethod
    def _named_people(conn: Any, toks: list[str], k: int) -> list[tuple[int, list[str]]]:
        """Person moments whose gallery name holds query words, most words matched first.

        Names are a person's decision and live with the identities, not in any document, so they are
        read here, at query time: a rename is found at once and the old name no longer is."""
        wanted = set(toks)
        matched: dict[int, list[str]] = {}
        for ident, name in conn.execute(sa.select(identities.c.id, identities.c.name)
                                        .where(identities.c.name.is_not(None))):
            have = set(terms(name))
            if hit := [t for t in toks if t in have and t in wanted]:
                matched[ident] = hit
        if not matched:
            return []
        rows = conn.execute(
            sa.select(moments.c.id, identity_faces.c.identity_id)
            .join(identity_faces, sa.and_(identity_faces.c.video_id == moments.c.video_id,
                                          identity_faces.c.person_id == moments.c.person))
            .where(moments.c.kind == "person", identity_faces.c.identity_id.in_(list(matched)))
            .order_by(moments.c.video_id, moments.c.start_s, moments.c.id)).all()
        rows.sort(key=lambda r: -len(matched[r.identity_id]))  # stable: by video and time within a score
        return [(r.id, matched[r.identity_id]) for r in rows[:k]]

    def _meaning(self, conn: Any, q: str, k: int) -> Ranked:
        index = self._synced_text_vectors(conn)
        qv = self.embedder.query(q)
        floor = self.settings.min_text_similarity
        if self._pgvec:
            nearest = backends.pg_nearest(conn, qv, self.embedder.name, k, self.pg_ef_search(k),
                                          iterative=self._pg_iterative)
            sims = {key: sim for key, sim in nearest if sim >= floor}
        else:
            assert index is not None
            sims = {h.id: h.score for h in index.query(qv, 1.0 - floor, k=k)}
        if not sims:
            return []
        rows = conn.execute(sa.select(moments.c.id, moments.c.text_key, moments.c.kind).where(
            moments.c.text_key.in_(list(sims)), moments.c.kind.in_(TEXT_KINDS))).all()
        stale = _renamed_people(conn, [r.id for r in rows if r.kind == "person"])
        rows = [r for r in rows if r.id not in stale]
        rows.sort(key=lambda r: (-sims[r.text_key], r.id))
        return [(r.id, {"ranker": "meaning", "similarity": round(sims[r.text_key], 4)}) for r in rows[:k]]

    def pg_ef_search(self, k: int) -> int:
        """pgvector's ``hnsw.ef_search`` for ``k`` candidates: at least ``k`` (a scan that is not iterative
        yields no more rows than that) and at least ``pg_ef_search``, the width measured for recall
        (pgvector caps it at 1,000; an iterative scan goes on past the cap)."""
        return min(backends.MAX_EF_SEARCH, max(k, self.settings.pg_ef_search))

    def _picture(self, conn: Any, image: QueryImage, k: int) -> Ranked:
        index = self._frame_vectors()
        best: dict[str, float] = {}
        for v in image.keyframe:
            if len(index) and v.size == (index._dim or v.size):
                for h in index.query(v, 1.0 - self.settings.min_image_similarity, k=k):
                    best[h.id] = max(best.get(h.id, -1.0), h.score)
        if not best:
            return []
        rows = conn.execute(sa.select(moments.c.id, moments.c.image_blob).where(
            moments.c.image_blob.in_(list(best)))).all()
        rows.sort(key=lambda r: (-best[r.image_blob], r.id))
        return [(r.id, {"ranker": "picture", "similarity": round(best[r.image_blob], 4)}) for r in rows[:k]]

    def _face(self, image: QueryImage, k: int) -> Ranked:
        if not image.faces:
            return []
        ids, vecs = self._face_vectors()
        if not len(ids):
            return []
        sims = np.max(np.stack(image.faces) @ vecs.T, axis=0)
        order = [i for i in np.argsort(-sims)[:k] if sims[i] >= self.settings.min_face_similarity]
        return [(int(ids[i]), {"ranker": "face", "similarity": round(float(sims[i]), 4)}) for i in order]

    # -- the query ----------------------------------------------------------------------
    def search(self, q: str | None = None, *, image: bytes | None = None, filters: Filters | None = None,
               limit: int = 20, offset: int = 0, rankers: Sequence[str] | None = None) -> dict[str, Any]:
        """Moments answering words and/or a picture, best first: ``{"hits", "total", "next_offset"}``."""
        q = query_text(q)
        if not q and image is None:
            raise UsageError("give words to search for, an image, or both")
        if q and not terms(q):
            raise UsageError("the query has no words (only punctuation or symbols)")
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"limit must be 1..{MAX_LIMIT}")
        if not 0 <= offset <= MAX_OFFSET:
            raise UsageError(f"offset must be 0..{MAX_OFFSET}")
        filters = filters or Filters()
        if filters.source not in (None, *SOURCES):
            raise UsageError(f"source must be one of {', '.join(SOURCES)}")
        self._backends()
        k = self.settings.candidates * (4 if filters.any() else 1)
        use = set(rankers or RANKERS)
        if not use <= set(RANKERS):
            raise UsageError(f"unknown ranker(s) {', '.join(sorted(use - set(RANKERS)))}; known: {', '.join(RANKERS)}")
        picture = embed(read_rgb(image, self.settings.max_image_pixels)) if image is not None else None
        lists: list[Ranked] = []
        with self.store.read() as conn:  # one connection (and transaction) for every statement of the query
            if q:
                lists += [self._words(conn, q, k) if "words" in use else [],
                          self._meaning(conn, q, k) if "meaning" in use else []]
            if picture is not None:
                lists += [self._picture(conn, picture, k) if "picture" in use else [],
                          self._face(picture, k) if "face" in use else []]
            fused: dict[int, float] = {}
            evidence: dict[int, list[dict[str, Any]]] = {}
            for ranked in lists:
                for rank, (mid, ev) in enumerate(ranked, 1):
                    fused[mid] = fused.get(mid, 0.0) + 1.0 / (self.settings.rrf_k + rank)
                    evidence.setdefault(mid, []).append({**ev, "rank": rank})
            rows = self._rows(conn, list(fused), filters)
        # on a tie, a moment that has the query's very words goes first (meaning alone is the weaker evidence)
        worded = {mid for mid, evs in evidence.items() if any(e["ranker"] == "words" for e in evs)}
        rows.sort(key=lambda r: (-fused[r.id], r.id not in worded, r.video_id or "", r.start_s, r.id))
        page = rows[offset:offset + limit]
        hits = [{"video_id": r.video_id, "path": r.path, "start": r.start_s, "end": r.end_s,
                 "score": round(fused[r.id], 6),
                 "evidence": [{"kind": r.kind, "text": r.text, **ev} for ev in evidence[r.id]],
                 "moment_id": r.id, "thumbnail_blob": r.thumbnail_blob, "duration": r.duration_s,
                 "source": r.source, "event": self._event_of(r)} for r in page]
        return {"hits": hits, "total": len(rows),
                "next_offset": offset + limit if offset + limit < len(rows) else None}

    @staticmethod
    def _rows(conn: Any, ids: list[int], f: Filters) -> list[Any]:
        if not ids:
            return []
        m = moments
        path = sa.func.coalesce(videos.c.title, videos.c.filename).label("path")
        q = sa.select(m.c.id, m.c.video_id, m.c.kind, _shown_text(m), m.c.start_s, m.c.end_s, m.c.thumbnail_blob,
                      path, videos.c.duration_s, m.c.source, m.c.event_id, m.c.camera, m.c.at, m.c.label,
                      m.c.event).select_from(m.outerjoin(videos, videos.c.id == m.c.video_id))
        for name, kinds, value in (("person", ("person",), f.person), ("label", ("object", "tag"), f.label)):
            if value is None:
                continue
            o = m.alias(f"on_screen_{name}")
            same = (sa.func.lower(o.c.label) == value.lower())
            if name == "person":
                ifc, idn = identity_faces.alias("f_link"), identities.alias("f_ident")
                same = same | (o.c.person == value) | sa.exists().where(
                    ifc.c.video_id == o.c.video_id, ifc.c.person_id == o.c.person, idn.c.id == ifc.c.identity_id,
                    sa.func.lower(idn.c.name) == value.lower())
            on_screen = sa.exists().where(o.c.video_id == m.c.video_id, o.c.kind.in_(kinds), same,
                                          o.c.start_s <= m.c.end_s, o.c.end_s >= m.c.start_s)
            if name == "label":  # an event is about its own label
                on_screen = on_screen | sa.and_(m.c.source == "event", sa.func.lower(m.c.label) == value.lower())
            q = q.where(on_screen)
        if f.language is not None:
            q = q.where(m.c.language == f.language)
        if f.video_id is not None:
            q = q.where(m.c.video_id == f.video_id)
        if f.source is not None:
            q = q.where(m.c.source == f.source)
        if f.camera is not None:
            q = q.where(m.c.camera == f.camera)
        when = sa.func.coalesce(videos.c.created_at, m.c.at)
        if f.added_after is not None:
            q = q.where(when >= f.added_after)
        if f.added_before is not None:
            q = q.where(when < f.added_before)
        if f.min_duration_s is not None:
            q = q.where(videos.c.duration_s >= f.min_duration_s)
        if f.max_duration_s is not None:
            q = q.where(videos.c.duration_s <= f.max_duration_s)
        out = []
        for i in range(0, len(ids), 900):
            out += conn.execute(q.where(m.c.id.in_(ids[i:i + 900]))).all()
        return out

    def _event_of(self, r: Any) -> dict[str, Any] | None:
        """A camera event's hit: where and when, and the links to its snapshot and clip. An event of a
        track without a clip of its own (entering a zone, crossing a line) links the clip of the track's
        object event, which spans it."""
        if r.source != "event":
            return None
        ev = {"id": r.event_id, "camera": r.camera, "at": r.at, **(r.event or {})}
        if not ev.get("clip") and ev.get("track_id") is not None and ev.get("type") != "object":
            with self.store.read() as conn:
                spans = conn.execute(sa.select(moments.c.event).where(
                    moments.c.source == "event", moments.c.camera == r.camera, moments.c.label == r.label,
                    moments.c.start_s <= r.start_s, moments.c.end_s >= r.start_s)).scalars().all()
            ev["clip"] = next((o["clip"] for o in spans if o and o.get("type") == "object"
                               and o.get("track_id") == ev["track_id"] and o.get("clip")), None)
        return ev

    # -- similar videos ---------------------------------------------------------------------
    def similar(self, video_id: str, *, limit: int = 10) -> dict[str, Any]:
        """Library videos sharing pictures (keyframe features) or people (faces) with ``video_id``, ranked.

        A video's score is the share of the query's frames that have a match in it (similarity at least
        ``min_image_similarity``), plus the share of the query's people seen in it, over two."""
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"limit must be 1..{MAX_LIMIT}")
        with self.store.read() as conn:
            if conn.execute(sa.select(videos.c.id).where(videos.c.id == video_id)).first() is None:
                raise NotFoundError(f"no video '{video_id}' in the library (analyse it first: vidlens analyze FILE)")
            mine = conn.execute(sa.select(moments.c.id, moments.c.start_s, moments.c.image_blob, moments.c.face)
                                .where(moments.c.video_id == video_id)).all()
        frames = [r for r in mine if r.image_blob]
        people = [r for r in mine if r.face is not None]
        index = self._frame_vectors()
        blob_moments: dict[str, list[Any]] = {}
        if frames and len(index):
            with self.store.read() as conn:
                for r in conn.execute(sa.select(moments.c.video_id, moments.c.start_s, moments.c.end_s,
                                                moments.c.image_blob).where(moments.c.image_blob.is_not(None))):
                    blob_moments.setdefault(r.image_blob, []).append(r)
        per_video: dict[str, dict[str, Any]] = {}
        for fr in frames:
            v = index._vectors()[index._positions[fr.image_blob]] if fr.image_blob in index._positions else None
            if v is None:
                continue
            seen: set[str] = set()
            for h in index.query(v.astype(np.float32), 1.0 - self.settings.min_image_similarity, k=50):
                for other in blob_moments.get(h.id, []):
                    if other.video_id == video_id or other.video_id in seen:
                        continue
                    seen.add(other.video_id)
                    entry = per_video.setdefault(other.video_id, {"frames": 0, "people": set(), "moments": []})
                    entry["frames"] += 1
                    entry["moments"].append({"start": fr.start_s, "other_start": other.start_s,
                                             "other_end": other.end_s, "evidence": "picture",
                                             "similarity": round(h.score, 4)})
        if people:
            ids, vecs = self._face_vectors()
            with self.store.read() as conn:
                info = {r.id: r for r in conn.execute(sa.select(moments.c.id, moments.c.video_id, moments.c.start_s,
                                                                moments.c.end_s, moments.c.person)
                                                      .where(moments.c.face.is_not(None)))}
            for p in people:
                sims = vecs @ np.frombuffer(p.face, "<f4")
                for i in np.nonzero(sims >= self.settings.min_face_similarity)[0]:
                    other = info[int(ids[i])]
                    if other.video_id == video_id:
                        continue
                    entry = per_video.setdefault(other.video_id, {"frames": 0, "people": set(), "moments": []})
                    entry["people"].add(p.id)
                    entry["moments"].append({"start": p.start_s, "other_start": other.start_s,
                                             "other_end": other.end_s, "evidence": "face",
                                             "similarity": round(float(sims[i]), 4)})
        ranked = []
        for vid, e in per_video.items():
            score = (e["frames"] / max(1, len(frames)) + (len(e["people"]) / len(people) if people else 0.0))
            score /= 2 if frames and people else 1
            ranked.append((round(min(1.0, score), 4), vid, e))
        ranked.sort(key=lambda x: (-x[0], x[1]))
        paths = self._paths([vid for _, vid, _ in ranked[:limit]])
        return {"video_id": video_id, "videos": [
            {"video_id": vid, "path": paths.get(vid), "score": score,
             "shared": sorted(e["moments"], key=lambda x: -x["similarity"])[:10]}
            for score, vid, e in ranked[:limit]]}

    def _paths(self, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        with self.store.read() as conn:
            return dict(conn.execute(sa.select(videos.c.id, sa.func.coalesce(videos.c.title, videos.c.filename))
                                     .where(videos.c.id.in_(ids))).all())


def _add_stored(index: VectorIndex, rows: list[tuple[str, bytes]]) -> None:
    """Stored float32 vectors into ``index``: in one block when they are all of one size, else one by one
    (so that a malformed vector is refused with its own message)."""
    if rows and len({len(b) for _, b in rows}) == 1 and len(rows[0][1]) % 4 == 0:
        index.add_many([k for k, _ in rows], np.frombuffer(b"".join(b for _, b in rows), "<f4").reshape(len(rows), -1))
        return
    for key, blob in rows:
        index.add(key, np.frombuffer(blob, "<f4"))


def _log_graph(done: int, total: int) -> None:
    if done == total or done % 100_000 < 10_000:
        log.info("text vector index: %d of %d vectors in the HNSW graph", done, total)


def _gallery_link(m: Any) -> tuple[Any, Any]:
    """The identity and its name linked to a person moment (a correlated lookup; none for other kinds)."""
    link = (sa.select(identities.c.id, identities.c.name)
            .join(identity_faces, identity_faces.c.identity_id == identities.c.id)
            .where(identity_faces.c.video_id == m.c.video_id, identity_faces.c.person_id == m.c.person)
            .correlate(m).limit(1))
    return link.with_only_columns(identities.c.id).scalar_subquery(), \
        link.with_only_columns(identities.c.name).scalar_subquery()


def _shown_text(m: Any) -> Any:
    """A person moment shows the gallery's current name ("person N" once a name is forgotten)."""
    ident, name = _gallery_link(m)
    shown = sa.func.coalesce(name, sa.literal("person ") + m.c.person)
    return sa.case((sa.and_(m.c.kind == "person", ident.is_not(None)), shown), else_=m.c.text).label("text")


def _renamed_people(conn: Any, ids: list[int]) -> set[int]:
    """Person moments among ``ids`` whose stored words are no longer their name in the gallery."""
    if not ids:
        return set()
    m = moments
    ident, name = _gallery_link(m)
    shown = sa.func.coalesce(name, sa.literal("person ") + m.c.person)
    out: set[int] = set()
    for i in range(0, len(ids), 900):
        out |= set(conn.execute(
            sa.select(m.c.id).where(m.c.id.in_(ids[i:i + 900]), m.c.kind == "person", ident.is_not(None),
                                    shown != m.c.text)).scalars())
    return out

