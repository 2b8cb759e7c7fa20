"""Which frames whole-image classifiers see, and that they do not hold on to them."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from vidlens.analyze.keyframes import classify_keyframes
from vidlens.types import FrameSample


def _frames(refs: list[weakref.ref], n: int = 40) -> Iterator[FrameSample]:
    """Two frames a second; the picture changes completely at frame 25 (a cut)."""
    for i in range(n):
        img = np.full((36, 64, 3), 20 if i < 25 else 230, np.uint8)
        refs.append(weakref.ref(img))
        yield FrameSample("v", i, i, Fraction(1, 2), img, "rgb24")


def test_every_interval_and_the_first_frame_after_a_cut() -> None:
    refs: list[weakref.ref] = []
    results, errors = classify_keyframes(_frames(refs), 4.0, 20.0, lambda kf: (kf.sample.t, kf.cut), lambda _f: None)
    assert errors == []
    assert results == [(0.0, False), (4.0, False), (8.0, False), (12.0, False), (12.5, True), (16.5, False)]


def test_classified_frames_are_not_kept() -> None:
    refs: list[weakref.ref] = []
    results, _errors = classify_keyframes(_frames(refs), 1.0, 20.0, lambda kf: float(kf.sample.image.mean()),
                                          lambda _f: None)
    gc.collect()
    assert len(results) == 21 and len(refs) == 40  # one a second, and the cut at 12.5 s
    assert all(r() is None for r in refs), "frames outlived the loop: memory would grow with the video"


def test_a_failing_frame_is_recorded_and_the_rest_go_on() -> None:
    def fn(kf):  # noqa: ANN001, ANN202
        if kf.sample.index == 10:
            raise ValueError("bad frame")
        return kf.sample.index

    results, errors = classify_keyframes(_frames([]), 2.5, 20.0, fn, lambda _f: None)
    assert 10 not in results and len(results) >= 5
    assert errors == [{"t": 5.0, "error": "ValueError: bad frame"}]
