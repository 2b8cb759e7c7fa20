"""The video library: ingest (probe, de-duplicate by content, record), look-up, shots.

Ingest probes and validates a file completely before it writes anything, and
writes the video row in one transaction, so a bad file leaves no partial record
and never stops the rest of a batch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.errors import MediaLimitError, NotFoundError, UsageError, VidLensError
from vidlens.hashing import sha256_file
from vidlens.media.probe import probe
from vidlens.store.schema import results, shots, videos
from vidlens.types import Video

if TYPE_CHECKING:
    from vidlens.platform import Platform


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


class Library:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.store = platform.store
        self.limits = platform.settings.media

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

    def ingest_file(self, path: str | Path, *, analyze: bool = True) -> IngestResult:
        p = str(path)
        try:
            video = self._probe_checked(p)
        except VidLensError as exc:
            return IngestResult(p, "failed", error=exc)
        status = "added"
        with self.store.tx() as conn:
            exists = conn.execute(sa.select(videos.c.id).where(videos.c.id == video.id)).first()
            if exists is not None:
                status = "duplicate"
            else:
                conn.execute(videos.insert().values(
                    id=video.id, uri=video.uri, filename=Path(p).name, size_bytes=video.size_bytes,
                    container=video.container, duration_s=video.duration_s, width=video.width,
                    height=video.height, fps=str(video.fps) if video.fps else None, has_audio=video.has_audio,
                    probe=video.to_dict(), created_at=time.time()))
        job_id = None
        if analyze:
            job = self.platform.jobs.enqueue("analyze", {"video_id": video.id}, key=f"analyze:{video.id}",
                                             video_id=video.id)
            job_id = job.id
        return IngestResult(p, status, video=video, job_id=job_id)

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

    def list_videos(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        q = sa.select(videos.c.id, videos.c.filename, videos.c.duration_s, videos.c.width, videos.c.height,
                      videos.c.fps, videos.c.has_audio, videos.c.container, videos.c.created_at,
                      videos.c.size_bytes).order_by(videos.c.created_at.desc()).limit(limit).offset(offset)
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def shots(self, video_id: str) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(shots).where(shots.c.video_id == video_id).order_by(shots.c.idx)).all()
        return [dict(r._mapping) for r in rows]

    def result(self, video_id: str, analyzer: str) -> dict[str, Any] | None:
        """The newest stored result document of ``analyzer`` for a video."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(results).where(results.c.video_id == video_id,
                                                        results.c.analyzer == analyzer)
                               .order_by(results.c.created_at.desc()).limit(1)).first()
        return dict(row._mapping) if row is not None else None
