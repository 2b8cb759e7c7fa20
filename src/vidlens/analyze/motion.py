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
