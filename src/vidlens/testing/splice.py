"""Edited clips with boundaries known by construction: shots of real films spliced with FFmpeg.

Shot-detection accuracy measured only on the clips a detector was tuned on says little. Splicing
single-shot segments of *different* real films gives any number of new test clips whose cut
frames are exact (the running frame count), and the hard cases can be made on purpose:

* ``tone``: every segment is remapped to one mean luma with its contrast and saturation cut, so
  a cut joins two low-contrast shots of the same brightness and colour (white-on-white snow,
  dark-on-dark night);
* ``join``: segments meet in a hard cut, a cross-dissolve (``xfade=fade``) or a fade through
  black (``xfade=fadeblack``).

Frames are taken 1:1 (each source frame becomes one output frame at ``fps``), so no frame is
dropped or repeated and the truth stays frame-exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe


@dataclass(frozen=True)
class Tone:
    """Remap luma to ``mean`` with contrast scaled by ``gain``; chroma scaled by ``saturation``."""

    mean: float
    gain: float
    saturation: float = 0.4


WHITE = Tone(mean=200.0, gain=0.3)  # bright, washed-out (snow, fog, overexposed sky)
DARK = Tone(mean=40.0, gain=0.3)  # dark, flat (night, unlit interiors), still above black


@dataclass(frozen=True)
class Segment:
    """``frames`` frames of ``path`` from frame ``start``; ``join`` says how it meets the segment before."""

    path: Path
    start: int
    frames: int
    tone: Tone | None = None
    join: str = "cut"  # cut | dissolve | fadeblack
    join_frames: int = 0  # length of a dissolve or fade, in frames


def mean_luma(path: Path, start: int, frames: int) -> float:
    """Mean luma (0..255) of ``frames`` frames of ``path`` from ``start``."""
    total, n = 0.0, 0
    for s in iter_frames(probe(path), Sampling(max_side=64, pix_fmt="gray")):
        if s.index >= start + frames:
            break
        if s.index >= start:
            total += float(s.image.mean())
            n += 1
    if n == 0:
        raise ValueError(f"{path} has no frames in [{start}, {start + frames})")
    return total / n


def splice(segments: Sequence[Segment], out: Path, *, size: tuple[int, int] = (640, 360), fps: int = 25,
           crf: int = 18) -> dict:
    """Write ``segments`` joined into ``out`` (H.264); return the truth in ``shots.json`` form."""
    if len(segments) < 1:
        raise ValueError("nothing to splice")
    w, h = size
    args: list[str] = []
    chains = []
    for i, seg in enumerate(segments):
        if seg.join not in ("cut", "dissolve", "fadeblack"):
            raise ValueError(f"unknown join {seg.join!r}")
        if i and seg.join != "cut" and not (2 <= seg.join_frames < min(seg.frames, segments[i - 1].frames)):
            raise ValueError(f"segment {i}: a {seg.join} needs 2 <= join_frames < both segments' lengths")
        args += ["-i", str(seg.path)]
        f = [f"trim=start_frame={seg.start}:end_frame={seg.start + seg.frames}", f"setpts=N/({fps}*TB)",
             f"scale={w}:{h}:flags=area", "setsar=1", "format=yuv420p"]
        if seg.tone is not None:
            m, t = mean_luma(seg.path, seg.start, seg.frames), seg.tone
            f.append(f"lutyuv=y='clip({t.mean:.2f}+(val-{m:.2f})*{t.gain},16,235)'"
                     f":u='128+(val-128)*{t.saturation}':v='128+(val-128)*{t.saturation}'")
        f += [f"fps={fps}", "settb=AVTB"]
        chains.append(f"[{i}:v]{','.join(f)}[s{i}]")
    cuts: list[int] = []
    gradual: list[dict] = []
    length = segments[0].frames
    label = "s0"
    pending: list[str] = [label]
    for i, seg in enumerate(segments[1:], start=1):
        if seg.join == "cut":
            cuts.append(length)
            pending.append(f"s{i}")
            length += seg.frames
            continue
        if len(pending) > 1:  # flush the cuts so far into one stream for xfade
            chains.append("".join(f"[{p}]" for p in pending) + f"concat=n={len(pending)}:v=1:a=0[c{i}]")
            label = f"c{i}"
        else:
            label = pending[0]
        first = length - seg.join_frames
        chains.append(f"[{label}][s{i}]xfade=transition={'fade' if seg.join == 'dissolve' else 'fadeblack'}"
                      f":duration={seg.join_frames / fps}:offset={first / fps}[x{i}]")
        gradual.append({"type": "cross-dissolve" if seg.join == "dissolve" else "fade through black",
                        "frames": [first, first + seg.join_frames - 1]})
        pending = [f"x{i}"]
        length += seg.frames - seg.join_frames
    if len(pending) > 1:
        chains.append("".join(f"[{p}]" for p in pending) + f"concat=n={len(pending)}:v=1:a=0[out]")
        final = "out"
    else:
        final = pending[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(args + ["-filter_complex", ";".join(chains), "-map", f"[{final}]", "-an", "-c:v", "libx264",
                       "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p", "-r", str(fps), str(out)])
    n = sum(1 for _ in iter_frames(probe(out), Sampling(max_side=16, pix_fmt="gray")))
    if n != length:
        raise RuntimeError(f"{out}: expected {length} frames, FFmpeg wrote {n}")
    return {"fps": fps, "frames": length, "cuts": cuts, "gradual": gradual,
            "source": "spliced by construction: " + "; ".join(
                f"{s.path.name}[{s.start}:{s.start + s.frames}]{'' if s.tone is None else ' toned'}"
                f"{'' if s.join == 'cut' else f' {s.join} {s.join_frames}'}" for s in segments)}


def luma_stats(path: Path) -> np.ndarray:
    """Mean luma of every frame (for checking a splice by eye or in a test)."""
    return np.array([float(s.image.mean()) for s in iter_frames(probe(path), Sampling(max_side=64, pix_fmt="gray"))])
