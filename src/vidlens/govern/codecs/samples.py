"""Small synthetic media made with FFmpeg's lavfi sources, for codec examples and tests."""

from __future__ import annotations

from pathlib import Path

from vidlens.media.ffmpeg import run_ffmpeg

_VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=1"]
_AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1"]


def make_sample(path: Path, codec_args: list[str], *, video: bool = True, audio: bool = True) -> Path:
    """Encode one second of test pattern and/or tone into ``path`` with ``codec_args``."""
    inputs = (_VIDEO if video else []) + (_AUDIO if audio else [])
    run_ffmpeg([*inputs, *codec_args, "-metadata", "title=keep-me", "-shortest", str(path)], path=str(path))
    return path
