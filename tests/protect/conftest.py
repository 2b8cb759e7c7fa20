"""Clips for protect tests, rendered with FFmpeg's synthetic sources (no corpus needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.media.ffmpeg import run_ffmpeg

# A picture that changes every frame (zooming fractal) and a tune that changes every quarter second.
REFERENCE = "mandelbrot=size=320x240:rate=25:end_scale=0.05,trim=duration={d},format=yuv420p[v]"
TUNE = ("aevalsrc='0.4*sin(2*PI*(300+200*floor(mod(t*4,5)))*t)+0.3*sin(2*PI*(900+150*floor(mod(t*3,7)))*t)'"
        ":s=44100:d={d}[a]")
UNRELATED = "life=size=320x240:rate=25:mold=10:ratio=0.3:death_color=#202020:life_color=#e0e0e0,trim=duration={d}," \
    "format=yuv420p[v]"


def render(out: Path, graph: str, duration: float, *, audio: bool = False, extra: list[str] | None = None) -> Path:
    """Render a ``-filter_complex`` graph over lavfi sources (``[v]`` and optionally ``[a]``) to ``out``."""
    g = graph.replace("{d}", str(duration))
    args = ["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.1", "-filter_complex", g, "-map", "[v]"]
    if audio:
        args += ["-map", "[a]", "-c:a", "aac", "-b:a", "96k"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", *(extra or []), str(out)]
    run_ffmpeg(args)
    return out


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("protect-clips")
    ref = render(d / "reference.mp4", f"{REFERENCE};{TUNE}", 8, audio=True)
    return {
        "reference": ref,
        # seconds 2-6 of the reference, mirrored, blurred, letterboxed, at 15 fps
        "copy": render(d / "copy.mp4", f"{REFERENCE.replace('[v]', '')},trim=start=2:end=6,setpts=PTS-STARTPTS,"
                       "hflip,gblur=sigma=1.5,scale=320:180,pad=320:240:0:30,fps=15,format=yuv420p[v]", 8),
        "unrelated": render(d / "unrelated.mp4", UNRELATED, 6),
        # the tune kept, picture replaced
        "same_sound": render(d / "same_sound.mp4", f"{UNRELATED};{TUNE}", 6, audio=True),
        "black": render(d / "black.mp4", "color=c=black:size=160x120:rate=10:duration={d},format=yuv420p[v];"
                        "anullsrc=r=44100:cl=mono,atrim=duration={d}[a]", 3, audio=True),
        "tiny": render(d / "tiny.mp4", REFERENCE, 0.5),
        "still": render(d / "still.png", "testsrc2=size=160x120:duration=0.04[v]", 0.04,
                        extra=["-frames:v", "1", "-c:v", "png"]),
        "audio_only": _audio_only(d / "tune.wav"),
    }


def _audio_only(out: Path) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", TUNE.replace("[a]", "").replace("{d}", "4"), str(out)])
    return out
