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


class MotionMap:
    """Where the picture moves, as boxes in the caller's pixels.

    Frigate finds motion on a small grey copy of the frame and sends the detector only the
    regions around it; this is the same idea for sparse samples. Each call compares a
    blurred grey thumbnail (long side ``side``) with the last two: a pixel moved if it
    differs by more than ``pixel_delta`` grey levels from both (three-frame differencing),
    so a walker shows where it is now, not also where it was a second ago, and leaves no
    ghost behind. Moved pixels are dilated into blobs, and each blob with at least
    ``min_blob`` of them becomes a box. ``fraction`` is the moved share of the thumbnail: a
    pan or a cut moves most of it, a fixed camera a little.
    """

    def __init__(self, *, side: int = 256, pixel_delta: int = 20, min_blob: int = 4) -> None:
        self.side = side
        self.pixel_delta = pixel_delta
        self.min_blob = min_blob
        self._last: list[np.ndarray] = []  # the previous thumbnail, then the one before it

    def reset(self) -> None:
        """Forget earlier frames (after a shot change nothing is known to have moved)."""
        self._last = []

    def update(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Boxes (N, 4) float32 xyxy in ``image`` pixels and the moved fraction; none on the first call."""
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        h, w = gray.shape[:2]
        scale = min(1.0, self.side / max(h, w))
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        thumb = cv2.resize(gray, (tw, th), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        thumb = cv2.GaussianBlur(thumb, (3, 3), 0)
        last = [t for t in self._last if t.shape == thumb.shape]
        self._last = [thumb, *last[:1]]
        if not last:
            return np.zeros((0, 4), np.float32), 0.0
        moved = np.ones(thumb.shape, bool)
        for ref in last:
            moved &= cv2.absdiff(thumb, ref) > self.pixel_delta
        fraction = float(moved.mean())
        if not fraction:
            return np.zeros((0, 4), np.float32), 0.0
        moved = moved.astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            cv2.dilate(moved, np.ones((3, 3), np.uint8), iterations=2), connectivity=8)
        changed = np.bincount(labels[moved > 0], minlength=n)  # blobs are judged by their moved pixels
        s = stats[1:][changed[1:] >= self.min_blob].astype(np.float32)
        boxes = np.stack([s[:, 0], s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 3]], axis=1) if len(s) else \
            np.zeros((0, 4), np.float32)
        boxes *= np.array([w / tw, h / th] * 2, np.float32)
        return boxes, fraction
