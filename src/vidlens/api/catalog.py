"""Read models shared by the JSON API and the HTML pages, so both always show the same data."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.api.docs import tracks
from vidlens.api.tables import video_uploads
from vidlens.store.schema import jobs, results, shots, videos

if TYPE_CHECKING:
    from vidlens.platform import Platform

_SUMMARY_COLS = (
    videos.c.id,
    videos.c.filename,
    videos.c.duration_s,
    videos.c.width,
    videos.c.height,
    videos.c.fps,
    videos.c.has_audio,
    videos.c.container,
    videos.c.size_bytes,
    videos.c.created_at,
)


def _title(row: Any) -> str:
    return row.original_name or row.filename


def list_videos(
    platform: Platform,
    *,
    q: str | None = None,
    min_duration_s: float | None = None,
    max_duration_s: float | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first, with title, thumbnail (first shot) and the state of the latest analysis job."""
    latest_job = (
        sa.select(jobs.c.video_id, sa.func.max(jobs.c.id).label("job_id"))
        .where(jobs.c.kind == "analyze")
        .group_by(jobs.c.video_id)
        .subquery()
    )
    first_shot = sa.select(shots.c.thumbnail_blob).where(shots.c.video_id == videos.c.id, shots.c.idx == 0)
    query = (
        sa.select(
            *_SUMMARY_COLS,
            video_uploads.c.original_name,
            jobs.c.status.label("analysis"),
            jobs.c.progress,
            first_shot.scalar_subquery().label("thumbnail_blob"),
        )
        .select_from(
            videos.outerjoin(video_uploads, video_uploads.c.video_id == videos.c.id)
            .outerjoin(latest_job, latest_job.c.video_id == videos.c.id)
            .outerjoin(jobs, jobs.c.id == latest_job.c.job_id)
        )
        .order_by(videos.c.created_at.desc(), videos.c.id)
        .limit(limit)
        .offset(offset)
    )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                videos.c.filename.ilike(pattern, escape="\\"),
                video_uploads.c.original_name.ilike(pattern, escape="\\"),
            )
        )
    if min_duration_s is not None:
        query = query.where(videos.c.duration_s >= min_duration_s)
    if max_duration_s is not None:
        query = query.where(videos.c.duration_s <= max_duration_s)
    if status:
        query = query.where(jobs.c.status == status)
    with platform.store.read() as conn:
        rows = conn.execute(query).all()
    out = []
    for r in rows:
        d = {k: r._mapping[k] for k in r._mapping.keys() if k != "original_name"}
        d["title"] = _title(r)
        out.append(d)
    return out


def get_video(platform: Platform, video_id: str) -> dict[str, Any]:
    video = platform.library.get_video(video_id)  # NotFoundError when absent
    with platform.store.read() as conn:
        row = conn.execute(
            sa.select(
                videos.c.filename,
                videos.c.created_at,
                video_uploads.c.original_name,
                video_uploads.c.uploaded_by,
            )
            .select_from(videos.outerjoin(video_uploads, video_uploads.c.video_id == videos.c.id))
            .where(videos.c.id == video.id)
        ).one()
        analyzers = conn.execute(
            sa.select(
                results.c.analyzer, results.c.version, results.c.status, results.c.created_at, results.c.error
            )
            .where(results.c.video_id == video.id)
            .order_by(results.c.analyzer, results.c.created_at)
        ).all()
    latest: dict[str, dict[str, Any]] = {a.analyzer: dict(a._mapping) for a in analyzers}
    d = video.to_dict()
    d.pop("uri", None)  # a server path is no business of API clients
    d.update(
        title=_title(row),
        filename=row.filename,
        created_at=row.created_at,
        uploaded_by=row.uploaded_by,
        duration_s=video.duration_s,
        fps_value=float(video.fps) if video.fps else None,
        analyzers=list(latest.values()),
        jobs=[j.to_dict() for j in platform.jobs.list(video_id=video.id, limit=20)],
    )
    return d


def video_shots(platform: Platform, video_id: str) -> list[dict[str, Any]]:
    out = []
    for s in platform.library.shots(video_id):
        tb = Fraction(s["time_base"])
        out.append(
            {
                "index": s["idx"],
                "start_s": round(float(s["start_pts"] * tb), 6),
                "end_s": round(float(s["end_pts"] * tb), 6),
                "start_frame": s["start_frame"],
                "end_frame": s["end_frame"],
                "keyframe_s": round(float(s["keyframe_pts"] * tb), 6),
                "transition_in": s["transition_in"],
                "keyframe_blob": s["keyframe_blob"],
                "thumbnail_blob": s["thumbnail_blob"],
            }
        )
    return out


def latest_results(platform: Platform, video_id: str) -> dict[str, dict[str, Any]]:
    """The newest result row per analyzer (document and error included)."""
    with platform.store.read() as conn:
        rows = conn.execute(
            sa.select(results)
            .where(results.c.video_id == video_id)
            .order_by(results.c.analyzer, results.c.created_at)
        ).all()
    return {r.analyzer: dict(r._mapping) for r in rows}


def timeline(platform: Platform, video_id: str) -> dict[str, Any]:
    """Shots plus every time-stamped list found in any stored analysis document."""
    video = platform.library.get_video(video_id)
    out_tracks = []
    for name, row in sorted(latest_results(platform, video.id).items()):
        if row["status"] == "ok":
            out_tracks.extend(t.to_dict() for t in tracks(name, row["data"]))
    return {
        "video_id": video.id,
        "duration_s": video.duration_s,
        "shots": video_shots(platform, video.id),
        "tracks": out_tracks,
    }
