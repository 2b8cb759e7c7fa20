"""Frames the tracker carries: a walker's own motion is not detected twice in a row, a new mover at once.

A drawn scene, so every frame's truth is known: a tall bright box walks across a 720p view 30 px a
frame; later a small one starts moving elsewhere. The detector finds bright boxes by threshold (in
whatever crop it is given), so what is measured is the pipeline's choice of when and where to run it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidlens.types import Detections
from vidlens.watch.pipeline import CameraPipeline
from vidlens.watch.settings import CameraConfig

BRIGHT = 220


def _bright_boxes(image: np.ndarray) -> Detections:
    """One box per bright column run: enough for drawn boxes that never share a column."""
    cols = np.flatnonzero((image[:, :, 0] == BRIGHT).any(0))
    if not len(cols):
        return Detections.empty()
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    boxes = []
    for run in runs:
        rows = np.flatnonzero((image[:, run[0]:run[-1] + 1, 0] == BRIGHT).any(1))
        boxes.append([run[0], rows[0], run[-1] + 1, rows[-1] + 1])
    n = len(boxes)
    return Detections(np.array(boxes, np.float32), np.full(n, 0.9, np.float32), np.array(["person"] * n, object))


def _frame(i: int, newcomer_from: int) -> np.ndarray:
    img = np.full((720, 1280, 3), 90, np.uint8)
    x = 100 + 30 * i
    img[300:600, x:x + 120] = BRIGHT
    if i >= newcomer_from:
        img[100:140, 1000 + 5 * i:1020 + 5 * i] = BRIGHT
    return img


def test_the_tracker_carries_every_other_frame_of_a_walker_and_a_newcomer_is_detected_at_once(
        tmp_path: Path) -> None:
    looks: list[int] = []

    def detect(image: np.ndarray) -> Detections:
        looks[-1] += 1
        return _bright_boxes(image)

    events: list[dict] = []
    cfg = CameraConfig(source="walk.mp4", detect={"fps": 5, "objects": ["person"]})
    pipe = CameraPipeline("walk", cfg, detect, events.append, tmp_path)
    newcomer_from = 12
    seen = []
    for i in range(20):
        looks.append(0)
        pipe.process(i / 5, _frame(i, newcomer_from), 0.0)
        seen.append(len(pipe.seen()))
    walker = looks[2:newcomer_from]  # once the walker is an object (two looks), until the newcomer
    assert walker == [0, 1] * (len(walker) // 2), looks  # carried, detected, carried ...
    assert looks[newcomer_from] >= 1, looks  # something new moves: detected on its first frame
    assert pipe.stats.coasted >= 6 and sum(looks) <= 20, (pipe.stats, looks)  # never above one run a frame
    objects = [e["event"] for e in events if e.get("op") == "event" and e["event"]["type"] == "object"]
    assert len(objects) == 2, objects  # one object each: carried frames split no track
    assert seen[2:newcomer_from] == [1] * (newcomer_from - 2) and seen[-1] == 2, seen


def test_carry_0_detects_every_frame_with_motion(tmp_path: Path) -> None:
    looks: list[int] = []

    def detect(image: np.ndarray) -> Detections:
        looks[-1] += 1
        return _bright_boxes(image)

    cfg = CameraConfig(source="walk.mp4", detect={"fps": 5, "objects": ["person"], "carry": 0})
    pipe = CameraPipeline("walk", cfg, detect, lambda _: None, tmp_path)
    for i in range(12):
        looks.append(0)
        pipe.process(i / 5, _frame(i, newcomer_from=99), 0.0)
    assert pipe.stats.coasted == 0, pipe.stats
    assert all(n >= 1 for n in looks[1:]), looks  # the walker moves on every frame: every frame is looked at
