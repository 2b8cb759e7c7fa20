"""Full-text search over stored analysis results, with time spans.

``search_entries`` is derived from the ``results`` table and kept current lazily: each
search first indexes result rows it has not seen (``search_sources`` remembers them;
a re-run analysis replaces its result row and the foreign-key cascade drops the old
entries). On SQLite with FTS5 a ``search_fts`` index (rowid = entry id) answers word
and prefix queries; it is derived data created at run time, not part of the migrated
schema. Without FTS5, and on PostgreSQL, every word must occur (``LIKE``/``ILIKE``).
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.api.docs import search_entries as extract_entries
from vidlens.api.tables import search_entries, search_sources, video_uploads
from vidlens.errors import UsageError
from vidlens.store.schema import results, videos

if TYPE_CHECKING:
    from vidlens.services import ServiceContext
    from vidlens.store.db import Store

_WORD = re.compile(r"\w+", re.UNICODE)
FTS_TABLE = "search_fts"


class SearchIndex:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._fts: bool | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> SearchIndex:
        return cls(ctx.store)

    # -- indexing ----------------------------------------------------------------
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
                exists = conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (FTS_TABLE,)
                ).first()
                if exists is None:
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

    def _pending(self, conn: sa.Connection) -> list[Any]:
        indexed = sa.select(search_sources.c.result_id)
        return conn.execute(
            sa.select(results.c.id, results.c.video_id, results.c.analyzer, results.c.data).where(
                results.c.status == "ok", results.c.id.not_in(indexed)
            )
        ).all()

    def sync(self) -> int:
        """Index result documents not indexed yet; returns how many entries were added."""
        fts = self.fts
        with self.store.read() as conn:
            if not self._pending(conn):
                return 0
        added = 0
        with self.store.tx() as conn:
            for row in self._pending(conn):  # again, inside the write lock
                entries = list(extract_entries(row.analyzer, row.data))
                for e in entries:
                    res = conn.execute(
                        search_entries.insert().values(result_id=row.id, video_id=row.video_id, **e)
                    )
                    if fts:
                        conn.exec_driver_sql(
                            f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (?, ?)",
                            (res.inserted_primary_key[0], e["text"]),
                        )
                conn.execute(
                    search_sources.insert().values(
                        result_id=row.id, entries=len(entries), indexed_at=time.time()
                    )
                )
                added += len(entries)
            if fts:  # entries of replaced results went with their result row; drop their FTS rows too
                conn.exec_driver_sql(
                    f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN (SELECT id FROM search_entries)"
                )
        return added

    # -- querying ----------------------------------------------------------------
    def search(
        self, q: str, *, video_id: str | None = None, analyzer: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        words = _WORD.findall(q or "")
        if not words:
            raise UsageError("search needs at least one word (q=...)")
        if len(words) > 16:
            raise UsageError("search takes at most 16 words")
        self.sync()
        title = sa.func.coalesce(video_uploads.c.original_name, videos.c.filename).label("title")
        cols = [
            search_entries.c.video_id,
            search_entries.c.analyzer,
            search_entries.c.kind,
            search_entries.c.text,
            search_entries.c.start_s,
            search_entries.c.end_s,
            title,
        ]
        q_ = sa.select(*cols).select_from(
            search_entries.join(videos, videos.c.id == search_entries.c.video_id).outerjoin(
                video_uploads, video_uploads.c.video_id == videos.c.id
            )
        )
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
        return {"query": q, "mode": mode, "hits": hits}
