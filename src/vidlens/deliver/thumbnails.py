"""Poster frame, sprite sheets with a WebVTT thumbnail track, and a short animated preview."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from vidlens.deliver.filters import even
from vidlens.deliver.publish import staged_dir
from vidlens.deliver.source import SourceInfo, inspect_source
from vidlens.deliver.transcode import check_complete, demuxed_duration
from vidlens.errors import MediaError, UsageError
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.timebase import format_timecode

SPRITE_COLUMNS = 10
SPRITE_ROWS = 10


@dataclass(frozen=True)
class ThumbnailResult:
    outdir: str
    poster: str
    poster_time_s: float
    poster_origin: str  # "given" (poster_at), "analysis" (best keyframe), or "default" (10 % in)
    sprites: list[str]
    vtt: str
    tile_width: int
    tile_height: int
    interval_s: float
    cues: int
    preview: str | None
    wall_s: float

    def to_dict(self) -> dict:
        return asdict(self)


def poster_from_shots(shots: list[dict]) -> float | None:
    """The keyframe of the longest shot (as stored by shot analysis), in seconds; None without shots.

    The longest shot is the one the video dwells on, and its keyframe is the frame analysis
    picked as most representative of it.
    """
    if not shots:
        return None
    best = max(shots, key=lambda s: s["end_pts"] - s["start_pts"])
    return round(float(best["keyframe_pts"] * Fraction(best["time_base"])), 3)


def default_poster_time(duration_s: float) -> float:
    """10 % in, at most 5 s: past black leaders and titles, before the spoilers."""
    return round(min(max(duration_s, 0.0) * 0.1, 5.0), 3)


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def sprite_vtt(
    duration_s: float,
    interval_s: float,
    tile_w: int,
    tile_h: int,
    sprite_names: list[str],
    columns: int = SPRITE_COLUMNS,
    rows: int = SPRITE_ROWS,
) -> tuple[str, int]:
    """WebVTT thumbnail track: one cue per tile, ``sheet.jpg#xywh=x,y,w,h``."""
    per_sheet = columns * rows
    cues = max(1, math.ceil(round(duration_s / interval_s, 2)))
    lines = ["WEBVTT", ""]
    for i in range(cues):
        sheet, k = divmod(i, per_sheet)
        if sheet >= len(sprite_names):
            break
        x, y = (k % columns) * tile_w, (k // columns) * tile_h
        start = i * interval_s
        end = duration_s if i == cues - 1 else (i + 1) * interval_s
        lines += [
            f"{_vtt_time(start)} --> {_vtt_time(end)}",
            f"{sprite_names[sheet]}#xywh={x},{y},{tile_w},{tile_h}",
            "",
        ]
    return "\n".join(lines), (len(lines) - 2) // 3


def write_poster(src: SourceInfo, out: Path, at_s: float, max_width: int = 1280) -> None:
    w, _h = src.display_size
    width = even(min(w, max_width))
    run_ffmpeg(
        [
            "-ss",
            f"{at_s:.3f}",
            "-i",
            src.video.uri,
            "-frames:v",
            "1",
            "-vf",
            f"scale={width}:-2,setsar=1",
            "-q:v",
            "3",
            str(out),
        ],
        path=src.video.uri,
    )
    if not out.is_file():
        raise MediaError(f"no frame at {at_s:.3f} s for the poster", path=src.video.uri)


def write_preview(
    src: SourceInfo, out: Path, start_s: float, seconds: float = 3.0, width: int = 320, fps: int = 12
) -> None:
    """Animated preview: looping WebP, or a muted H.264 MP4."""
    vf = f"fps={fps},scale={even(width)}:-2:flags=lanczos,setsar=1"
    if out.suffix == ".webp":
        codec = ["-c:v", "libwebp_anim", "-loop", "0", "-quality", "70", "-an"]
    else:
        codec = [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p",
            "-an",
            "-movflags",
            "+faststart",
        ]
        vf += ",format=yuv420p"
    run_ffmpeg(
        ["-ss", f"{start_s:.3f}", "-t", f"{seconds:g}", "-i", src.video.uri, "-vf", vf, *codec, str(out)],
        path=src.video.uri,
    )


def thumbnails(
    source: str | Path,
    outdir: str | Path,
    *,
    poster_at: float | None = None,
    poster_origin: str = "given",
    interval_s: float | None = None,
    tile_width: int = 160,
    preview: str | None = "webp",
    overwrite: bool = False,
) -> ThumbnailResult:
    """Write ``poster.jpg``, ``sprite_NNN.jpg`` + ``thumbnails.vtt`` and ``preview.webp|mp4`` into ``outdir``.

    ``poster_at`` takes a preferred time (for example the best keyframe found by analysis, then
    ``poster_origin="analysis"``); without it the poster is taken 10 % in.
    """
    t0 = time.perf_counter()
    if preview not in (None, "webp", "mp4"):
        raise UsageError(f"preview must be webp or mp4, not '{preview}'")
    src = inspect_source(source)
    duration = src.video.duration_s
    check_complete(src, demuxed_duration(source), str(source))
    if poster_at is not None and not 0 <= poster_at < max(duration, 0.001):
        raise UsageError(
            f"poster time {format_timecode(poster_at)} is outside the video (0 to {duration:.2f} s)"
        )
    at = default_poster_time(duration) if poster_at is None else poster_at
    if interval_s is None:  # ~100 tiles for short clips, never denser than one a second
        interval_s = max(1.0, round(duration / 100, 1))
    w, h = src.display_size
    tw = even(min(tile_width, w))
    th = even(tw * h / w)
    with staged_dir(outdir, overwrite=overwrite) as stage:
        write_poster(src, stage / "poster.jpg", at)
        run_ffmpeg(
            [
                "-i",
                src.video.uri,
                "-an",
                "-vf",
                f"fps=1/{interval_s:g},scale={tw}:{th},setsar=1,tile={SPRITE_COLUMNS}x{SPRITE_ROWS}",
                "-q:v",
                "4",
                "-fps_mode",
                "passthrough",
                str(stage / "sprite_%03d.jpg"),
            ],
            path=src.video.uri,
        )
        sprites = sorted(p.name for p in stage.glob("sprite_*.jpg"))
        if not sprites:
            raise MediaError("FFmpeg wrote no sprite sheet", path=src.video.uri)
        vtt, cues = sprite_vtt(duration, interval_s, tw, th, sprites)
        (stage / "thumbnails.vtt").write_text(vtt)
        preview_name = None
        if preview:
            preview_name = f"preview.{preview}"
            seconds = min(3.0, max(duration - at, 0.5))
            write_preview(src, stage / preview_name, max(0.0, min(at, duration - seconds)), seconds)
    return ThumbnailResult(
        outdir=str(Path(outdir).absolute()),
        poster="poster.jpg",
        poster_time_s=at,
        poster_origin="default" if poster_at is None else poster_origin,
        sprites=sprites,
        vtt="thumbnails.vtt",
        tile_width=tw,
        tile_height=th,
        interval_s=interval_s,
        cues=cues,
        preview=preview_name,
        wall_s=round(time.perf_counter() - t0, 3),
    )
