"""Edited clips with boundaries known by construction: shots of real films spliced with FFmpeg.

Shot-detection accuracy measured only on the clips a detector was tuned on says little. Splicing
single-shot segments of *different* real films gives any number of new test clips whose cut
frames are exact (the running frame count), and the hard cases can be made on purpose:

* ``tone``: every segment is remapped to one mean luma with its contrast and saturation cut, so
  a cut joins two low-contrast shots of the same brightness and colour (white-on-white snow,
  dark-on-dark night);
* ``join``: segments meet in a hard cut, a cross-dissolve (``xfade=fade``) or a fade through
  black (``xfade=fadeblack``);
* ``effect``: something inside a shot that is *not* a shot change but moves the picture the way a
  cut does: camera shake, a fast zoom, a fast pan, a flash of one to three frames, or a large object
  (a picture from another clip) sliding into frame within a few frames and staying.

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


EFFECTS = ("shake", "zoom", "pan", "flash", "enter")


@dataclass(frozen=True)
class Effect:
    """A disturbance inside one segment; ``at`` is its first frame (flash, enter) in the segment."""

    kind: str  # one of EFFECTS
    strength: float = 1.0  # 0.5 .. 1.5: amplitude of a shake, depth of a zoom, speed of a pan
    at: int = 0
    frames: int = 1  # flash length, or the frames an entering object takes to arrive
    overlay: Path | None = None  # enter: the clip whose picture slides in
    overlay_start: int = 0

    def __post_init__(self) -> None:
        if self.kind not in EFFECTS:
            raise ValueError(f"unknown effect {self.kind!r}")
        if self.kind == "enter" and self.overlay is None:
            raise ValueError("an entering object needs an overlay clip")


@dataclass(frozen=True)
class Segment:
    """``frames`` frames of ``path`` from frame ``start``; ``join`` says how it meets the segment before."""

    path: Path
    start: int
    frames: int
    tone: Tone | None = None
    join: str = "cut"  # cut | dissolve | fadeblack
    join_frames: int = 0  # length of a dissolve or fade, in frames
    effect: Effect | None = None


def _effect_chain(e: Effect, n: int, w: int, h: int, fps: int) -> str:
    """FFmpeg filters for ``e`` on a segment of ``n`` frames already scaled to ``w`` x ``h``."""
    a = e.strength
    if e.kind == "shake":  # a hand-held jolt: the view jumps by up to ~8 % of the frame every frame
        m = 0.85
        return (f"crop=w=iw*{m}:h=ih*{m}:x='(iw-ow)/2*(1+{min(a, 1.0):.3f}*sin(n*2.1)*cos(n*0.7))'"
                f":y='(ih-oh)/2*(1+{min(a, 1.0):.3f}*cos(n*1.7)*sin(n*1.1))',scale={w}:{h}")
    if e.kind == "zoom":  # a fast zoom-in through the whole segment
        z = 1 + 0.6 * a
        return (f"zoompan=z='1+{z - 1:.3f}*on/{max(1, n - 1)}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2'"
                f":d=1:s={w}x{h}:fps={fps},setpts=N/({fps}*TB)")
    if e.kind == "pan":  # a fast pan across the scene, 60 % of the frame wide
        return f"crop=w=iw*0.6:h=ih*0.6:x='(iw-ow)*n/{max(1, n - 1)}':y='(ih-oh)/2',scale={w}:{h}"
    if e.kind == "flash":
        return f"lutyuv=y='min(255,val*1.6+100)':enable='between(n,{e.at},{e.at + e.frames - 1})'"
    raise ValueError(f"{e.kind} is built in splice()")


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
    overlays: list[Path] = []
    for i, seg in enumerate(segments):
        if seg.join not in ("cut", "dissolve", "fadeblack"):
            raise ValueError(f"unknown join {seg.join!r}")
        if i and seg.join != "cut" and not (2 <= seg.join_frames < min(seg.frames, segments[i - 1].frames)):
            raise ValueError(f"segment {i}: a {seg.join} needs 2 <= join_frames < both segments' lengths")
        args += ["-i", str(seg.path)]
        f = [f"trim=start_frame={seg.start}:end_frame={seg.start + seg.frames}", f"setpts=N/({fps}*TB)",
             f"scale={w}:{h}:flags=area", "setsar=1", "format=yuv420p"]
        e = seg.effect
        if e is not None and e.kind != "enter":
            f.append(_effect_chain(e, seg.frames, w, h, fps))
        src = f"[{i}:v]"
        if e is not None and e.kind == "enter":  # a picture 40 % of the frame wide slides in from the left
            ov = len(segments) + len(overlays)
            overlays.append(e.overlay)  # type: ignore[arg-type]
            ow = w * 2 // 5 // 2 * 2
            chains.append(f"[{ov}:v]trim=start_frame={e.overlay_start}:end_frame={e.overlay_start + seg.frames},"
                          f"setpts=N/({fps}*TB),scale={ow}:-2:flags=area,setsar=1,format=yuv420p[o{i}]")
            # overlay drops the main input's last frame at its end: pad by two clones, then trim
            chains.append(f"[{i}:v]{','.join(f)},tpad=stop_mode=clone:stop=2[b{i}]")
            x = f"if(lt(n,{e.at}),-w-1,min({(w - ow) // 2},-w+(n-{e.at}+1)*({(w - ow) // 2}+w)/{max(1, e.frames)}))"
            chains.append(f"[b{i}][o{i}]overlay=x='{x}':y='(H-h)/2':eval=frame,trim=end_frame={seg.frames}[e{i}]")
            f, src = [], f"[e{i}]"
        if seg.tone is not None:
            m, t = mean_luma(seg.path, seg.start, seg.frames), seg.tone
            f.append(f"lutyuv=y='clip({t.mean:.2f}+(val-{m:.2f})*{t.gain},16,235)'"
                     f":u='128+(val-128)*{t.saturation}':v='128+(val-128)*{t.saturation}'")
        f += [f"fps={fps}", "settb=AVTB"]
        chains.append(f"{src}{','.join(f)}[s{i}]")
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
    for o in overlays:
        args += ["-i", str(o)]
    out.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(args + ["-filter_complex", ";".join(chains), "-map", f"[{final}]", "-an", "-c:v", "libx264",
                       "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p", "-r", str(fps), str(out)])
    n = sum(1 for _ in iter_frames(probe(out), Sampling(max_side=16, pix_fmt="gray")))
    if n != length:
        raise RuntimeError(f"{out}: expected {length} frames, FFmpeg wrote {n}")
    return {"fps": fps, "frames": length, "cuts": cuts, "gradual": gradual,
            "source": "spliced by construction: " + "; ".join(
                f"{s.path.name}[{s.start}:{s.start + s.frames}]{'' if s.tone is None else ' toned'}"
                f"{'' if s.join == 'cut' else f' {s.join} {s.join_frames}'}"
                f"{'' if s.effect is None else f' {s.effect.kind}'}" for s in segments)}


def luma_stats(path: Path) -> np.ndarray:
    """Mean luma of every frame (for checking a splice by eye or in a test)."""
    return np.array([float(s.image.mean()) for s in iter_frames(probe(path), Sampling(max_side=64, pix_fmt="gray"))])
