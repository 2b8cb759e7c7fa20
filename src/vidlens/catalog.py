"""The catalogue of videos: ingest, look-up, and the listing with titles, thumbnails and analysis status.

Ingest probes and validates a file completely before it writes anything, and
writes the video row in one transaction, so a bad file leaves no partial record
and never stops the rest of a batch.

A video's analysis status has one definition, ``status_column()``, read by the CLI, the API and the
web UI alike: the latest ``analyze`` job while it is queued or running (or when it failed after the
stored document was written), else the status of the stored analysis document (``analysed``,
``partial`` naming the analyzers that failed, ``failed``), else ``none``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vidlens.analyze.documents import failed_analyzers
from vidlens.analyze.tables import documents
from vidlens.errors import MediaLimitError, NotFoundError, UsageError, VidLensError
from vidlens.hashing import sha256_file
from vidlens.jobs.queue import QUEUED, Job, JobQueue
from vidlens.media.containers import container_name
from vidlens.media.probe import probe
from vidlens.services import ServiceContext
from vidlens.settings import MediaSettings
from vidlens.store.db import Store
from vidlens.store.schema import jobs, results, shots, videos
from vidlens.types import Video

ANALYZE = "analyze"  # the job kind whose state a video's status follows
STATUSES = ("none", "queued", "analysing", "analysed", "partial", "failed")
_job = jobs.alias("analysis_job")


@dataclass(frozen=True)
class IngestResult:
    path: str
    status: str  # "added" | "duplicate" | "failed"
    video: Video | None = None
    error: VidLensError | None = None
    job_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "status": self.status, "job_id": self.job_id}
        if self.video is not None:
            d["video_id"] = self.video.id
            d["duration_s"] = round(self.video.duration_s, 3)
            d["width"], d["height"] = self.video.width, self.video.height
        if self.error is not None:
            d["error"] = {"code": self.error.code, "message": self.error.message}
        return d


def status_column() -> sa.ColumnElement[str]:
    """A video's analysis status, as a column over ``_listing_from()`` (the one definition of it)."""
    return sa.case(
        (_job.c.status == "queued", "queued"),
        (_job.c.status == "running", "analysing"),
        (sa.and_(_job.c.status == "failed",
                 sa.or_(documents.c.created_at.is_(None), _job.c.finished_at >= documents.c.created_at)), "failed"),
        (documents.c.status.is_not(None), documents.c.status),
        else_="none",
    )


def _listing_from() -> sa.FromClause:
    """``videos`` with its latest analyze job (``_job``) and its stored document's status row."""
    latest = (sa.select(jobs.c.video_id, sa.func.max(jobs.c.id).label("job_id"))
              .where(jobs.c.kind == ANALYZE).group_by(jobs.c.video_id).subquery())
    return (videos.outerjoin(latest, latest.c.video_id == videos.c.id)
            .outerjoin(_job, _job.c.id == latest.c.job_id)
            .outerjoin(documents, documents.c.video_id == videos.c.id))


class Catalog:
    def __init__(self, store: Store, limits: MediaSettings, jobs: JobQueue) -> None:
        self.store = store
        self.limits = limits
        self.jobs = jobs

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> Catalog:
        return cls(ctx.store, ctx.root_settings.media, ctx.jobs)

    # -- ingest -----------------------------------------------------------------
    def expand(self, paths: Iterable[str | Path]) -> Iterator[Path]:
        """Files named explicitly, plus media files (by extension) found under folders, sorted."""
        exts = {e.lower() for e in self.limits.extensions}
        for raw in paths:
            p = Path(raw)
            if p.is_dir():
                for root, dirs, files in os.walk(p):
                    dirs.sort()
                    for name in sorted(files):
                        if Path(name).suffix.lower() in exts and not name.startswith("."):
                            yield Path(root) / name
            else:
                yield p

    def ingest(self, paths: Iterable[str | Path], *, analyze: bool = True,
               on_result: Callable[[IngestResult], None] | None = None) -> list[IngestResult]:
        out = []
        for path in self.expand(paths):
            res = self.ingest_file(path, analyze=analyze)
            out.append(res)
            if on_result is not None:
                on_result(res)
        return out

    def ingest_file(self, path: str | Path, *, analyze: bool = True, title: str | None = None) -> IngestResult:
        """Add one file; ``title`` names it in listings (default: its file name; kept by a duplicate unless
        the video has none)."""
        p = str(path)
        try:
            video = self._probe_checked(p)
        except VidLensError as exc:
            return IngestResult(p, "failed", error=exc)
        status = "added"
        with self.store.tx() as conn:
            exists = conn.execute(sa.select(videos.c.id, videos.c.title).where(videos.c.id == video.id)).first()
            if exists is not None:
                status = "duplicate"
                if title and exists.title is None:
                    conn.execute(videos.update().where(videos.c.id == video.id).values(title=title))
            else:
                conn.execute(videos.insert().values(
                    id=video.id, uri=video.uri, filename=Path(p).name, title=title, size_bytes=video.size_bytes,
                    container=video.container, duration_s=video.duration_s, width=video.width,
                    height=video.height, fps=str(video.fps) if video.fps else None, has_audio=video.has_audio,
                    probe=video.to_dict(), created_at=time.time()))
        job_id = None
        if analyze:
            job = self.jobs.enqueue(ANALYZE, {"video_id": video.id}, key=f"analyze:{video.id}",
                                    video_id=video.id)
            job_id = job.id
        return IngestResult(p, status, video=video, job_id=job_id)

    def queue_analysis(self, video_id: str, analyzers: list[str] | None = None) -> Job:
        """Queue analysis of a video, merged into its analysis that is still queued when there is one
        (``analyzers`` None means all; a merge asks for the union), so repeated requests make one job."""
        with self.store.tx() as conn:
            row = conn.execute(self.store.for_update(
                sa.select(jobs).where(jobs.c.kind == ANALYZE, jobs.c.video_id == video_id,
                                      jobs.c.status == QUEUED, jobs.c.attempts == 0)
                .order_by(jobs.c.id.desc()).limit(1))).first()
            if row is not None:
                queued = Job.from_row(row)
                wanted = queued.payload.get("analyzers")
                merged = None if wanted is None or analyzers is None else sorted({*wanted, *analyzers})
                payload = {k: v for k, v in queued.payload.items() if k != "analyzers"}
                if merged is not None:
                    payload["analyzers"] = merged
                conn.execute(jobs.update().where(jobs.c.id == queued.id).values(payload=payload))
                return Job.from_row(conn.execute(sa.select(jobs).where(jobs.c.id == queued.id)).one())
        payload: dict[str, Any] = {"video_id": video_id}
        if analyzers:
            payload["analyzers"] = sorted(set(analyzers))
        return self.jobs.enqueue(ANALYZE, payload, video_id=video_id)

    def _probe_checked(self, p: str) -> Video:
        if os.path.isfile(p) and os.path.getsize(p) > self.limits.max_file_bytes:
            raise MediaLimitError(f"{Path(p).name}: {os.path.getsize(p)} bytes exceeds the ingest limit of "
                                  f"{self.limits.max_file_bytes} bytes (media.max_file_bytes)", path=p)
        video = probe(p, require_video=False)  # audio-only files are analysed too (speech, tags)
        if video.width > self.limits.max_width or video.height > self.limits.max_height:
            raise MediaLimitError(f"{Path(p).name}: picture {video.width}x{video.height} exceeds the limit "
                                  f"{self.limits.max_width}x{self.limits.max_height} (media.max_width/max_height)",
                                  path=p)
        if video.duration_s > self.limits.max_duration_s:
            raise MediaLimitError(f"{Path(p).name}: duration {video.duration_s:.0f} s exceeds the limit of "
                                  f"{self.limits.max_duration_s:.0f} s (media.max_duration_s)", path=p)
        return video

    # -- look-up ----------------------------------------------------------------
    def get_video(self, ref: str) -> Video:
        """By id, by a unique id prefix (≥ 6 hex digits), or by the path of a file (hashed)."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(videos.c.probe).where(videos.c.id == ref)).first()
            if row is None and len(ref) >= 6 and all(c in "0123456789abcdef" for c in ref.lower()):
                rows = conn.execute(sa.select(videos.c.probe).where(videos.c.id.like(ref.lower() + "%"))
                                    .limit(2)).all()
                if len(rows) > 1:
                    raise UsageError(f"video id prefix '{ref}' is ambiguous; give more digits")
                row = rows[0] if rows else None
        if row is None and os.path.isfile(ref):
            return self.get_video(sha256_file(ref))
        if row is None:
            raise NotFoundError(f"no video '{ref}' in the library (ingest it first: vidlens ingest PATH)")
        return Video.from_dict(row[0])

    def list_videos(self, *, q: str | None = None, min_duration_s: float | None = None,
             max_duration_s: float | None = None, status: str | None = None, limit: int = 50,
             offset: int = 0) -> list[dict[str, Any]]:
        """Newest first: each video with its title, thumbnail (first shot) and analysis status."""
        if status is not None and status not in STATUSES:
            raise UsageError(f"unknown status '{status}'; one of {', '.join(STATUSES)}")
        query = self._listing().order_by(videos.c.created_at.desc(), videos.c.id).limit(limit).offset(offset)
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(sa.or_(videos.c.filename.ilike(pattern, escape="\\"),
                                       videos.c.title.ilike(pattern, escape="\\")))
        if min_duration_s is not None:
            query = query.where(videos.c.duration_s >= min_duration_s)
        if max_duration_s is not None:
            query = query.where(videos.c.duration_s <= max_duration_s)
        if status:
            query = query.where(status_column() == status)
        with self.store.read() as conn:
            return [_summary(r) for r in conn.execute(query)]

    def summary(self, video_id: str) -> dict[str, Any]:
        """One video as ``list_videos`` shows it (title, thumbnail, status, failed analyzers)."""
        with self.store.read() as conn:
            row = conn.execute(self._listing().where(videos.c.id == video_id)).first()
        if row is None:
            raise NotFoundError(f"no video '{video_id}' in the library")
        return _summary(row)

    def detail(self, ref: str) -> dict[str, Any]:
        """One video: probe, title, status, the analyzers its stored document was built from, recent jobs."""
        video = self.get_video(ref)
        d = video.to_dict()
        d.pop("uri", None)  # a server path is no business of API clients
        d.update(self.summary(video.id))
        with self.store.read() as conn:
            analyzers = conn.execute(sa.select(documents.c.analyzers)
                                     .where(documents.c.video_id == video.id)).scalar() or {}
        d.update(fps_value=float(video.fps) if video.fps else None,
                 container_name=container_name(video.container, video.tags, video.uri),
                 analyzers=[{"analyzer": n, **a} for n, a in sorted(analyzers.items())],
                 jobs=[j.to_dict() for j in self.jobs.list(video_id=video.id, limit=20)])
        return d

    @staticmethod
    def _listing() -> sa.Select[Any]:
        first_shot = sa.select(shots.c.thumbnail_blob).where(shots.c.video_id == videos.c.id, shots.c.idx == 0)
        return sa.select(
            videos.c.id, videos.c.filename, sa.func.coalesce(videos.c.title, videos.c.filename).label("title"),
            videos.c.duration_s, videos.c.width, videos.c.height, videos.c.fps, videos.c.has_audio,
            videos.c.container, videos.c.size_bytes, videos.c.created_at, status_column().label("status"),
            _job.c.progress, _job.c.error_message.label("job_error"), documents.c.analyzers,
            first_shot.scalar_subquery().label("thumbnail_blob"),
        ).select_from(_listing_from())

    # -- analysis ---------------------------------------------------------------
    def document(self, video_id: str) -> dict[str, Any] | None:
        """The stored analysis document of a video (docs/formats.md), or None before its first analysis."""
        with self.store.read() as conn:
            return conn.execute(sa.select(documents.c.document)  # type: ignore[no-any-return]
                                .where(documents.c.video_id == video_id)).scalar()

    def shots(self, video_id: str) -> list[dict[str, Any]]:
        """The rows of the ``shots`` projection, in stream ticks (``time_base``)."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(shots).where(shots.c.video_id == video_id).order_by(shots.c.idx)).all()
        return [dict(r._mapping) for r in rows]

    def results(self, video_id: str) -> dict[str, dict[str, Any]]:
        """The newest stored result row of each analyzer (document and error included)."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(results).where(results.c.video_id == video_id)
                                .order_by(results.c.analyzer, results.c.created_at, results.c.id)).all()
        return {r.analyzer: dict(r._mapping) for r in rows}

    def result(self, video_id: str, analyzer: str) -> dict[str, Any] | None:
        """The newest stored result of ``analyzer`` for a video."""
        return self.results(video_id).get(analyzer)


def _summary(row: Any) -> dict[str, Any]:
    d = {k: v for k, v in row._mapping.items() if k not in ("analyzers", "job_error", "progress")}
    d["failed"] = failed_analyzers(row.analyzers or {}) if d["status"] in ("partial", "failed") else []
    d["error"] = row.job_error if d["status"] == "failed" and row.job_error else None
    d["progress"] = row.progress if d["status"] in ("queued", "analysing") else None
    return d
