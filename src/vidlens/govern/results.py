"""Govern's results for people and the API: each library video's implicit AIGC label, read and verified,
and the triage verdicts kept in the hash-chained audit log with their evidence."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.errors import NotFoundError, VidLensError
from vidlens.govern.label import AigcLabel
from vidlens.govern.tables import govern_audit
from vidlens.store.schema import videos
from vidlens.types import Video

if TYPE_CHECKING:
    from vidlens.store.db import Store

LABEL_FIELDS = tuple(f.name for f in fields(AigcLabel))
TRIAGE = "triage"


def label_result(video: Video, data_dir: Path) -> dict[str, Any]:
    """The label of a video's file, with both signatures checked against this installation's keys."""
    from vidlens.govern.service import verify_file

    base = {"video_id": video.id, "supported": True, "message": None, "found": False, "format": None,
            "label": None, "problems": [], "verified": False, "checks": [], "content_hash": None}
    try:
        out = verify_file(Path(video.uri), data_dir)
    except VidLensError as exc:  # a container no label codec reads, or a file gone from disk
        return {**base, "supported": False, "message": exc.message}
    label = {k: out.get(k) for k in LABEL_FIELDS}
    return {**base, "found": out["found"], "format": out["format"], "label": label if out["found"] else None,
            "problems": out["problems"], "verified": out["verified"], "checks": out["checks"],
            "content_hash": out.get("content_hash")}


def label_summary(video: Video) -> dict[str, Any]:
    """Only whether the file carries a label, and its value (no signature check: cheap for listings)."""
    from vidlens.govern.implicit import read_label

    try:
        report = read_label(Path(video.uri))
    except VidLensError as exc:
        return {"supported": False, "found": False, "value": None, "message": exc.message}
    value = report.label.Label if report.label else None
    return {"supported": True, "found": report.label is not None, "value": value, "message": None}


def _verdict(row: Any, by_uri: dict[str, str]) -> dict[str, Any]:
    d = dict(row._mapping)
    detail = d.pop("detail") or {}
    subject = d["subject"]
    video_id = subject[6:] if subject.startswith("video:") else by_uri.get(subject)
    return {"seq": d["seq"], "at": d["at"], "subject_name": subject.rsplit("/", 1)[-1], "video_id": video_id,
            "verdict": detail.get("verdict"), "label": detail.get("label"),
            "evidence": detail.get("evidence") or [], "hash": d["hash"]}


def _uris(conn: sa.Connection, subjects: list[str]) -> dict[str, str]:
    paths = [s for s in subjects if not s.startswith("video:")]
    if not paths:
        return {}
    return dict(conn.execute(sa.select(videos.c.uri, videos.c.id).where(videos.c.uri.in_(paths))).all())


def verdicts(store: Store, *, video_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Triage verdicts, newest first (from ``vidlens triage`` and the API), each with its evidence."""
    q = sa.select(govern_audit).where(govern_audit.c.action == TRIAGE).order_by(govern_audit.c.seq.desc())
    with store.read() as conn:
        rows = conn.execute(q.limit(limit if video_id is None else 10_000)).all()
        by_uri = _uris(conn, [r.subject for r in rows])
    out = [_verdict(r, by_uri) for r in rows]
    return [v for v in out if v["video_id"] == video_id][:limit] if video_id else out


def verdict(store: Store, seq: int) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(sa.select(govern_audit).where(govern_audit.c.seq == seq,
                                                         govern_audit.c.action == TRIAGE)).first()
        if row is None:
            raise NotFoundError(f"no triage verdict {seq}")
        return _verdict(row, _uris(conn, [row.subject]))
