"""Full-text search over the stored analysis documents, with time spans.

``search_entries`` is a projection of each video's stored document (``projections`` below): written
with the document, in its transaction, and rebuilt by ``vidlens reindex --projection search``. On
SQLite with FTS5 a ``search_fts`` index (rowid = entry id) answers word and prefix queries; it is
derived data created at run time (and back-filled then), not part of the migrated schema, and the
projection keeps it in step once it exists. Without FTS5, and on PostgreSQL, every word must occur
(``LIKE``/``ILIKE``). Names given to people in the gallery are found too (they live with the identities,
not in any document), one hit per span the person is on screen.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vidlens.analyze.identities import name_hits
from vidlens.analyze.views import search_entries as entries_of
from vidlens.api.tables import search_entries
from vidlens.capability import Projection
from vidlens.errors import UsageError
from vidlens.store.schema import videos

if TYPE_CHECKING:
    from vidlens.services import ServiceContext
    from vidlens.store.db import Store

_WORD = re.compile(r"\w+", re.UNICODE)
FTS_TABLE = "search_fts"


def _has_fts(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite" and conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (FTS_TABLE,)).first() is not None


def _apply(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    rows = [dict(video_id=video_id, **e) for e in entries_of(document)]
    if not rows:
        return
    conn.execute(search_entries.insert(), rows)
    if _has_fts(conn):
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}(rowid, text) "
                             "SELECT id, text FROM search_entries WHERE video_id = ?", (video_id,))


def _clear(conn: Connection, video_id: str) -> None:
    if _has_fts(conn):
        conn.exec_driver_sql(f"DELETE FROM {FTS_TABLE} WHERE rowid IN "
                             "(SELECT id FROM search_entries WHERE video_id = ?)", (video_id,))
    conn.execute(search_entries.delete().where(search_entries.c.video_id == video_id))


projections = [Projection("search", ("search_entries",), _apply, _clear)]


class SearchIndex:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._fts: bool | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> SearchIndex:
        return cls(ctx.store)

    @property
    def fts(self) -> bool:
        """Whether SQLite FTS5 serves queries (created and back-filled on first use)."""
        if self._fts is None:
            with self._lock:
                if self._fts is None:
                    self._fts = self._ensure_fts()
        return self._fts

    def _ensure_fts(self) -> bool:
        if self.store.dialect != "sqlite":
            return False
        try:
            with self.store.tx() as conn:
                if not _has_fts(conn):
                    conn.exec_driver_sql(
                        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
                        "text, tokenize='unicode61 remove_diacritics 2')"
                    )
                    conn.exec_driver_sql(
                        f"INSERT INTO {FTS_TABLE}(rowid, text) SELECT id, text FROM search_entries"
                    )
        except sa.exc.OperationalError:  # this SQLite was built without FTS5
            return False
        return True

    # -- querying ----------------------------------------------------------------
    def search(
        self, q: str, *, video_id: str | None = None, analyzer: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        words = _WORD.findall(q or "")
        if not words:
            raise UsageError("search needs at least one word (q=...)")
        if len(words) > 16:
            raise UsageError("search takes at most 16 words")
        title = sa.func.coalesce(videos.c.title, videos.c.filename).label("title")
        cols = [
            search_entries.c.video_id,
            search_entries.c.analyzer,
            search_entries.c.kind,
            search_entries.c.text,
            search_entries.c.start_s,
            search_entries.c.end_s,
            title,
        ]
        q_ = sa.select(*cols).select_from(search_entries.join(videos, videos.c.id == search_entries.c.video_id))
        if self.fts:
            match = " ".join('"' + w.replace('"', "") + '"*' for w in words)
            fts = sa.table(FTS_TABLE, sa.column("rowid"), sa.column("rank"))
            q_ = (
                q_.join(fts, fts.c.rowid == search_entries.c.id)
                .where(sa.text(f"{FTS_TABLE} MATCH :match").bindparams(match=match))
                .order_by(fts.c.rank, search_entries.c.video_id, search_entries.c.start_s)
            )
            mode = "fts5"
        else:
            for w in words:
                pattern = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                q_ = q_.where(search_entries.c.text.ilike(pattern, escape="\\"))
            q_ = q_.order_by(search_entries.c.video_id, search_entries.c.start_s)
            mode = "ilike" if self.store.dialect == "postgresql" else "like"
        if video_id:
            q_ = q_.where(search_entries.c.video_id == video_id)
        if analyzer:
            q_ = q_.where(search_entries.c.analyzer == analyzer)
        with self.store.read() as conn:
            hits = [dict(r._mapping) for r in conn.execute(q_.limit(limit))]
            if analyzer in (None, "faces"):  # people by the names given in the gallery, each span once
                seen = {(h["video_id"], h["kind"], h["text"], h["start_s"], h["end_s"]) for h in hits}
                named = [h for h in name_hits(conn, words, video_id=video_id, limit=limit)
                         if (h["video_id"], h["kind"], h["text"], h["start_s"], h["end_s"]) not in seen]
                hits = named + hits
        return {"query": q, "mode": mode, "hits": hits[:limit]}
