"""Where a detector looks: regions around motion and small objects, tiles, and one merge.

A detector shrinks its whole input to its own size (416 px for YOLOv4-tiny), so a person
40 px high in a 1280-px frame reaches it 13 px high, below what it can see. Frigate's
answer is to detect on square regions cut around motion and tracked objects at the
camera's resolution; this module does that for any caller (the objects analyzer on
sparse samples, a live camera later):

- ``RegionPlanner.around`` turns boxes (motion, small tracked objects) into a few square
  regions, each cluster of nearby boxes in one region, sized so that a box fills a fair
  share of it; a region is never smaller than ``min_side`` (by default the model size:
  the crop reaches the detector at full resolution, not enlarged) and is only planned
  where it sees the frame markedly finer than the whole-frame pass does.
- ``RegionPlanner.tiles`` covers the whole frame with overlapping squares at full
  resolution, for frames much larger than the model input.
- ``in_region`` maps one region's detections to frame pixels, and ``merge`` joins the
  whole-frame pass with every region: class-aware NMS in which a box cut by a region's
  inner edge ranks below a whole one, a cut box that lies inside a whole box of its
  class is dropped, and the two halves of an object cut by a seam between regions
  become one box. Detections stay columnar (``vidlens.types.Detections``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vidlens.types import Detections

EDGE_PX = 4.0  # boxes this close (pixels) meet across a seam
EDGE_SHARE = 0.02  # a box within this share of its region's side (at least EDGE_PX) of an inner edge was cut by it


@dataclass(frozen=True)
class RegionPlanner:
    """Square detector regions for one frame size; see the module docstring.

    ``small`` is the long side, in model-input pixels of the whole-frame pass, below which
    a box is worth a closer look (YOLO-class detectors lose objects below a few dozen
    pixels). ``context`` is the region side over the box's long side (Frigate uses 1.35
    to 2): room for the object's true extent, which a motion blob only hints at.
    """

    model_size: int
    min_side: int | None = None  # default: the model size (a region is never enlarged)
    context: float = 2.0
    small: float = 48.0
    max_regions: int = 2
    overlap: float = 0.2

    @property
    def smallest(self) -> int:
        return self.min_side or self.model_size

    def gain(self, frame_shape: tuple[int, ...]) -> float:
        """How much finer the smallest region sees than the whole-frame pass (1.0: no gain)."""
        h, w = frame_shape[:2]
        return max(h, w) / self.smallest

    def around(self, frame_shape: tuple[int, ...], boxes: np.ndarray, min_gain: float = 1.5) -> np.ndarray:
        """Regions (R, 4) int32 xyxy around ``boxes`` (given in priority order), at most ``max_regions``.

        Only regions that see at least ``min_gain`` times finer than the whole-frame pass are
        worth a detector run: a box too large for one is left to that pass, and a cluster of
        boxes shares a region while it still fits one.
        """
        h, w = frame_shape[:2]
        out: list[np.ndarray] = []
        if len(boxes) == 0 or self.max_regions <= 0 or self.gain(frame_shape) < min_gain:
            return np.zeros((0, 4), np.int32)
        full = self.model_size / max(h, w)  # whole-frame pass: model pixels per frame pixel
        limit = min(h, w, self.model_size / (full * min_gain))  # largest region side worth running
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        todo = [b for b in boxes if self._side(b[None]) <= limit]
        while todo and len(out) < self.max_regions:
            cluster = todo.pop(0)[None]
            rest = []
            for b in todo:  # greedily add boxes while the cluster still fits a worthwhile region
                grown = np.concatenate([cluster, b[None]])
                if self._side(grown) <= limit:
                    cluster = grown
                else:
                    rest.append(b)
            todo = [b for b in rest if not _inside(b, out)]
            out.append(self._square(cluster, h, w))
            todo = [b for b in todo if not _inside(b, out)]
        return np.stack(out).astype(np.int32) if out else np.zeros((0, 4), np.int32)

    def is_small(self, frame_shape: tuple[int, ...], boxes: np.ndarray) -> np.ndarray:
        """Which ``boxes`` the whole-frame pass sees with a long side below ``small`` model pixels."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        long = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        return long * (self.model_size / max(frame_shape[:2])) < self.small

    def tiles(self, frame_shape: tuple[int, ...]) -> np.ndarray:
        """Square tiles (T, 4) int32 covering the frame at (nearly) full resolution, row by row.

        The side is ``model_size``, or the frame's short side when that is at most a quarter
        larger (a 768x432 frame takes two 432-px tiles rather than six). Neighbours overlap
        by at least ``overlap`` of a tile, so an object smaller than the overlap lies whole
        in some tile; larger ones are joined across the seam by ``merge``.
        """
        h, w = frame_shape[:2]
        side = min(h, w) if min(h, w) <= 1.25 * self.model_size else self.model_size
        xs = _starts(w, side, self.overlap)
        ys = _starts(h, side, self.overlap)
        return np.array([[x, y, x + side, y + side] for y in ys for x in xs], np.int32)

    def _side(self, boxes: np.ndarray) -> float:
        ext = np.concatenate([boxes[:, :2].min(0), boxes[:, 2:].max(0)])
        return max(self.smallest, self.context * float(max(ext[2] - ext[0], ext[3] - ext[1])))

    def _square(self, boxes: np.ndarray, h: int, w: int) -> np.ndarray:
        side = int(min(round(self._side(boxes)), h, w))
        cx = (boxes[:, 0].min() + boxes[:, 2].max()) / 2
        cy = (boxes[:, 1].min() + boxes[:, 3].max()) / 2
        x0 = int(np.clip(round(cx - side / 2), 0, w - side))
        y0 = int(np.clip(round(cy - side / 2), 0, h - side))
        return np.array([x0, y0, x0 + side, y0 + side], np.int32)


def _starts(length: int, side: int, overlap: float) -> list[int]:
    if length <= side:
        return [0]
    n = int(np.ceil((length - side) / (side * (1 - overlap)))) + 1
    return [int(round(v)) for v in np.linspace(0, length - side, n)]


def _inside(box: np.ndarray, regions: list[np.ndarray], margin: float = 4.0) -> bool:
    return any(box[0] >= r[0] + margin and box[1] >= r[1] + margin and box[2] <= r[2] - margin
               and box[3] <= r[3] - margin for r in regions)


def detect_regions(detect: Callable[[np.ndarray], Detections], image: np.ndarray,
                   regions: np.ndarray) -> list[Detections]:
    """Run ``detect`` on each region's crop of ``image``; detections in frame pixels (see ``in_region``)."""
    return [in_region(detect(np.ascontiguousarray(image[y0:y1, x0:x1])), (x0, y0, x1, y1), image.shape)
            for x0, y0, x1, y1 in np.asarray(regions, int)]


def in_region(d: Detections, region: Sequence[float], frame_shape: tuple[int, ...]) -> Detections:
    """``d`` (in the region's pixels) moved to frame pixels, each box marked where a region edge cut it.

    ``data["cut"]`` holds four flags per box (left, top, right, bottom): the box touches
    an edge of the region that is not an edge of the frame, so the object may go on
    beyond it. The whole-frame pass is ``in_region(d, (0, 0, w, h), shape)``: never cut.
    """
    h, w = frame_shape[:2]
    x0, y0, x1, y1 = (float(v) for v in region)
    xyxy = d.xyxy.astype(np.float32) + np.array([x0, y0, x0, y0], np.float32)
    inner = np.array([x0 > 0, y0 > 0, x1 < w, y1 < h])
    edge = max(EDGE_PX, EDGE_SHARE * min(x1 - x0, y1 - y0))  # a detector's box stops a few pixels short of a cut
    near = np.stack([xyxy[:, 0] - x0 <= edge, xyxy[:, 1] - y0 <= edge,
                     x1 - xyxy[:, 2] <= edge, y1 - xyxy[:, 3] <= edge], axis=1)
    data = {**d.data, "cut": near & inner[None, :],
            "region": np.broadcast_to(np.array([x0, y0, x1, y1], np.float32), (len(d), 4)).copy()}
    return Detections(xyxy, d.confidence, d.class_name, d.tracker_id, data)


def _concat(parts: Sequence[Detections]) -> Detections:
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    cut = [p.data.get("cut", np.zeros((len(p), 4), bool)) for p in parts]
    region = [p.data.get("region", np.full((len(p), 4), np.nan, np.float32)) for p in parts]
    return Detections(np.concatenate([p.xyxy for p in parts]).astype(np.float32),
                      np.concatenate([p.confidence for p in parts]).astype(np.float32),
                      np.concatenate([p.class_name for p in parts]),
                      data={"cut": np.concatenate(cut), "region": np.concatenate(region)})


def merge(parts: Sequence[Detections], iou: float = 0.45, contained: float = 0.7) -> Detections:
    """One set of boxes from the whole-frame pass and any regions (each mapped by ``in_region``).

    Per class, boxes are taken best first, whole boxes before cut ones of similar score;
    a box is dropped if it overlaps a kept one by more than ``iou``, or if it was cut by
    a region edge and ``contained`` of it lies inside a kept box (a part of an object
    seen whole elsewhere). Two cut boxes that meet across a seam between regions are
    joined into one box first (each half alone is a partial object).
    """
    d = _join_seams(_concat(parts))
    if not len(d):
        return d
    cut = d.data["cut"].any(1)
    rank = d.confidence * np.where(cut, 0.6, 1.0)  # as Frigate: a cut box loses to a whole one
    keep: list[int] = []
    for label in dict.fromkeys(d.class_name.tolist()):
        idx = np.flatnonzero(d.class_name == label)
        idx = idx[np.argsort(-rank[idx], kind="stable")]
        kept: list[int] = []
        for i in idx:
            if kept:
                k = np.array(kept)
                inter = _intersection(d.xyxy[i], d.xyxy[k])
                a_i = _area(d.xyxy[i][None])[0]
                union = a_i + _area(d.xyxy[k]) - inter
                if (inter / np.maximum(union, 1e-9) > iou).any():
                    continue
                if cut[i] and (inter / max(a_i, 1e-9) > contained).any():
                    continue
                # a whole box that swallows a kept cut piece replaces it
                swallowed = cut[k] & (inter / np.maximum(_area(d.xyxy[k]), 1e-9) > contained)
                if swallowed.any() and not cut[i]:
                    kept = [j for j, s in zip(kept, swallowed) if not s]
            kept.append(int(i))
        keep.extend(kept)
    keep_idx = np.array(sorted(keep, key=lambda i: -d.confidence[i]), np.int64)
    return d[keep_idx]


def _join_seams(d: Detections) -> Detections:
    """Join pairs of same-class boxes cut on facing sides of two different regions where they meet."""
    cut, region = d.data.get("cut"), d.data.get("region")
    if len(d) < 2 or cut is None or region is None or not cut.any():
        return d
    xyxy, conf, cut, region = d.xyxy.copy(), d.confidence.copy(), cut.copy(), region.copy()
    alive = np.ones(len(d), bool)
    joined = True
    while joined:
        joined = False
        pieces = np.flatnonzero(alive & cut.any(1))
        for i in pieces:
            for j in pieces:
                if (i == j or not (alive[i] and alive[j]) or d.class_name[i] != d.class_name[j]
                        or np.array_equal(region[i], region[j]) or not _meet(xyxy[i], xyxy[j], cut[i], cut[j])):
                    continue
                a, b = xyxy[i], xyxy[j]
                first = np.array([a[0] <= b[0], a[1] <= b[1], a[2] >= b[2], a[3] >= b[3]])
                cut[i] = np.where(first, cut[i], cut[j])  # each edge of the union is cut if the box giving it was
                xyxy[i] = np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])
                region[i] = np.concatenate([np.minimum(region[i, :2], region[j, :2]),
                                            np.maximum(region[i, 2:], region[j, 2:])])
                conf[i] = max(conf[i], conf[j])
                alive[j] = False
                joined = True
    return Detections(xyxy, conf, d.class_name, d.tracker_id, {**d.data, "cut": cut, "region": region})[alive]


def _meet(a: np.ndarray, b: np.ndarray, cut_a: np.ndarray, cut_b: np.ndarray) -> bool:
    """``a`` is cut on its right (bottom) side, ``b`` on its left (top), they touch or overlap across
    that seam, and they cover the same span along it: two halves of one object."""
    for axis in (0, 1):
        lo, hi = 1 - axis, 3 - axis  # the extent along the seam
        span = min(a[hi], b[hi]) - max(a[lo], b[lo])
        if (cut_a[axis + 2] and cut_b[axis] and b[axis] <= a[axis + 2] + EDGE_PX and a[axis] < b[axis]
                and span >= 0.5 * min(a[hi] - a[lo], b[hi] - b[lo])):
            return True
    return False


def _area(xyxy: np.ndarray) -> np.ndarray:
    return (xyxy[:, 2] - xyxy[:, 0]).clip(0) * (xyxy[:, 3] - xyxy[:, 1]).clip(0)


def _intersection(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    w = (np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])).clip(0)
    h = (np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])).clip(0)
    return w * h
