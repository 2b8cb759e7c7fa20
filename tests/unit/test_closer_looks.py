"""The objects analyzer's closer looks: what they aim at and what they may spend (no model needed)."""

from __future__ import annotations

import numpy as np

from vidlens.analyze.builtin.objects import _CloserLooks, _covered, _covered_jointly
from vidlens.analyze.regions import RegionPlanner
from vidlens.types import Detections

FRAME = np.zeros((576, 768, 3), np.uint8)  # opencv_vtest's size: a region sees it 1.85x finer than the whole frame
MOVERS = np.array([[40, 60, 70, 120], [660, 400, 690, 460]], np.float32)  # two walkers far apart: two regions


def _dets(rows: list[tuple[str, float, tuple[float, float, float, float]]]) -> Detections:
    return Detections(np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
                      np.array([r[1] for r in rows], np.float32), np.array([r[0] for r in rows], dtype=object))


def test_a_blob_of_three_walkers_is_explained_by_their_boxes_together() -> None:
    blob = np.array([[100, 100, 250, 220]], np.float32)  # three people side by side move as one blob
    people = np.array([[98, 96, 150, 224], [150, 97, 200, 222], [200, 95, 252, 225]], np.float32)
    assert not _covered(blob, people).any()  # no one box holds half of it
    assert _covered_jointly(blob, people).all()
    assert not _covered_jointly(blob, people[:1]).any()  # one of the three: the rest is unexplained
    assert not _covered_jointly(blob, np.zeros((0, 4), np.float32)).any()


def _looks(finds: bool, samples: int = 40) -> _CloserLooks:
    """A shot with small objects, two unexplained movers every sample; regions find a small person on each or
    nothing."""
    looks = _CloserLooks(RegionPlanner(model_size=416, max_regions=2), probe_every=8, rate=0.5)
    looks.hunting = True

    def detect(crop: np.ndarray) -> Detections:  # a small person on each mover, in the crops (0, 0)+ and (352, 160)+
        return _dets([("person", 0.9, (40, 60, 70, 120)), ("person", 0.9, (308, 240, 338, 300))] if finds else [])

    for _ in range(samples):
        looks.tick()
        looks.run(Detections.empty(), detect, FRAME, MOVERS, False, [], 0.4, 0.45)
    return looks


def test_closer_looks_that_find_nothing_cost_their_rate() -> None:
    idle = _looks(finds=False)
    assert idle.finds == 0
    assert idle.runs <= idle.SAVED * 2 + 0.5 * 40, idle.runs  # what was saved up, then half a look a sample
    assert idle.runs >= 0.5 * 40, idle.runs


def test_closer_looks_that_keep_finding_run_on_every_region() -> None:
    busy = _looks(finds=True)
    assert busy.runs == busy.finds == 2 * 40
