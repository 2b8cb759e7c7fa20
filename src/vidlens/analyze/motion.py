"""Motion gating: run an expensive model only when the picture changed.

As in Frigate, a fixed camera watching an empty car park should not pay for a
detector on every sample. The gate keeps a small, area-averaged grey thumbnail
of the last frame the model ran on; a new sample runs the model only if enough
of its thumbnail moved by more than a few grey levels, on a shot change, or when
``max_skip`` samples have been skipped in a row (so slow drift and lighting
changes are picked up). Skipped samples reuse the last result: a parked car stays
tracked without being detected again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class MotionGate:
    def __init__(self, *, side: int = 96, pixel_delta: int = 20, min_area: float = 0.002,
                 max_skip: int = 10) -> None:
        self.side = side
        self.pixel_delta = pixel_delta
        self.min_area = min_area
        self.max_skip = max_skip
        self._ref: np.ndarray | None = None
        self._skipped = 0

    def _thumb(self, image: np.ndarray) -> np.ndarray:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        h, w = gray.shape[:2]
        scale = self.side / max(h, w)
        if scale < 1:
            gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))),
                              interpolation=cv2.INTER_AREA)
        return gray.astype(np.int16)

    def should_run(self, image: np.ndarray, *, force: bool = False) -> bool:
        """True when the model must run on ``image`` (which then becomes the reference)."""
        thumb = self._thumb(image)
        ref = self._ref
        run = (force or ref is None or ref.shape != thumb.shape or self._skipped >= self.max_skip
               or float((np.abs(thumb - ref) > self.pixel_delta).mean()) > self.min_area)
        if run:
            self._ref, self._skipped = thumb, 0
        else:
            self._skipped += 1
        return run


@dataclass(frozen=True, slots=True)
class Motion:
    """What a ``MotionMap`` saw in one frame."""

    boxes: np.ndarray  # (N, 4) float32 xyxy in the caller's pixels: what moves now
    share: float  # moved share of the view: most of it on a pan, a cut or a light change
    changed: bool  # anything changed since the last frame, moving or gone (a walker who left)
    known: bool = True  # False on a first frame (after a reset): nothing to compare with yet


class MotionMap:
    """Where the picture moves, as boxes in the caller's pixels.

    Frigate finds motion on a small grey copy of the frame and sends the detector only the
    regions around it; this is the same idea for sparse samples. Each call compares a
    blurred grey thumbnail (long side ``side``) with the last two: a pixel moved if it
    differs by more than ``pixel_delta`` grey levels from both (three-frame differencing),
    so a walker shows where it is now, not also where it was a second ago, and leaves no
    ghost behind. Moved pixels are dilated into blobs, and each blob with at least
    ``min_blob`` of them becomes a box. ``changed`` also reports a blob that differs from
    the last frame only: something left. ``ignore`` polygons (corners as fractions of the
    width and height) are never motion: a clock burned into the picture, a tree in the wind.
    """

    def __init__(self, *, side: int = 256, pixel_delta: int = 20, min_blob: int = 4,
                 ignore: Sequence[Sequence[tuple[float, float]]] = ()) -> None:
        self.side = side
        self.pixel_delta = pixel_delta
        self.min_blob = min_blob
        self.ignore = [np.asarray(p, np.float32).reshape(-1, 2) for p in ignore]
        self._counts: np.ndarray | None = None  # thumbnail pixels outside ``ignore`` (for the last thumbnail size)
        self._last: list[np.ndarray] = []  # the previous thumbnail, then the one before it

    def reset(self) -> None:
        """Forget earlier frames (after a shot change nothing is known to have moved)."""
        self._last = []

    def update(self, image: np.ndarray, *, blobs: bool = True) -> Motion:
        """What moved in ``image`` since the last calls (nothing on the first).

        With ``blobs`` False only the moved share is measured (no boxes, ``changed`` False): enough
        to tell a still view from a pan, for a fraction of the cost.
        """
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        h, w = gray.shape[:2]
        scale = min(1.0, self.side / max(h, w))
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        thumb = cv2.resize(gray, (tw, th), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        thumb = cv2.GaussianBlur(thumb, (3, 3), 0)
        last = [t for t in self._last if t.shape == thumb.shape]
        self._last = [thumb, *last[:1]]
        none = np.zeros((0, 4), np.float32)
        if not last:
            return Motion(none, 0.0, False, known=False)
        diffs = [cv2.absdiff(thumb, ref) > self.pixel_delta for ref in last]
        if self.ignore:
            diffs = [d & self._counted(d.shape) for d in diffs]
        moved = np.logical_and.reduce(diffs)
        if not blobs:
            return Motion(none, float(moved.mean()), False)
        changed = self._blobs(diffs[0])
        boxes = self._blobs(moved) if len(changed) else none
        boxes *= np.array([w / tw, h / th] * 2, np.float32)
        return Motion(boxes, float(moved.mean()), bool(len(changed)))

    def _counted(self, shape: tuple[int, ...]) -> np.ndarray:
        """True where motion counts: the thumbnail outside the ``ignore`` polygons."""
        import cv2

        if self._counts is None or self._counts.shape != shape:
            keep = np.full(shape[:2], 255, np.uint8)
            scale = np.array([shape[1], shape[0]], np.float32)
            cv2.fillPoly(keep, [np.round(p * scale).astype(np.int32) for p in self.ignore], 0)
            self._counts = keep > 0
        return self._counts

    def _blobs(self, mask: np.ndarray) -> np.ndarray:
        import cv2

        if not mask.any():
            return np.zeros((0, 4), np.float32)
        m = mask.astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            cv2.dilate(m, np.ones((3, 3), np.uint8), iterations=2), connectivity=8)
        count = np.bincount(labels[m > 0], minlength=n)  # blobs are judged by their own pixels, not the dilation
        s = stats[1:][count[1:] >= self.min_blob].astype(np.float32)
        if not len(s):
            return np.zeros((0, 4), np.float32)
        return np.stack([s[:, 0], s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 3]], axis=1)
