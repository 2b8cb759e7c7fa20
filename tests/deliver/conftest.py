"""Fixtures for delivery tests: small real encodes made with the packaged FFmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.media.ffmpeg import run_ffmpeg

LABEL = '{"Label":"1","ContentProducer":"vidlens-tests","ProduceID":"t-1"}'


def make_clip(
    path: Path,
    *,
    size: str = "640x360",
    rate: int = 30,
    seconds: float = 4.0,
    audio: bool = True,
    label: str | None = LABEL,
    vf: str | None = None,
    extra: list[str] | None = None,
) -> Path:
    """A test clip with hard scene changes every 1.3 s (so scene-cut keyframes would show up)."""
    parts = ["testsrc2", "smptebars", "testsrc", "rgbtestsrc"]
    n = int(seconds // 1.3) + 1
    inputs = ";".join(f"{parts[i % 4]}=size={size}:rate={rate}:duration=1.3[c{i}]" for i in range(n))
    graph = (
        inputs + ";" + "".join(f"[c{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0,trim=duration={seconds}"
    )
    graph += f",{vf}" if vf else ""
    graph += "[v]"
    args: list[str] = []
    if audio:
        args += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:sample_rate=48000:duration={seconds},volume='0.05+0.2*gt(mod(t,2),1)':eval=frame",
        ]
    args += ["-filter_complex", graph, "-map", "[v]"]
    if audio:
        args += ["-map", "0:a", "-c:a", "aac", "-b:a", "96k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *(extra or [])]
    if label is not None:
        args += ["-metadata", f"AIGC={label}", "-movflags", "+use_metadata_tags"]
    run_ffmpeg([*args, str(path)])
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def labelled_720p(clips: Path) -> Path:
    return make_clip(clips / "labelled_720p.mp4", size="1280x720", seconds=6.0)


@pytest.fixture(scope="session")
def small_clip(clips: Path) -> Path:
    return make_clip(clips / "small.mp4")


@pytest.fixture(scope="session")
def clip_factory():
    """``make_clip`` for tests that need a clip with particular properties."""
    return make_clip


@pytest.fixture(scope="session")
def aigc_label() -> str:
    return LABEL
