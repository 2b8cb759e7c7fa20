"""Synthetic clips with known structure (cuts, fades, dissolves, flashes, audio).

Used by plugin ``examples()`` and tests, so an analyzer's contract can be checked
on a fresh clone with no media corpus. Each scene is a textured, moving pattern of
its own colour family, so hard cuts are real content changes, not just brightness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class Scene:
    frames: int
    seed: int
    transition_in: str = "cut"  # cut | fade | dissolve (length = transition_frames)
    transition_frames: int = 0
    flash_at: tuple[int, ...] = ()  # frame offsets inside the scene that flash white


def scene_frame(seed: int, i: int, w: int, h: int) -> np.ndarray:
    """A smooth moving texture whose palette depends on ``seed``."""
    rng = np.random.default_rng(seed)
    base = rng.integers(30, 226, size=3).astype(np.float32)
    fx, fy = rng.uniform(1.5, 5.0, size=2)
    phase = rng.uniform(0, 6.28)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wave = np.sin(xx / w * fx * 6.28 + i * 0.08 + phase) * np.cos(yy / h * fy * 6.28 - i * 0.05)
    blob_x = (0.5 + 0.3 * np.sin(i * 0.05 + phase)) * w
    blob = np.exp(-(((xx - blob_x) / (w * 0.12)) ** 2 + ((yy - h / 2) / (h * 0.2)) ** 2))
    img = base[None, None, :] + 60 * wave[..., None] * np.array([1.0, -0.6, 0.4], np.float32) \
        + 80 * blob[..., None] * (1 if seed % 2 else -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_scenes(scenes: Sequence[Scene], w: int, h: int) -> tuple[list[np.ndarray], list[int], list[tuple[int, int]]]:
    """Frames plus ground truth: hard-cut frame indices and gradual [first, last] ranges."""
    frames: list[np.ndarray] = []
    cuts: list[int] = []
    gradual: list[tuple[int, int]] = []
    for n, sc in enumerate(scenes):
        start = len(frames)
        body = [scene_frame(sc.seed, i, w, h) for i in range(sc.frames)]
        for off in sc.flash_at:
            if 0 <= off < len(body):
                body[off] = np.full_like(body[off], 250)
        if n > 0 and sc.transition_in == "cut":
            cuts.append(start)
        elif n > 0 and sc.transition_in in ("fade", "dissolve") and sc.transition_frames > 0:
            k = sc.transition_frames
            prev = frames[-1]
            for j in range(k):
                a = (j + 1) / (k + 1)
                if sc.transition_in == "dissolve":
                    mix = (1 - a) * prev.astype(np.float32) + a * body[0].astype(np.float32)
                else:  # fade out to black then in
                    mix = (abs(1 - 2 * a)) * (prev if a < 0.5 else body[0]).astype(np.float32)
                frames.append(mix.astype(np.uint8))
            gradual.append((start, start + k - 1))
        frames.extend(body)
    return frames, cuts, gradual


def write_video(path: Path, frames: Sequence[np.ndarray], fps: int | Fraction = 25, *,
                codec: str = "libx264", audio_tone_hz: float | None = None,
                audio_channels: int = 2, crf: int = 23) -> Path:
    """Encode RGB frames (and an optional sine tone) into ``path`` with PyAV."""
    path = Path(path)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height = w, h
        vs.pix_fmt = "yuv420p"
        if codec == "libx264":
            vs.options = {"crf": str(crf), "preset": "veryfast", "g": "50"}
        astream = None
        if audio_tone_hz is not None:
            astream = out.add_stream("aac", rate=48000)
            astream.layout = "stereo" if audio_channels == 2 else ("mono" if audio_channels == 1 else "5.1")
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1) / Fraction(fps)
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if astream is not None:
            n_samples = int(48000 * len(frames) / float(fps))
            t = np.arange(n_samples, dtype=np.float32) / 48000
            tone = (0.2 * np.sin(2 * np.pi * audio_tone_hz * t)).astype(np.float32)
            chans = audio_channels
            pos = 0
            while pos < n_samples:
                chunk = tone[pos:pos + 1024]
                data = np.tile(chunk, (chans, 1))
                af = av.AudioFrame.from_ndarray(data, format="fltp", layout=astream.layout.name)
                af.sample_rate = 48000
                af.pts = pos
                for pkt in astream.encode(af):
                    out.mux(pkt)
                pos += len(chunk)
            for pkt in astream.encode():
                out.mux(pkt)
    return path


def make_cut_clip(path: Path, *, w: int = 160, h: int = 96, fps: int = 25) -> tuple[Path, list[int]]:
    """Four scenes joined by hard cuts; returns the cut frame indices."""
    scenes = [Scene(30, 1), Scene(25, 2), Scene(35, 3), Scene(20, 4)]
    frames, cuts, _ = render_scenes(scenes, w, h)
    return write_video(path, frames, fps), cuts
