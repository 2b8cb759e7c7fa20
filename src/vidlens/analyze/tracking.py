"""A small multi-object tracker for sparsely sampled frames (ByteTrack-lite).

Analyzers sample 1–2 frames a second, so objects move a lot between samples and a
Kalman filter has little to work with. Tracks are matched greedily per label by IoU
against a constant-velocity prediction, with a centroid-distance fallback for
small fast objects. As in ByteTrack, confident detections are matched first and
weak ones may only extend existing tracks, never start new ones. A track ends
after ``max_gap`` samples without a match, or ``lost_s`` seconds if that is longer (the
track buffer: at 5 samples a second, someone passing behind a sign or another person
for a second keeps their id), and ``cut()`` ends every track at a shot change, so a
track never spans a cut.

The motion model predicts the box centre at constant velocity and keeps the box's
size; a box much smaller than the object (a partial view as it goes behind something)
moves the prediction only a little and leaves the velocity alone, so the object is
looked for where it was heading when it comes out. With appearance features
(e.g. face embeddings), a pair whose cosine similarity is below ``feature_min`` never
matches, which catches cuts between look-alike framings that the boxes alone miss.

The centroid fallback allows a move of ``centroid_max`` box sizes a sample by default;
``reach`` can set it per label in the object's own length (long side) per second, so a
cyclist or a car, which cover several of their lengths a second, stay one track when
sampled once a second, while people in a crowd keep a tight gate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidlens.types import Detections


@dataclass
class TrackState:
    id: int
    label: str
    start_t: float
    last_t: float
    box: np.ndarray  # last matched box, xyxy
    best_box: np.ndarray
    best_t: float
    best_conf: float
    conf_sum: float
    hits: int = 1
    misses: int = 0
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))  # centre, pixels a sample
    estimate: np.ndarray | None = None  # where the object is believed to be at its last match, xyxy
    odd: int = 0  # matches in a row whose box was much smaller than the object (a partial view)
    feature: np.ndarray | None = None  # running unit-length appearance vector, when features are given
    confirmed: bool = False  # reported even with fewer than ``min_hits`` matches (the caller has other evidence)
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.estimate is None:
            self.estimate = self.box.copy()

    def predicted(self) -> np.ndarray:
        """The estimate moved on by its velocity for every sample since the last match, at its own size."""
        shift = self.velocity * (self.misses + 1)
        return self.estimate + np.concatenate([shift, shift])


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area_a = ((a[:, 2] - a[:, 0]).clip(0) * (a[:, 3] - a[:, 1]).clip(0))[:, None]
    area_b = ((b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0))[None, :]
    return (inter / (area_a + area_b - inter + 1e-9)).astype(np.float32)


def _similarity(tracks: list[TrackState], boxes: np.ndarray, iou_min: float, centroid_max: float,
                reach_s: float | None = None, step_s: float = 0.0) -> np.ndarray:
    """Pairwise match score: IoU if it passes, else a small centroid-closeness score, else 0.

    Closeness is measured in box sizes (geometric mean of the sides) against ``centroid_max``;
    ``reach_s`` widens that to ``reach_s`` long sides a second over one step of ``step_s`` seconds
    (not the whole gap since a lost track's last match: its gate does not grow while it is lost).
    """
    if not tracks or len(boxes) == 0:
        return np.zeros((len(tracks), len(boxes)), np.float32)
    pred = np.stack([t.predicted() for t in tracks])
    sim = iou_matrix(pred, boxes)
    sim[sim < iou_min] = 0.0
    pc = (pred[:, :2] + pred[:, 2:]) / 2
    bc = (boxes[:, :2] + boxes[:, 2:]) / 2
    dist = np.linalg.norm(pc[:, None, :] - bc[None, :, :], axis=2)
    pw, ph = (pred[:, 2] - pred[:, 0]).clip(1), (pred[:, 3] - pred[:, 1]).clip(1)
    bw, bh = (boxes[:, 2] - boxes[:, 0]).clip(1), (boxes[:, 3] - boxes[:, 1]).clip(1)
    ratio = np.sqrt(pw * ph)[:, None] / np.sqrt(bw * bh)[None, :]
    limit = np.sqrt(np.sqrt(pw * ph)[:, None] * np.sqrt(bw * bh)[None, :]) * centroid_max
    if reach_s is not None:  # widen (never narrow) the gate to what the label can cover since the last match
        long = np.sqrt(np.maximum(pw, ph)[:, None] * np.maximum(bw, bh)[None, :])
        limit = np.maximum(limit, long * reach_s * step_s)
    close = (dist < limit) & (ratio < 2.0) & (ratio > 0.5)
    fallback = np.where(close, 0.1 * (1 - dist / limit), 0.0).astype(np.float32)
    return np.where(sim > 0, sim, fallback)


class Tracker:
    """Greedy per-label association; see the module docstring."""

    def __init__(self, *, high_conf: float = 0.4, iou_min: float = 0.15, centroid_max: float = 1.0,
                 max_gap: int = 3, min_hits: int = 2, feature_min: float = 0.3,
                 reach: Callable[[str], float | None] | None = None, lost_s: float = 0.0) -> None:
        self.high_conf = high_conf
        self.iou_min = iou_min
        self.centroid_max = centroid_max
        self.reach = reach  # per label: long sides a second the centroid may move (None: centroid_max a sample)
        self.max_gap = max_gap
        self.lost_s = lost_s  # ... and a lost track is kept at least this long (short occlusions at high rates)
        self.min_hits = min_hits
        self.feature_min = feature_min
        self.live: list[TrackState] = []
        self.done: list[TrackState] = []
        self._next_id = 1
        self._last_t: float | None = None

    def update(self, t: float, dets: Detections,
               features: np.ndarray | None = None) -> list[tuple[TrackState, int]]:
        """Feed one sample's detections (and optional unit-length appearance ``features``, one row each).

        Returns (track, detection index) for every matched or new track.
        """
        matched: list[tuple[TrackState, int]] = []
        step = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        used_tracks: set[int] = set()
        used_dets: set[int] = set()
        conf = dets.confidence
        for strong in (True, False):
            pool = [i for i in range(len(dets)) if (conf[i] >= self.high_conf) == strong and i not in used_dets]
            for label in {str(dets.class_name[i]) for i in pool}:
                idx = [i for i in pool if dets.class_name[i] == label]
                cand = [tr for tr in self.live if tr.label == label and tr.id not in used_tracks]
                sim = _similarity(cand, dets.xyxy[idx], self.iou_min, self.centroid_max,
                                  None if self.reach is None else self.reach(label), step)
                if features is not None:
                    for ti, tr in enumerate(cand):
                        if tr.feature is not None:
                            sim[ti, features[idx] @ tr.feature < self.feature_min] = 0.0
                while sim.size and sim.max() > 0:
                    ti, di = np.unravel_index(int(sim.argmax()), sim.shape)
                    tr, d = cand[ti], idx[di]
                    self._extend(tr, t, dets.xyxy[d], float(conf[d]), None if features is None else features[d])
                    used_tracks.add(tr.id)
                    used_dets.add(d)
                    matched.append((tr, d))
                    sim[ti, :] = 0
                    sim[:, di] = 0
        for tr in self.live:
            if tr.id not in used_tracks:
                tr.misses += 1
        ended = [tr for tr in self.live if tr.misses > self.max_gap and t - tr.last_t > self.lost_s]
        self.live = [tr for tr in self.live if tr not in ended]
        self._retire(ended)
        for i in range(len(dets)):
            if i not in used_dets and conf[i] >= self.high_conf:
                tr = self._start(t, str(dets.class_name[i]), dets.xyxy[i], float(conf[i]))
                tr.feature = None if features is None else features[i].copy()
                matched.append((tr, i))
        return matched

    def cut(self) -> None:
        """A shot change: every live track ends here."""
        self._retire(self.live)
        self.live = []

    def finish(self) -> list[TrackState]:
        """End all tracks; return the confirmed ones (``min_hits`` or more matches, or ``confirmed``) by start time."""
        self.cut()
        return sorted(self.done, key=lambda tr: (tr.start_t, tr.id))

    def _retire(self, tracks: list[TrackState]) -> None:
        self.done.extend(tr for tr in tracks if tr.hits >= self.min_hits or tr.confirmed)

    def _start(self, t: float, label: str, box: np.ndarray, conf: float) -> TrackState:
        tr = TrackState(self._next_id, label, t, t, box.astype(np.float32).copy(), box.astype(np.float32).copy(),
                        t, conf, conf)
        self._next_id += 1
        self.live.append(tr)
        return tr

    @staticmethod
    def _extend(tr: TrackState, t: float, box: np.ndarray, conf: float, feature: np.ndarray | None) -> None:
        steps = tr.misses + 1
        if feature is not None:
            f = feature if tr.feature is None else 0.7 * tr.feature + 0.3 * feature
            tr.feature = f / max(float(np.linalg.norm(f)), 1e-12)
        box = box.astype(np.float32)
        pred = tr.predicted()
        if not _cut_short(box, tr.estimate) or tr.odd >= ODD_MAX:
            tr.velocity = 0.5 * tr.velocity + 0.5 * (_centre(box) - _centre(tr.estimate)) / steps
            tr.estimate = box.copy()
            tr.odd = 0
        else:  # a partial view (behind a sign, half out of frame): its centre is off, the object goes on as it was
            shift = (_centre(box) - _centre(pred)) * 0.3
            tr.estimate = pred + np.concatenate([shift, shift])
            tr.odd += 1
        tr.box = box.copy()
        tr.last_t = t
        tr.hits += 1
        tr.misses = 0
        tr.conf_sum += conf
        if conf > tr.best_conf:
            tr.best_conf, tr.best_box, tr.best_t = conf, tr.box.copy(), t


ODD_MAX = 3  # after this many small boxes in a row, the object's size has changed (it turned, sat down, went far)


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)


def _cut_short(box: np.ndarray, estimate: np.ndarray, ratio: float = 1.5) -> bool:
    """Whether ``box`` is ``ratio`` times narrower or shorter than ``estimate``: part of the object hidden.

    Only smaller boxes are doubted: a box much larger is usually two objects seen as one, and
    following it (at 1-2 samples a second the motion model is too rough to coast on) keeps more
    ids on the synthetic scenes of tests/unit/tracking_scenes.py than coasting does.
    """
    w, h = max(box[2] - box[0], 1e-3), max(box[3] - box[1], 1e-3)
    return (estimate[2] - estimate[0]) / w >= ratio or (estimate[3] - estimate[1]) / h >= ratio


class CutDetector:
    """Flags a shot change between two samples from a tiny luma thumbnail (cheap, no model)."""

    def __init__(self, threshold: float = 40.0) -> None:
        self.threshold = threshold
        self._prev: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> bool:
        h, w = image.shape[:2]
        ys = (np.arange(9) * h) // 9
        xs = (np.arange(16) * w) // 16
        # block sums in exact integers first, channels averaged last: no full-size float copy of the frame
        sums = np.add.reduceat(np.add.reduceat(image, ys, axis=0, dtype=np.int64), xs, axis=1)
        if sums.ndim == 3:
            sums = sums.sum(axis=2) / image.shape[2]
        counts = np.outer(np.diff(np.append(ys, h)), np.diff(np.append(xs, w)))
        thumb = sums / counts
        prev, self._prev = self._prev, thumb
        return prev is not None and float(np.abs(thumb - prev).mean()) > self.threshold
