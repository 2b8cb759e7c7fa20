"""The understand capability's projections of the stored document: shots, people, tracks, identities.

Each is a pair of plain functions over one video's document (docs/formats.md), run in the
transaction that stores it. Adding one is a function that turns the document into rows, one that
deletes them, and an entry in ``projections`` below (or in another capability's own list).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from vidlens.analyze.identities import apply_identities, clear_identities
from vidlens.analyze.tables import people, tracks
from vidlens.capability import Projection
from vidlens.store.schema import shots

_MICROS = "1/1000000"  # the time base of a shot that came without stream ticks


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _ticks(seconds: Any) -> int:
    return round((_num(seconds) or 0.0) * 1_000_000)


# -- shots ----------------------------------------------------------------------
def shot_rows(video_id: str, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ``shots`` row per shot of the document, in exact stream ticks where the document has them."""
    rows = []
    for s in document.get("shots") or []:
        pts = s.get("pts") or {}
        if pts:
            start, end, tb = pts["start"], pts["end"], pts["time_base"]
            key = pts["keyframe"] if pts.get("keyframe") is not None else start
        else:
            start, end, tb = _ticks(s["start_s"]), _ticks(s["end_s"]), _MICROS
            key = _ticks(s["keyframe_s"]) if _num(s.get("keyframe_s")) is not None else start
        rows.append(dict(video_id=video_id, idx=s["index"], start_frame=s.get("start_frame", 0),
                         end_frame=s.get("end_frame", 0), start_pts=start, end_pts=end, time_base=str(Fraction(tb)),
                         keyframe_frame=s.get("keyframe_frame", s.get("start_frame", 0)), keyframe_pts=key,
                         transition_in=s.get("transition_in") or "cut", keyframe_blob=s.get("keyframe_blob"),
                         thumbnail_blob=s.get("thumbnail_blob")))
    return rows


def _apply_shots(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    if rows := shot_rows(video_id, document):
        conn.execute(shots.insert(), rows)


def _clear_shots(conn: Connection, video_id: str) -> None:
    conn.execute(shots.delete().where(shots.c.video_id == video_id))


# -- people ---------------------------------------------------------------------
def _embedding(values: Any) -> bytes | None:
    if not isinstance(values, list) or not values or not all(_num(v) is not None for v in values):
        return None
    return np.asarray(values, dtype="<f4").tobytes()


def _apply_people(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    rows = []
    for p in document.get("people") or []:
        spans = [sp for sp in p.get("spans") or [] if isinstance(sp, Mapping)]
        screen = _num(p.get("screen_time_s"))
        if screen is None:
            screen = sum(max(0.0, (_num(sp.get("end_s")) or 0.0) - (_num(sp.get("start_s")) or 0.0)) for sp in spans)
        first = _num(p.get("first_s"))
        if first is None and spans:
            first = min(_num(sp.get("start_s")) or 0.0 for sp in spans)
        identity = p.get("identity") if isinstance(p.get("identity"), str) else None
        rows.append(dict(video_id=video_id, person_id=str(p["person_id"]), identity=identity,
                         identity_score=_num(p.get("identity_score")), first_s=first, screen_time_s=screen,
                         faces=int(p.get("faces") or 0), best_t=_num(p.get("best_t")),
                         thumbnail_blob=p.get("thumbnail_blob"), embedding=_embedding(p.get("embedding"))))
    if rows:
        conn.execute(people.insert(), rows)


def _clear_people(conn: Connection, video_id: str) -> None:
    conn.execute(people.delete().where(people.c.video_id == video_id))


# -- tracks ---------------------------------------------------------------------
def _box(box: Any) -> dict[str, float | None]:
    ok = isinstance(box, list) and len(box) == 4 and all(_num(v) is not None for v in box)
    return {f"box_{k}": (float(box[i]) if ok else None) for i, k in enumerate(("x1", "y1", "x2", "y2"))}


def track_rows(video_id: str, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Object tracks, and each span of each person (a person is tracked by face), as ``tracks`` rows."""
    rows = []
    for o in document.get("objects") or []:
        start, end = _num(o.get("start_s")), _num(o.get("end_s"))
        if start is None or not isinstance(o.get("label"), str):
            continue
        rows.append(dict(video_id=video_id, kind="object", ref=str(o.get("track_id", len(rows))),
                         label=o["label"][:128], start_s=start, end_s=max(start, end or start),
                         shot_index=o.get("shot_index"), confidence=_num(o.get("confidence")),
                         best_t=_num(o.get("best_t")), **_box(o.get("best_box"))))
    for p in document.get("people") or []:
        identity = p.get("identity") if isinstance(p.get("identity"), str) else None
        for sp in p.get("spans") or []:
            start, end = _num(sp.get("start_s")), _num(sp.get("end_s"))
            if start is None:
                continue
            best_t = _num(p.get("best_t"))
            here = best_t is not None and start <= best_t <= (end or start)
            rows.append(dict(video_id=video_id, kind="person", ref=str(p["person_id"]),
                             label=(identity or "person")[:128], start_s=start, end_s=max(start, end or start),
                             shot_index=sp.get("shot_index"),
                             confidence=_num(p.get("identity_score")) if identity else None,
                             best_t=best_t if here else None,
                             **_box(p.get("best_box") if here else None)))
    return rows


def _apply_tracks(conn: Connection, video_id: str, document: Mapping[str, Any]) -> None:
    if rows := track_rows(video_id, document):
        conn.execute(tracks.insert(), rows)


def _clear_tracks(conn: Connection, video_id: str) -> None:
    conn.execute(tracks.delete().where(tracks.c.video_id == video_id))


projections = [
    Projection("shots", ("shots",), _apply_shots, _clear_shots),
    Projection("people", ("people",), _apply_people, _clear_people),
    Projection("tracks", ("tracks",), _apply_tracks, _clear_tracks),
    # after people: links each person to an identity across the library (vidlens.analyze.identities)
    Projection("identities", ("identity_faces", "identities"), apply_identities, clear_identities),
]
