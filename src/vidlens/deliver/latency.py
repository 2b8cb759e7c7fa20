"""Glass-to-glass latency of a live ladder, measured from the pictures themselves.

The test publisher stamps every frame with the wall clock twice: as text
(``drawtext`` ``%{localtime}``, for people) and as a 24-bit strip of black and
white blocks holding milliseconds since a base time (for this module). Reading
the newest HLS segment back and decoding its strip gives the capture time of
its frames; the moment the segment appeared in the playlist is when a player
could first fetch it. No OCR, no clock offsets: one machine, one clock.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vidlens.deliver.ladder import hls_playlist_entries
from vidlens.deliver.verify import _init_uri
from vidlens.errors import MediaError
from vidlens.media.decode import Sampling, read_frames
from vidlens.media.ffmpeg import ffmpeg_exe
from vidlens.media.source import open_bytes

BITS = 24
REF_W, REF_H = 1280, 720
BLOCK_W, BLOCK_H = REF_W // 32, REF_H // 18
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
)


def stamp_filter(base_epoch: float, fps: int = 30) -> str:
    """720p at ``fps``, pts set to wall-clock seconds since ``base_epoch``, the clock burnt in."""
    base_us = int(base_epoch * 1e6)
    parts = [
        f"fps={fps}",
        f"scale={REF_W}:{REF_H},setsar=1",
        "settb=AVTB",
        f"setpts='(RTCTIME-{base_us})/(TB*1000000)'",
        f"drawbox=x=0:y=0:w={BITS * BLOCK_W}:h={BLOCK_H}:color=black:t=fill",
    ]
    parts += [
        f"drawbox=x={i * BLOCK_W}:y=0:w={BLOCK_W}:h={BLOCK_H}:color=white:t=fill"
        f":enable='mod(floor(t*1000/{2**i})\\,2)'"
        for i in range(BITS)
    ]
    font = next((f for f in FONT_CANDIDATES if Path(f).is_file()), None)
    if font:
        parts.append(
            f"drawtext=fontfile={font}:text='%{{localtime\\:%T}}':x=20:y={BLOCK_H + 10}:fontsize=48"
            ":fontcolor=white:box=1:boxcolor=black"
        )
    return ",".join(parts)


def push_target(url: str, rtsp_transport: str = "tcp") -> list[str]:
    """FFmpeg output options that push to an ``rtmp://``, ``srt://`` or ``rtsp://`` ingest URL."""
    if url.startswith("rtmp://"):
        return ["-f", "flv", url]
    if url.startswith("srt://"):
        return ["-f", "mpegts", f"{url}?mode=caller&latency=120000"]
    if url.startswith("rtsp://"):
        return ["-f", "rtsp", "-rtsp_transport", rtsp_transport, url]
    raise ValueError(f"cannot push to {url!r}: not rtmp://, srt:// or rtsp://")


def publisher_command(
    clip: str | Path, url: str, base_epoch: float, *, rtsp_transport: str = "tcp"
) -> list[str]:
    """FFmpeg pushing ``clip`` in a loop at real-time speed, clock-stamped, to an RTMP, SRT or RTSP URL."""
    return [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-stream_loop",
        "-1",
        "-i",
        str(clip),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-vf",
        stamp_filter(base_epoch),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "30",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        "-ar",
        "48000",
        *push_target(url, rtsp_transport),
    ]


def read_stamp(gray: np.ndarray) -> int:
    """Milliseconds since the base time, from the block strip of one frame (any scale)."""
    sx, sy = gray.shape[1] / REF_W, gray.shape[0] / REF_H
    value = 0
    for i in range(BITS):
        x0, x1 = int((i * BLOCK_W + BLOCK_W * 0.3) * sx), int((i * BLOCK_W + BLOCK_W * 0.7) * sx)
        y0, y1 = int(BLOCK_H * 0.3 * sy), int(BLOCK_H * 0.7 * sy)
        if gray[y0:y1, x0:x1].mean() > 128:
            value |= 1 << i
    return value


@dataclass(frozen=True)
class LatencyResult:
    samples: int
    first_frame_s: float  # capture of a segment's first frame -> segment listed (median)
    last_frame_s: float  # capture of its last frame -> segment listed (median)
    all_first_s: list[float]

    def to_dict(self) -> dict:
        return asdict(self)


def _segment_stamps(playlist: Path, uri: str) -> tuple[int, int]:
    init = _init_uri(playlist)
    data = ((playlist.parent / init).read_bytes() if init else b"") + (playlist.parent / uri).read_bytes()
    stamps = [read_stamp(s.image) for s in read_frames(open_bytes(data, uri), Sampling(pix_fmt="gray"))]
    if not stamps:
        raise ValueError(f"{uri}: no frames")
    return stamps[0], stamps[-1]


def measure_latency(
    playlist: str | Path, base_epoch: float, *, segments: int = 5, timeout_s: float = 60.0
) -> LatencyResult:
    """Watch a live media playlist and time its next ``segments`` new segments against their stamps."""
    playlist = Path(playlist)
    deadline = time.monotonic() + timeout_s
    seen: set[str] | None = None
    firsts: list[float] = []
    lasts: list[float] = []
    while len(firsts) < segments and time.monotonic() < deadline:
        try:
            uris = [u for _, u in hls_playlist_entries(playlist)]
        except FileNotFoundError:
            uris = []
        now = time.time()
        if seen is None:
            if uris:
                seen = set(uris)
        else:
            fresh = [u for u in uris if u not in seen]
            seen.update(fresh)
            if fresh:
                try:
                    first, last = _segment_stamps(playlist, fresh[-1])
                except (FileNotFoundError, MediaError, ValueError):
                    continue
                firsts.append(now - (base_epoch + first / 1000))
                lasts.append(now - (base_epoch + last / 1000))
        time.sleep(0.02)
    if not firsts:
        raise TimeoutError(f"no new segment in {playlist} within {timeout_s:g} s")
    return LatencyResult(
        len(firsts),
        round(statistics.median(firsts), 3),
        round(statistics.median(lasts), 3),
        [round(x, 3) for x in firsts],
    )
