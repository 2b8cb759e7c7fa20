"""Standard multi-object tracking metrics of the objects analyzer against hand-made ground truth.

Ground truth is MOTChallenge text (``frame,id,x,y,w,h,consider,class,visibility``, 1-based
frames, class 1 person and 3 vehicle); the analyzer's tracks come from its ``paths`` option.
``motmetrics`` (the ``test`` and ``bench`` extras) scores them per class: IDF1 (how long each
true object keeps one track id), MOTA and ID switches, matching boxes at IoU >= 0.5 as the MOT
benchmarks do. Its own IoU function needs NumPy < 2, so distances come from ``iou_matrix`` here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.analyze.tracking import iou_matrix
from vidlens.errors import UsageError

MOT_CLASSES = {1: "person", 3: "vehicle"}
# detector labels scored as each ground-truth class (the van in a fixed view is often called a truck)
LABEL_CLASS = {"person": "person", "car": "vehicle", "truck": "vehicle", "bus": "vehicle", "motorbike": "vehicle"}
METRICS = ("idf1", "idp", "idr", "mota", "motp", "num_switches", "num_fragmentations", "precision", "recall",
           "mostly_tracked", "mostly_lost", "num_unique_objects", "num_objects", "num_false_positives",
           "num_misses")


@dataclass(frozen=True)
class Box:
    frame: int  # 0-based decode-order frame index
    id: int
    cls: str
    xyxy: tuple[float, float, float, float]


def load_mot(path: Path) -> list[Box]:
    """The boxes of a MOTChallenge ground-truth file (lines with ``consider`` 0 are left out)."""
    boxes = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            f, i, x, y, w, h, consider, cls = (float(v) for v in line.split(",")[:8])
        except ValueError as exc:
            raise UsageError(f"{path.name} line {n}: expected frame,id,x,y,w,h,consider,class[,visibility]") from exc
        if consider and int(cls) in MOT_CLASSES:
            boxes.append(Box(int(f) - 1, int(i), MOT_CLASSES[int(cls)], (x, y, x + w, y + h)))
    return boxes


def tracked_boxes(objects: list[dict[str, Any]], video_fps: float) -> list[Box]:
    """The boxes of the analyzer's ``objects`` (run with ``paths: true``), on the frames they were sampled from."""
    boxes = []
    for o in objects:
        cls = LABEL_CLASS.get(o["label"])
        if cls is None:
            continue
        if "path" not in o:
            raise UsageError("objects were analysed without `paths: true`: no per-sample boxes to score")
        for t, *xyxy in o["path"]:
            boxes.append(Box(round(t * video_fps), int(o["track_id"]), cls, tuple(xyxy)))
    return boxes


def score(truth: list[Box], tracked: list[Box], frames: list[int], iou_min: float = 0.5) -> dict[str, dict[str, float]]:
    """Per class (and ``all``): the ``METRICS`` of ``tracked`` against ``truth`` on ``frames``."""
    import motmetrics as mm

    classes = sorted({b.cls for b in truth})
    accs, names = [], []
    for cls in [*classes, "all"]:
        acc = mm.MOTAccumulator(auto_id=False)
        by_frame: dict[int, tuple[list[Box], list[Box]]] = defaultdict(lambda: ([], []))
        for b in truth:
            if cls in ("all", b.cls):
                by_frame[b.frame][0].append(b)
        for b in tracked:
            if cls in ("all", b.cls):
                by_frame[b.frame][1].append(b)
        for f in frames:
            gt, hyp = by_frame.get(f, ([], []))
            iou = iou_matrix(np.array([b.xyxy for b in gt], np.float32).reshape(-1, 4),
                             np.array([b.xyxy for b in hyp], np.float32).reshape(-1, 4))
            same = np.array([[g.cls == h.cls for h in hyp] for g in gt], bool).reshape(len(gt), len(hyp))
            dist = np.where((iou >= iou_min) & same, 1.0 - iou, np.nan)
            acc.update([_key(b) for b in gt], [_key(b) for b in hyp], dist, frameid=f)
        accs.append(acc)
        names.append(cls)
    table = mm.metrics.create().compute_many(accs, metrics=list(METRICS), names=names)
    return {name: {m: round(float(table.loc[name, m]), 4) for m in METRICS} for name in names}


def _key(b: Box) -> int:
    """A numeric id (motmetrics wants numbers) kept apart per class, so no two classes share an identity."""
    return (1 + sorted(set(LABEL_CLASS.values())).index(b.cls)) * 1_000_000 + b.id


def sampled_frames(n_frames: int, video_fps: float, sample_fps: float) -> list[int]:
    """The frames a sampling at ``sample_fps`` takes (whole-number ratios of the video's rate)."""
    step = video_fps / sample_fps
    return sorted({round(k * step) for k in range(int(n_frames / step) + 1) if round(k * step) < n_frames})
