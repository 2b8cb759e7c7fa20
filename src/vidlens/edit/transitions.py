"""Transitions only where they help: a short dissolve where a highlight reel joins two moments jarringly.

Every join between two rendered pieces that are not neighbours in the source is judged, and the
decision list keeps the verdict and its reason (``--json`` shows both):

* **cut** when either side of the join lies on a source shot boundary: the source already cuts
  there, and a cut on a cut reads as one (a dissolve would only blur it);
* **dissolve** when both sides are inside the *same* shot: a jump cut, the picture jumps in place;
* **dissolve** when the sound level jumps across the join (more than ``LEVEL_JUMP_DB``): a hard cut
  would slam from quiet to loud;
* **cut** otherwise (two different shots cut mid-shot read as an ordinary cut), and also where either
  piece is too short or not at normal speed to hold a dissolve, or where a dissolve played less than
  ``MIN_SPACING_S`` before (a reel of short sentences would otherwise dissolve at every join).

A dissolve is centred on the join and uses ``handle`` frames of source beyond each piece (the
handles an editor's dissolve uses), so the output keeps exactly its length and every kept frame keeps
its place: subtitles, the dub and the exported timeline (an OTIO ``Transition`` with the same
offsets) stay true to the frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
import numpy as np

from vidlens.edit.decisions import DecisionList, Join

DISSOLVE_S = 0.4  # whole dissolve; half of it on each side of the join
LEVEL_JUMP_DB = 12.0
LEVEL_WINDOW_S = 0.25
MIN_SPACING_S = 4.0  # of output between two dissolves


@dataclass(frozen=True)
class TransitionSettings:
    dissolve_s: float = DISSOLVE_S
    level_jump_db: float = LEVEL_JUMP_DB


def _level_db(levels: np.ndarray, a: int, b: int) -> float | None:
    part = levels[max(0, a):max(0, b)]
    if part.size == 0:
        return None
    return 20 * math.log10(max(float(np.sqrt(np.mean(np.square(part, dtype=np.float64)))), 1e-5))


def _shot_of(frame: int, cuts: Sequence[int]) -> int:
    return int(np.searchsorted(np.asarray(cuts), frame, side="right"))


def decide_joins(dl: DecisionList, shot_cuts: Sequence[int], levels: np.ndarray | None = None,
                 settings: TransitionSettings = TransitionSettings()) -> DecisionList:
    """``dl`` with one ``Join`` per join between rendered pieces that are apart in the source.

    ``shot_cuts``: the source frames where a shot starts; ``levels``: per-frame audio peaks (``frame_levels``).
    """
    per_s = float(dl.fps)
    cuts = sorted(set(shot_cuts) - {0})
    handle = max(1, round(settings.dissolve_s * per_s / 2))
    window = max(1, round(LEVEL_WINDOW_S * per_s))
    pieces = dl.pieces()
    joins = []
    out_at = [0]
    for p in pieces:
        out_at.append(out_at[-1] + int(p.scores["output_frames"]))
    last_dissolve = -math.inf
    for i, (a, b) in enumerate(zip(pieces[:-1], pieces[1:], strict=True)):
        if a.end == b.start:
            continue  # neighbours in the source (a change of speed): nothing jumps
        scores: dict[str, float] = {}
        on_cut = any(abs(c - a.end) <= 1 or abs(c - b.start) <= 1 for c in cuts)
        jump = None
        if levels is not None:
            before, after = _level_db(levels, a.end - window, a.end), _level_db(levels, b.start, b.start + window)
            if before is not None and after is not None:
                jump = abs(after - before)
                scores["level_jump_db"] = round(jump, 2)
        if on_cut:
            kind, reason = "cut", "cut: on a shot boundary of the source (a natural cut)"
        elif _shot_of(a.end - 1, cuts) == _shot_of(b.start, cuts):
            kind, reason = "dissolve", "dissolve: a jump cut inside one shot"
        elif jump is not None and jump > settings.level_jump_db:
            kind, reason = "dissolve", f"dissolve: the sound level jumps {jump:.0f} dB"
        else:
            kind, reason = "cut", "cut: two different shots (an ordinary cut)"
        if kind == "dissolve":
            shortest = min(int(a.scores["output_frames"]), int(b.scores["output_frames"]))
            if a.speed != 1.0 or b.speed != 1.0:
                kind, reason = "cut", "cut: a dissolve needs both pieces at normal speed"
            elif shortest < 4 * handle or b.start < handle or a.end + handle > dl.frame_count:
                kind, reason = "cut", "cut: a piece is too short to hold a dissolve"
            elif (out_at[i + 1] - last_dissolve) / per_s < MIN_SPACING_S:
                kind, reason = "cut", f"cut: a dissolve played {(out_at[i + 1] - last_dissolve) / per_s:.1f} s before"
        if kind == "dissolve":
            last_dissolve = out_at[i + 1]
        joins.append(Join(i, kind, 2 * handle if kind == "dissolve" else 0, reason, scores))
    return replace(dl, joins=tuple(joins)).with_operation(
        "transitions", transitions_settings={"dissolve_s": settings.dissolve_s,
                                             "level_jump_db": settings.level_jump_db})

