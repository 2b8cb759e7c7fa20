"""The ``moments`` projection: the moments of each stored document with their words (docs/search.md).

Written in the transaction that stores the document, and cheap: no model runs here. A moment's text
is keyed by its digest; the search service embeds texts that have no vector yet for its model (so
``vidlens reindex --projection moments`` re-embeds nothing). The derived indexes that exist (SQLite
FTS5 over ``terms``, pgvector's table) are kept in step by ``backends``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from vidlens.capability import Projection
from vidlens.search import backends
from vidlens.search.moments import moments as moments_of
from vidlens.search.tables import moments
from vidlens.search.text import terms

TEXT_KINDS = ("speech", "translation", "text", "object", "person", "tag", "shot")  # not "frame"


def moment_rows(video_id: str, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for m in moments_of(document):
        text = m["kind"] in TEXT_KINDS
        rows.append({"video_id": video_id, **m, "terms": " ".join(terms(m["text"])) if text else "",
                     "text_key": hashlib.sha256(m["text"].encode()).hexdigest() if text else None})
    return rows


def _apply(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    if rows := moment_rows(video_id, document):
        conn.execute(moments.insert(), rows)
        backends.after_insert(conn, video_id)


def _clear(conn: Connection, video_id: str) -> None:
    backends.before_delete(conn, video_id)
    conn.execute(moments.delete().where(moments.c.video_id == video_id))


projections = [Projection("moments", ("search_moments",), _apply, _clear)]
