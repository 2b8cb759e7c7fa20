"""Dead-air removal: keep what is loud enough, with margins, as auto-editor's ``audio`` method does.

Per video frame, the loudest sample in that frame's stretch of audio, divided by the loudest sample
of the whole track, is compared with ``threshold``. A threshold relative to the track's own peak
makes the decision independent of recording gain. Then, in this order (auto-editor's): loud runs
shorter than ``min_clip_s`` are treated as silence (a click, a breath), silent runs shorter than
``min_cut_s`` are kept (a pause between words), every kept run grows by ``margin_s`` on both
sides so the first and last syllables are not clipped, and the first two rules run once more. Quiet parts are dropped, or kept at
``quiet_speed`` when that is more than 1 (speech stays at normal speed).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidlens.edit.decisions import DecisionList, from_marks
from vidlens.errors import UnsupportedMediaError, UsageError
from vidlens.media.audio import iter_audio



@dataclass(frozen=True)
class SilenceSettings:
    threshold: float = 0.04  # of the track's peak; auto-editor's default
    margin_s: float = 0.2  # kept around every loud run (both sides); auto-editor's default
    min_clip_s: float = 0.12  # shorter loud runs count as silence (auto-editor: 3 frames at 25 fps)
    min_cut_s: float = 0.24  # shorter silent runs are kept (auto-editor: 6 frames at 25 fps)
    quiet_speed: float = 0.0  # 0: drop quiet parts; > 1: keep them this much faster

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise UsageError(f"silence threshold must be in (0, 1), got {self.threshold}")
        if min(self.margin_s, self.min_clip_s, self.min_cut_s) < 0:
            raise UsageError("silence margin, min clip and min cut must be >= 0")
        if self.quiet_speed and not 1 < self.quiet_speed <= 16:
            raise UsageError(f"quiet-part speed must be in (1, 16], got {self.quiet_speed}")


def frame_levels(path: str | Path, fps: Fraction, frame_count: int, rate: int) -> np.ndarray:
    """The peak of each video frame's audio relative to the track's peak, in [0, 1] (``frame_count`` values).

    ``rate`` should be the track's own: resampling smears an onset into the frame before it.
    """
    chunks = list(iter_audio(path, rate, chunk_s=60.0))
    if not chunks:
        raise UnsupportedMediaError(f"{Path(path).name}: silence removal needs an audio track, found none",
                                    path=str(path))
    audio = np.abs(np.concatenate(chunks))
    top = float(audio.max()) if audio.size else 0.0
    # frame i covers samples [edges[i], edges[i+1]): exact rational edges, so no drift over long files;
    # audio shorter than the video reads as silence at the end, longer audio is cut at the last frame
    edges = (np.arange(frame_count + 1, dtype=np.int64) * rate * fps.denominator) // fps.numerator
    need = int(edges[-1])
    audio = np.pad(audio[:need], (0, max(0, need - audio.size)))
    peaks = np.maximum.reduceat(audio, edges[:-1]) if need else np.zeros(frame_count, np.float32)
    return peaks / top if top > 0 else peaks


def _runs(mask: np.ndarray) -> list[tuple[int, int, bool]]:
    """``(start, end, value)`` for each run of equal values."""
    if mask.size == 0:
        return []
    change = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = [0, *change.tolist(), mask.size]
    return [(a, b, bool(mask[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _drop_short(mask: np.ndarray, value: bool, min_len: int) -> np.ndarray:
    out = mask.copy()
    for a, b, v in _runs(mask):
        if v == value and b - a < min_len:
            out[a:b] = not value
    return out


def _cook(mask: np.ndarray, min_clip: int, min_cut: int) -> np.ndarray:
    """Short loud runs become silence, then short silent runs become sound."""
    return _drop_short(_drop_short(mask, True, min_clip), False, min_cut)


def active_frames(levels: np.ndarray, fps: Fraction, settings: SilenceSettings) -> np.ndarray:
    """Which frames to keep at normal speed: threshold, min clip and min cut, margins, then min clip and cut again.

    The second pass removes the slivers the margins leave (two margins that almost meet).
    """
    per_s = float(fps)
    min_clip, min_cut = round(settings.min_clip_s * per_s), round(settings.min_cut_s * per_s)
    keep = _cook(levels > settings.threshold, min_clip, min_cut)
    margin = round(settings.margin_s * per_s)
    if margin:
        grown = keep.copy()
        for a, b, v in _runs(keep):
            if v:
                grown[max(0, a - margin):min(keep.size, b + margin)] = True
        keep = grown
    return _cook(keep, min_clip, min_cut)


def silence_decisions(source: str, levels: np.ndarray, fps: Fraction, settings: SilenceSettings) -> DecisionList:
    """Segments for ``levels`` (one per frame): loud runs kept, quiet runs dropped or sped up."""
    keep = active_frames(levels, fps, settings)
    marks = []
    scores = []
    for a, b, loud in _runs(keep):
        peak = float(levels[a:b].max()) if b > a else 0.0
        if loud:
            marks.append((a, b, True, "sound", 1.0))
        elif settings.quiet_speed:
            marks.append((a, b, True, f"quiet: {settings.quiet_speed:g}x", settings.quiet_speed))
        else:
            marks.append((a, b, False, "silence", 1.0))
        scores.append({"peak": peak})
    if not marks:
        raise UsageError(f"{source}: nothing to edit (no frames)")
    if not any(m[2] for m in marks):
        raise UsageError(f"{Path(source).name}: the whole file is below the silence threshold "
                         f"({settings.threshold:g} of its peak); nothing would be left")
    return from_marks(source, fps, levels.size, marks, scores).with_operation(
        "silence", silence={"threshold": settings.threshold, "margin_s": settings.margin_s,
                            "min_clip_s": settings.min_clip_s, "min_cut_s": settings.min_cut_s,
                            "quiet_speed": settings.quiet_speed})
