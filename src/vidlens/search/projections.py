"""The ``moments`` projection: the moments of each stored document with their words, and the
``event_moments`` projection: one moment per camera event that Watch stores (docs/search.md).

Written in the transaction that stores the document (or the event), and cheap: no model runs here. A moment's text
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
from vidlens.search.moments import MAX_TEXT
from vidlens.search.moments import moments as moments_of
from vidlens.search.tables import moments
from vidlens.search.text import terms

TEXT_KINDS = ("speech", "translation", "text", "object", "person", "tag", "shot", "event")  # not "frame"
EVENT_FIELDS = ("type", "label", "track_id", "zone", "line", "direction", "snapshot", "clip")


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def moment_rows(video_id: str, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for m in moments_of(document):
        text = m["kind"] in TEXT_KINDS
        rows.append({"source": "video", "video_id": video_id, **m, "terms": " ".join(terms(m["text"])) if text else "",
                     "text_key": _key(m["text"]) if text else None})
    return rows


def _apply(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    if rows := moment_rows(video_id, document):
        conn.execute(moments.insert(), rows)
        backends.after_insert(conn, "video_id", video_id)


def _clear(conn: Connection, video_id: str) -> None:
    backends.before_delete(conn, "video_id", video_id)
    conn.execute(moments.delete().where(moments.c.video_id == video_id))


def event_text(event: Mapping[str, Any]) -> str:
    """What happened, in words a search finds: "car crosses line gate (in) on camera park"."""
    label, kind = event.get("label") or "something", event.get("type")
    what = {"object": f"{label} seen", "zone_enter": f"{label} enters zone {event.get('zone')}",
            "zone_exit": f"{label} leaves zone {event.get('zone')}",
            "loiter": f"{label} loiters in zone {event.get('zone')}",
            "line_cross": f"{label} crosses line {event.get('line')}"
                          + (f" ({event['direction']})" if event.get("direction") else ""),
            "watchlist": f"{label} recognised (watch-list match)",
            "camera_offline": "camera offline"}.get(kind, f"{kind} {label}")
    return f"{what} on camera {event.get('camera')}"


def event_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """The moment of one camera event (``event``: Watch's public form, with its snapshot and clip as URLs)."""
    text = event_text(event)[:MAX_TEXT]
    start, end = float(event["start"]), event.get("end")
    label = str(event["label"])[:128] if event.get("label") else None
    return {"source": "event", "video_id": None, "event_id": str(event["id"]), "camera": str(event["camera"])[:64],
            "at": event.get("created_at"), "event": {k: event.get(k) for k in EVENT_FIELDS},
            "kind": "event", "start_s": round(start, 3), "end_s": round(max(start, float(end)), 3) if end is not None
            else round(start, 3), "text": text, "terms": " ".join(terms(text)), "language": None,
            "label": label, "person": None, "shot_index": None,
            "thumbnail_blob": None, "image_blob": None, "face": None, "text_key": _key(text)}


def _apply_event(conn: Connection, event_id: str, event: Mapping[str, Any]) -> None:
    if event.get("review") == "false_positive":  # reviewed as wrong: not a moment anyone should find
        return
    conn.execute(moments.insert().values(**event_row(event)))
    backends.after_insert(conn, "event_id", event_id)


def _clear_event(conn: Connection, event_id: str) -> None:
    backends.before_delete(conn, "event_id", event_id)
    conn.execute(moments.delete().where(moments.c.event_id == event_id))


projections = [Projection("moments", ("search_moments",), _apply, _clear),
               Projection("event_moments", ("search_moments",), _apply_event, _clear_event, source="watch_event")]
