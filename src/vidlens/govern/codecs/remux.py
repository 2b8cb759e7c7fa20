"""Lossless remux through FFmpeg for containers whose index we do not rewrite ourselves.

Matroska's SeekHead and FLV's keyframe index hold absolute offsets, so growing a
tag in place means rewriting them; FFmpeg's muxers already do that correctly.
``-map 0 -c copy`` keeps every stream (attachments included) untouched, and
``-map_metadata 0`` keeps every global tag; only the AIGC tag is replaced.
"""

from __future__ import annotations

from pathlib import Path

from vidlens.media.ffmpeg import run_ffmpeg


def remux_with_tag(src: Path, dst: Path, value: str, muxer: str) -> None:
    run_ffmpeg(["-i", str(src), "-map", "0", "-c", "copy", "-map_metadata", "0", "-map_chapters", "0",
                "-metadata", f"AIGC={value}", "-f", muxer, str(dst)], path=str(src))
