"""Keyframe candidates: the sharpest in a shot's middle half, with memory bounded on long videos."""

from __future__ import annotations

from fractions import Fraction

from vidlens.analyze.builtin.shots import _Candidate, _Candidates
from vidlens.timebase import TimeRange
from vidlens.types import Shot


def _shot(start: int, end: int) -> Shot:
    return Shot("v", 0, TimeRange(start, end, Fraction(1, 25)), start, end, start, start, "cut")


def _candidates(sharpness: list[float], limit: int) -> _Candidates:
    cands = _Candidates(limit)
    for i, s in enumerate(sharpness):
        cands.add(_Candidate(i * 10, i * 10, s, b"jpeg%d" % i))
    return cands


def test_pick_prefers_the_middle_half_then_the_whole_shot() -> None:
    cands = _candidates([9.0, 1.0, 2.0, 1.5, 8.0], limit=100)
    assert cands.pick(_shot(0, 50)).index == 20  # 9.0 and 8.0 lie outside the middle half (12..37)
    assert cands.pick(_shot(0, 5)).index == 0  # middle half empty: the only candidate inside
    assert cands.pick(_shot(41, 49)) is None  # no candidate inside: the caller seeks instead


def test_past_the_limit_the_less_sharp_of_each_pair_drops_its_picture() -> None:
    sharpness = [float(v) for v in (3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5)]
    cands = _candidates(sharpness, limit=8)
    held = [c for c in cands.items if c.jpeg is not None]
    assert len(held) <= 8 and len(cands.items) == len(sharpness)
    # the first thinning (at 9 pictures) kept the sharper of (0,1), (2,3), (4,5), (6,7)
    assert [c.index for c in held[:4]] == [0, 20, 50, 70]
    assert cands.pick(_shot(0, 110)).sharpness == max(c.sharpness for c in held if 27 <= c.index <= 82)


def test_under_the_limit_nothing_is_thinned() -> None:
    cands = _candidates([1.0] * 50, limit=50)
    assert all(c.jpeg is not None for c in cands.items)


def test_the_newest_wait_unencoded_and_only_a_picked_one_is_encoded_with_the_same_bytes() -> None:
    import numpy as np

    from vidlens.analyze.builtin.shots import _jpeg

    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 255, (36, 64, 3), np.uint8) for _ in range(10)]
    cands = _Candidates(limit=100, raw=4)
    for i, rgb in enumerate(pictures):
        cands.add(_Candidate(i * 10, i * 10, float(i), None, rgb))
    assert [c.rgb is not None for c in cands.items] == [False] * 6 + [True] * 4  # the newest four wait
    assert all(c.jpeg == _jpeg(rgb) for c, rgb in zip(cands.items[:6], pictures))
    best = cands.pick(_shot(60, 100))  # middle half 70..90: the sharpest there is frame 90
    assert best is not None and best.index == 90 and best.rgb is None and best.jpeg == _jpeg(pictures[9])
    assert cands.items[7].jpeg is None and cands.items[7].rgb is not None  # not picked: never encoded


def test_thinning_drops_waiting_pictures_too() -> None:
    import numpy as np

    pictures = [np.full((8, 8, 3), i, np.uint8) for i in range(11)]
    cands = _Candidates(limit=8, raw=100)
    for i, rgb in enumerate(pictures):
        cands.add(_Candidate(i * 10, i * 10, float(i % 3), None, rgb))
    assert sum(c.held for c in cands.items) <= 8 and len(cands.items) == 11
    assert all(c.jpeg is None for c in cands.items)  # nothing was picked, so nothing was encoded
