"""What size and speed each COCO object can plausibly have, and the checks built on it.

A detector names what it sees from its look alone: a car seen from straight above is
a grey rounded rectangle, and YOLO calls it "cell phone". Its size gives it away: in a
scene where people are 70 px tall, a 220-px phone would be two metres long. Each class
has a range for its longest visible side in metres (low: the smallest it can look
whole, e.g. a car from the front, a seated person; high: the largest of its kind) and
a top speed. ``SceneScale`` takes the scale of a scene (pixels per metre, at most) from
"anchor" objects whose size varies little (people and road vehicles) and flags any
other object that would have to be many times larger than its class allows. The
factor is generous: an object nearer the camera than every anchor looks larger than
they do, so only a size several times beyond the class's largest is rejected.

That allowance is for depth, and it does not hold for an object lying among anchors:
there it is at about their distance. A detector's false small-class box on aerial
footage is exactly that: a car or a person seen from above, called "cell phone", the
size of the cars and people around it. So a hand-sized class must also look smaller
than the people and vehicles beside it, whatever else the shot shows: one more car
found elsewhere, or a longer one beside it, does not make a car-sized phone possible.

Without people or vehicles in a shot there is no scale, but the detector's false small
classes still give themselves away by how they move: a phone, a bag or a suitcase does not
travel on its own. ``travelled_alone`` flags a track of such a class that moved at least half
its length (out of its own place), on a steady path, through a view that did not move (no pan), with no person,
bicycle or motorbike beside it and no larger person or vehicle holding it along the way: a car
driving through a car park seen from above and called "cell phone".

The figures are rounded common knowledge (a cell phone 10–30 cm, a bus 2.5–18 m seen
from its end or its side), not fitted to any video.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vidlens.types import Detections


@dataclass(frozen=True, slots=True)
class Prior:
    low: float  # metres: the shortest the longest side of a whole one looks
    high: float  # metres: the longest side of the largest of its kind
    speed: float  # metres per second it moves on its own at a brisk pace (0: only carried, or fixed)


_P = Prior
PRIORS: dict[str, Prior] = {
    "person": _P(1.0, 2.1, 3.0), "bicycle": _P(1.4, 2.0, 10.0), "car": _P(1.5, 5.5, 20.0),
    "motorbike": _P(1.4, 2.5, 20.0), "aeroplane": _P(8.0, 80.0, 80.0), "bus": _P(2.5, 18.0, 20.0),
    "train": _P(3.0, 400.0, 40.0), "truck": _P(2.5, 20.0, 20.0), "boat": _P(2.0, 400.0, 15.0),
    "traffic light": _P(0.5, 1.5, 0.0), "fire hydrant": _P(0.5, 1.0, 0.0), "stop sign": _P(0.6, 1.2, 0.0),
    "parking meter": _P(0.3, 1.6, 0.0), "bench": _P(1.0, 3.0, 0.0), "bird": _P(0.08, 1.5, 15.0),
    "cat": _P(0.3, 1.0, 6.0), "dog": _P(0.25, 1.3, 8.0), "horse": _P(1.5, 3.0, 12.0),
    "sheep": _P(0.8, 1.6, 5.0), "cow": _P(1.5, 3.0, 4.0), "elephant": _P(2.5, 7.5, 6.0),
    "bear": _P(1.0, 3.0, 8.0), "zebra": _P(1.8, 3.0, 12.0), "giraffe": _P(3.0, 6.0, 10.0),
    "backpack": _P(0.3, 0.8, 0.0), "umbrella": _P(0.6, 2.5, 0.0), "handbag": _P(0.2, 0.6, 0.0),
    "tie": _P(0.3, 0.6, 0.0), "suitcase": _P(0.4, 1.0, 0.0), "frisbee": _P(0.2, 0.3, 0.0),
    "skis": _P(1.2, 2.1, 0.0), "snowboard": _P(1.2, 1.8, 0.0), "sports ball": _P(0.04, 0.75, 0.0),
    "kite": _P(0.5, 10.0, 0.0), "baseball bat": _P(0.6, 1.1, 0.0), "baseball glove": _P(0.2, 0.4, 0.0),
    "skateboard": _P(0.6, 1.0, 0.0), "surfboard": _P(1.5, 3.5, 0.0), "tennis racket": _P(0.5, 0.75, 0.0),
    "bottle": _P(0.1, 0.5, 0.0), "wine glass": _P(0.1, 0.3, 0.0), "cup": _P(0.06, 0.25, 0.0),
    "fork": _P(0.12, 0.25, 0.0), "knife": _P(0.1, 0.4, 0.0), "spoon": _P(0.1, 0.25, 0.0),
    "bowl": _P(0.1, 0.5, 0.0), "banana": _P(0.12, 0.3, 0.0), "apple": _P(0.05, 0.12, 0.0),
    "sandwich": _P(0.08, 0.35, 0.0), "orange": _P(0.05, 0.12, 0.0), "broccoli": _P(0.08, 0.35, 0.0),
    "carrot": _P(0.08, 0.35, 0.0), "hot dog": _P(0.1, 0.3, 0.0), "pizza": _P(0.2, 0.6, 0.0),
    "donut": _P(0.06, 0.15, 0.0), "cake": _P(0.1, 0.6, 0.0), "chair": _P(0.6, 1.3, 0.0),
    "sofa": _P(0.8, 3.5, 0.0), "pottedplant": _P(0.15, 2.5, 0.0), "bed": _P(1.0, 2.4, 0.0),
    "diningtable": _P(0.6, 3.5, 0.0), "toilet": _P(0.4, 0.9, 0.0), "tvmonitor": _P(0.3, 2.5, 0.0),
    "laptop": _P(0.25, 0.45, 0.0), "mouse": _P(0.08, 0.15, 0.0), "remote": _P(0.1, 0.3, 0.0),
    "keyboard": _P(0.3, 0.6, 0.0), "cell phone": _P(0.1, 0.3, 0.0), "microwave": _P(0.4, 0.7, 0.0),
    "oven": _P(0.5, 1.0, 0.0), "toaster": _P(0.2, 0.45, 0.0), "sink": _P(0.3, 1.2, 0.0),
    "refrigerator": _P(0.8, 2.2, 0.0), "book": _P(0.12, 0.5, 0.0), "clock": _P(0.15, 2.0, 0.0),
    "vase": _P(0.1, 1.0, 0.0), "scissors": _P(0.1, 0.3, 0.0), "teddy bear": _P(0.1, 2.0, 0.0),
    "hair drier": _P(0.15, 0.35, 0.0), "toothbrush": _P(0.15, 0.22, 0.0),
}
# the same classes under the names newer COCO exports use
for _new, _old in (("motorcycle", "motorbike"), ("airplane", "aeroplane"), ("couch", "sofa"),
                   ("potted plant", "pottedplant"), ("dining table", "diningtable"), ("tv", "tvmonitor")):
    PRIORS[_new] = PRIORS[_old]

ANCHORS = frozenset({"person", "car", "bus", "truck", "bicycle", "motorbike", "motorcycle"})
# things a person carries, holds or wears: they move only with someone (not thrown or ridden things,
# a ball or a skateboard, which roll or fly on after leaving a hand or a foot)
CARRIED = frozenset({"backpack", "umbrella", "handbag", "tie", "suitcase", "baseball bat", "baseball glove",
                     "tennis racket", "bottle", "wine glass", "cup", "laptop", "mouse", "remote", "keyboard",
                     "cell phone", "book", "scissors", "teddy bear", "hair drier", "toothbrush"})
CARRIERS = frozenset({"person", "bicycle", "motorbike", "motorcycle"})  # who walks or rides with a carried thing


def long_side(xyxy: np.ndarray) -> np.ndarray:
    return np.maximum(xyxy[..., 2] - xyxy[..., 0], xyxy[..., 3] - xyxy[..., 1])


def moves_on_its_own(label: str) -> bool:
    """People, vehicles and animals move by themselves; a chair or a phone seen moving is carried, or misnamed."""
    p = PRIORS.get(label)
    return p is not None and p.speed > 0


def reach(label: str) -> float | None:
    """How many of its own typical lengths an object of ``label`` moves in a second at most.

    None for classes that do not move on their own (a bag moves with the person carrying
    it, a phone in a hand) or are unknown: the tracker's default gate applies to them.
    """
    p = PRIORS.get(label)
    if p is None or p.speed <= 0:
        return None
    return p.speed / ((p.low + p.high) / 2)


class SceneScale:
    """The largest pixels-per-metre the anchors of one scene allow, and the sizes it rules out.

    ``add`` the confident detections of each look at the scene (a shot of a fixed camera
    is one scene). An anchor at its smallest plausible size gives the highest scale it can
    imply; the scene's scale is the highest over all its anchors. An object of another
    class is implausible when, even at its class's largest size, it would need more
    than ``factor`` times that scale, or when it lies among anchors (its box grown by its
    own long side touches theirs) that its class must look ``near`` times smaller than,
    and it is larger than the largest of them allows.
    """

    def __init__(self, factor: float = 4.0, near: float = 2.0) -> None:
        self.factor = factor
        self.near = near  # slack for loose boxes between objects at the same distance
        self.px_per_m = 0.0
        self._boxes: list[np.ndarray] = []  # the anchors seen, with the scale each implies at most
        self._scales: list[np.ndarray] = []
        self._lows: list[np.ndarray] = []

    def add(self, d: Detections) -> None:
        if not len(d):
            return
        anchor = np.array([str(n) in ANCHORS for n in d.class_name])
        if anchor.any():
            low = np.array([PRIORS[str(n)].low for n in d.class_name[anchor]], np.float32)
            scale = long_side(d.xyxy[anchor]) / low
            self.px_per_m = max(self.px_per_m, float(scale.max()))
            self._boxes.append(d.xyxy[anchor].astype(np.float32))
            self._scales.append(scale)
            self._lows.append(low)

    def implausible(self, label: str, box: np.ndarray) -> bool:
        """True when an object ``label`` this large cannot be in this scene (always False without anchors)."""
        p = PRIORS.get(label)
        if p is None or label in ANCHORS or self.px_per_m <= 0:
            return False
        box = np.asarray(box, np.float32)
        size = float(long_side(box))
        if size / p.high > self.factor * self.px_per_m:
            return True
        return self._larger_than_neighbours(p, box, size)

    def _larger_than_neighbours(self, p: Prior, box: np.ndarray, size: float) -> bool:
        """Whether ``box`` lies among anchors its class must look ``near`` times smaller than, and does not.

        The neighbours are anchors anywhere in the shot whose box touches ``box`` grown by its own
        long side: at the same place in a view, objects are at about the same distance. The
        largest of them sets what is allowed, so a phone held by the person whose box holds it,
        or nearer the camera than a large person beside it, stays; only classes that cannot look
        as large as any of their neighbours at the same distance are judged this way.
        """
        boxes = np.concatenate(self._boxes)
        g = np.array([box[0] - size, box[1] - size, box[2] + size, box[3] + size], np.float32)
        beside = (boxes[:, 0] <= g[2]) & (boxes[:, 2] >= g[0]) & (boxes[:, 1] <= g[3]) & (boxes[:, 3] >= g[1])
        if not beside.any() or self.near * p.high >= float(np.concatenate(self._lows)[beside].min()):
            return False
        return size / p.high > self.near * float(np.concatenate(self._scales)[beside].max())


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where a track of a carried class was at one sample, and whether it could have been moved there."""

    x: float  # centre of its box, pixels
    y: float
    size: float  # long side of its box, pixels
    alone: bool  # no one beside it and nothing larger holding it (``carried_at`` is False)
    still: bool  # the view did not move since the samples before (no pan), so a change of place is the object's

    @classmethod
    def at(cls, box: np.ndarray, d: Detections, still: bool) -> Sighting:
        """The object at ``box`` among all of one sample's detections ``d``, in a still view or not."""
        x0, y0, x1, y1 = (float(v) for v in box)
        return cls((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0), not carried_at(box, d), still)


def carried_at(box: np.ndarray, d: Detections) -> bool:
    """Whether something in ``d`` could be carrying the object at ``box`` at this sample.

    A person, bicycle or motorbike whose box touches ``box`` grown by its own long side (a bag
    hangs beside its carrier, a phone is held out at arm's length), or any person or vehicle at
    least twice its size holding at least half of it (luggage on a roof rack, a phone on a dashboard).
    """
    if not len(d):
        return False
    box = np.asarray(box, np.float32)
    size = float(long_side(box))
    names = np.array([str(n) for n in d.class_name], dtype=object)
    xy = d.xyxy.astype(np.float32)
    g = np.array([box[0] - size, box[1] - size, box[2] + size, box[3] + size], np.float32)
    beside = (xy[:, 0] <= g[2]) & (xy[:, 2] >= g[0]) & (xy[:, 1] <= g[3]) & (xy[:, 3] >= g[1])
    if (beside & np.isin(names, list(CARRIERS))).any():
        return True
    w = (np.minimum(xy[:, 2], box[2]) - np.maximum(xy[:, 0], box[0])).clip(0)
    h = (np.minimum(xy[:, 3], box[3]) - np.maximum(xy[:, 1], box[1])).clip(0)
    area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-6)
    holds = (w * h / area >= 0.5) & (long_side(xy) >= 2 * size) & np.isin(names, list(ANCHORS))
    return bool(holds.any())


def travelled_alone(sightings: Sequence[Sighting], lengths: float = 0.5, steady: float = 0.5) -> bool:
    """Whether a thing that moves only when carried travelled on its own: at least ``lengths`` of its
    own long side, in at least two steps between samples where it was alone in a still view, along a
    path whose start-to-end distance is at least ``steady`` of the way it went (a drive, not a box jittering).

    A box moved by half its long side overlaps where it was by an IoU of a third at most, below the
    0.5 by which detections are judged the same box: the object is no longer where it was, and with
    nobody beside it at every step, nothing carried it there.
    """
    run: list[Sighting] = []
    for s in [*sightings, None]:
        if s is not None and s.alone and s.still and run:
            run.append(s)
            continue
        if len(run) >= 3:
            net = float(np.hypot(run[-1].x - run[0].x, run[-1].y - run[0].y))
            path = sum(float(np.hypot(b.x - a.x, b.y - a.y)) for a, b in zip(run, run[1:]))
            size = float(np.median([r.size for r in run]))
            if net >= lengths * size and net >= steady * path:
                return True
        run = [s] if s is not None and s.alone else []
    return False
