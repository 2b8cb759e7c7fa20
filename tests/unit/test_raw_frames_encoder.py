"""raw_frames_encoder: frames made in Python into FFmpeg, its failure reported with FFmpeg's own reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.errors import MediaError
from vidlens.media.ffmpeg import raw_frames_encoder
from vidlens.media.probe import probe

RAW = ["-f", "rawvideo", "-pix_fmt", "gray", "-s", "64x48", "-r", "10", "-i", "-"]


def _frames(n: int) -> list[bytes]:
    return [np.full((48, 64), (8 * i) % 256, np.uint8).tobytes() for i in range(n)]


def test_frames_written_become_a_video(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with raw_frames_encoder([*RAW, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)], what="a test encode") as write:
        for frame in _frames(20):
            write(frame)
    info = probe(out)
    assert (info.width, info.height) == (64, 48)
    assert info.frame_count == 20


def test_ffmpeg_that_stops_reading_early_ends_the_writing_without_an_error(tmp_path: Path) -> None:
    out = tmp_path / "one.png"
    with raw_frames_encoder([*RAW, "-frames:v", "1", "-update", "1", str(out)], what="a test encode") as write:
        for frame in _frames(2000):  # ~6 MB: more than a pipe holds, so FFmpeg's exit breaks the pipe
            write(frame)
    assert out.stat().st_size > 0


def test_a_failed_encode_says_what_failed_and_why(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(MediaError, match=r"^a test encode failed: .*[Ee]ncoder not found") as err:
        with raw_frames_encoder([*RAW, "-c:v", "no-such-codec", str(out)], what="a test encode",
                                path="in.mp4") as write:
            for frame in _frames(5):
                write(frame)
    assert err.value.path == "in.mp4"
