"""Browser-playable proxies: an H.264/AAC MP4 (index first) of every video a browser cannot play.

Browsers demux only a few containers (MP4/MOV, WebM/Matroska, Ogg, WAV, FLAC, MP3) and decode only a
few codecs; an MPEG-PS ``.mpg``, an ``.avi`` or a ``.gif`` spins for ever in a ``<video>`` element.
``needs_proxy`` decides from the probe, never from the file name; the ``deliver.proxy`` job encodes
the proxy with Deliver's ``transcode`` under the ``proxy`` profile, and ``Proxies.state`` tells the
player which file to load (or that the proxy is being made).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlens.deliver.profiles import Profile
from vidlens.jobs.queue import FINAL, JobQueue
from vidlens.services import ServiceContext
from vidlens.types import Video

KIND = "deliver.proxy"
PROFILE = Profile(name="proxy", codec="h264", crf=23, speed="veryfast", max_width=1280, max_height=720,
                  max_fps=30, audio_bitrate_kbps=128)
# what Chromium, Firefox and Safari all demux and decode (FFmpeg's demuxer names, as the probe reports them)
PLAYABLE_CONTAINERS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "ogg", "wav", "flac", "mp3"}
PLAYABLE_VIDEO = {"h264", "vp8", "vp9", "av1", "theora"}
PLAYABLE_AUDIO = {"aac", "mp3", "opus", "vorbis", "flac", "pcm_s16le", "pcm_u8", "pcm_f32le", "pcm_s24le"}


def needs_proxy(video: Video) -> bool:
    """True when a browser could not demux the container or decode one of its first streams."""
    if not PLAYABLE_CONTAINERS & set(video.container.split(",")):
        return True
    first_video = next((s for s in video.streams if s.kind == "video"), None)
    first_audio = next((s for s in video.streams if s.kind == "audio"), None)
    if first_video is not None and first_video.codec not in PLAYABLE_VIDEO:
        return True
    return first_audio is not None and first_audio.codec not in PLAYABLE_AUDIO


@dataclass(frozen=True)
class Playback:
    """What the player loads: the original, the proxy, or nothing yet (``status`` says why)."""

    video_id: str
    needs_proxy: bool
    status: str  # original | ready | queued | making | failed | unavailable
    url: str | None
    job_id: int | None = None
    progress: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Proxies:
    """Proxy files under ``<data_dir>/proxies/<video id>.mp4``, made by ``deliver.proxy`` jobs."""

    def __init__(self, root: Path, jobs: JobQueue) -> None:
        self.root = root
        self.jobs = jobs

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> Proxies:
        return cls(ctx.data_dir / "proxies", ctx.jobs)

    def path(self, video_id: str) -> Path:
        return self.root / f"{video_id}.mp4"

    def state(self, video: Video, *, make: bool = True) -> Playback:
        """How ``video`` plays in a browser; with ``make``, queue its proxy when it needs one (idempotent)."""
        original = f"/api/videos/{video.id}/file"
        if not needs_proxy(video):
            return Playback(video.id, False, "original", original)
        if self.path(video.id).is_file():
            return Playback(video.id, True, "ready", f"/api/videos/{video.id}/proxy")
        if not video.width:
            return Playback(video.id, True, "unavailable", None, error="audio in a format browsers cannot play")
        found = self.jobs.list(video_id=video.id, limit=50)
        job = next((j for j in found if j.kind == KIND), None)
        if job is None and make:
            job = self.jobs.enqueue(KIND, {"video_id": video.id}, key=f"{KIND}:{video.id}", video_id=video.id)
        if job is None:
            return Playback(video.id, True, "unavailable", None)
        if job.status in FINAL:  # succeeded here: the file was removed since
            error = job.error_message or ("the proxy file was removed" if job.status == "succeeded" else job.status)
            return Playback(video.id, True, "failed", None, job.id, error=error)
        status = "queued" if job.status == "queued" else "making"
        return Playback(video.id, True, status, None, job.id, job.progress)
