"""The shared tracker keeps ids through short occlusions (the objects analyzer's settings)."""

from __future__ import annotations

import numpy as np
import pytest

from vidlens.analyze import track_metrics as tm
from vidlens.analyze.builtin.objects import ObjectsConfig, make_tracker
from vidlens.types import Detections

from .tracking_scenes import make_scene


def _people(*boxes: list[float], conf: float = 0.9) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), conf, np.float32),
                      np.array(["person"] * len(boxes), dtype=object))


def _walk(x: float, t: float) -> list[float]:
    """A person 40x100 px walking right at 60 px a second."""
    return [x + 60 * t, 200, x + 40 + 60 * t, 300]


def _ids(fps: float, hidden: tuple[float, float], **config: object) -> set[int]:
    tracker = make_tracker(ObjectsConfig(**config))
    seen = set()
    for k in range(int(6 * fps)):
        t = k / fps
        if hidden[0] <= t < hidden[1]:
            d = _people()
        elif hidden[0] - 1 / fps <= t < hidden[0]:  # going behind the sign: only the top half shows
            box = _walk(100, t)
            d = _people([box[0], box[1], box[2], box[1] + 45], conf=0.5)
        else:
            d = _people(_walk(100, t))
        seen |= {tr.id for tr, _ in tracker.update(t, d)}
    return seen


@pytest.mark.parametrize("fps", [5.0, 2.0])
def test_a_walker_behind_a_sign_for_a_second_keeps_one_id(fps: float) -> None:
    assert _ids(fps, (2.0, 3.2)) == {1}


def test_without_the_track_buffer_the_walker_gets_a_new_id() -> None:
    # the same scene at 5 a second with only max_gap_samples (3 samples: 0.6 s) splits in two
    assert _ids(5.0, (2.0, 3.2), lost_s=0.0) == {1, 2}


def test_two_people_passing_as_one_box_keep_their_ids() -> None:
    tracker = make_tracker(ObjectsConfig())
    ids: dict[str, set[int]] = {"a": set(), "b": set()}
    for k in range(30):
        t = k / 5
        a = [100 + 80 * t, 200, 140 + 80 * t, 300]  # left to right
        b = [420 - 80 * t, 210, 460 - 80 * t, 310]  # right to left, a little nearer
        if abs(a[0] - b[0]) < 30:  # overlapping: the detector sees one wide box
            d = _people([min(a[0], b[0]), 200, max(a[2], b[2]), 310])
        else:
            d = _people(a, b)
        for tr, i in tracker.update(t, d):
            if len(d) == 2:
                ids["a" if i == 0 else "b"].add(tr.id)
    assert ids == {"a": {1}, "b": {2}}


def _score(seed: int, fps: float) -> dict[str, float]:
    scene = make_scene(seed, fps=fps)
    tracker = make_tracker(ObjectsConfig())
    boxes = []
    for k, (t, d) in enumerate(scene.samples):
        boxes += [(k, tr, d.xyxy[i]) for tr, i in tracker.update(t, d) if tr.label == "person"]
    kept = {tr.id for tr in tracker.finish()}
    tracked = [tm.Box(k, tr.id, "person", tuple(map(float, b))) for k, tr, b in boxes if tr.id in kept]
    return tm.score(scene.truth, tracked, list(range(len(scene.samples))))["person"]


@pytest.mark.parametrize(("fps", "idf1_min", "switches_max"), [(5.0, 0.80, 50), (2.0, 0.80, 65)])
def test_held_out_scenes(fps: float, idf1_min: float, switches_max: int) -> None:
    """Seeds 100-119 (settings were chosen on 0-19). Measured: 5/s mean IDF1 0.838, 35 switches (the
    tracker before the buffer and the motion model: 0.733, 132); 2/s 0.843, 49 (before: 0.788, 91)."""
    results = [_score(seed, fps) for seed in range(100, 120)]
    assert np.mean([r["idf1"] for r in results]) >= idf1_min
    assert sum(r["num_switches"] for r in results) <= switches_max
