"""Which sampled frames a whole-image classifier looks at.

Classifiers such as ``nsfw`` and ``scene`` need one 224-px view now and then, not
every frame: frames arrive at a cheap cut-checking rate, and a frame is kept when
``every_s`` seconds have passed since the last kept one, or when it is the first
after a cut (so a short shot is never skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from vidlens.analyze.tracking import CutDetector
from vidlens.types import FrameSample

MAX_ERRORS = 20
R = TypeVar("R")


@dataclass(frozen=True)
class Keyframe:
    sample: FrameSample
    cut: bool  # first sample after a detected cut


def keyframes(frames: Iterator[FrameSample], every_s: float, cuts: CutDetector | None = None) -> Iterator[Keyframe]:
    """The frames worth classifying, in time order (see the module docstring)."""
    cuts = cuts if cuts is not None else CutDetector()
    last: float | None = None
    for fs in frames:
        cut = cuts(fs.image)
        if last is None or cut or fs.t - last >= every_s - 1e-6:
            last = fs.t
            yield Keyframe(fs, cut)


def sample_ends(times: list[float], every_s: float, duration: float) -> list[float]:
    """Where each kept sample's window ends: the next sample, or ``every_s`` later within the video."""
    ends = times[1:] + [max(times[-1], min(duration, times[-1] + every_s))] if times else []
    return [max(e, t) for t, e in zip(times, ends)]


def classify_keyframes(frames: Iterator[FrameSample], every_s: float, duration_s: float,
                       fn: Callable[[Keyframe], R], progress: Callable[[float], None]
                       ) -> tuple[list[R], list[dict[str, Any]]]:
    """``fn`` on every keyframe: its results, and the frames it failed on (one bad frame must not lose the video).

    Only ``fn``'s results are kept, never the frames, so memory does not grow with the video's length.
    """
    results: list[R] = []
    errors: list[dict[str, Any]] = []
    for kf in keyframes(frames, every_s):
        try:
            results.append(fn(kf))
        except Exception as exc:  # recorded per frame, the others go on
            if len(errors) < MAX_ERRORS:
                errors.append({"t": round(kf.sample.t, 3), "error": f"{type(exc).__name__}: {exc}"})
            continue
        progress(min(1.0, kf.sample.t / max(duration_s, 1e-6)))
    return results, errors
