"""When to run OCR: a cheap look for text first, and a reading only when the text changed.

The gate is the OCR text detector itself at low resolution (480 px on the long
side, about a tenth of a full reading's cost): far more reliable than edge
heuristics, which fire on foliage and miss low-contrast captions. When the gate
finds text, the regions are compared with those of the last frame that was read;
if every region looks the same (a static caption, a logo), that reading is
carried forward instead of reading again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPARE_SIDE = 320


@dataclass(frozen=True, slots=True)
class GateResult:
    boxes: np.ndarray  # (K, 4) candidate text regions, in the input frame's pixels
    gray: np.ndarray  # downscaled luma used to tell whether the regions changed
    scale: float  # input pixels per ``gray`` pixel


def gate_result(bgr: np.ndarray, boxes: np.ndarray) -> GateResult:
    import cv2

    h, w = bgr.shape[:2]
    scale = max(1.0, max(h, w) / COMPARE_SIDE)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    if scale > 1:
        gray = cv2.resize(gray, (int(round(w / scale)), int(round(h / scale))), interpolation=cv2.INTER_AREA)
    return GateResult(np.asarray(boxes, np.float32).reshape(-1, 4), gray, scale)


def regions_changed(prev: GateResult | None, cur: GateResult, *, tolerance: float = 8.0,
                    changed_fraction: float = 0.01) -> bool:
    """True unless every text region of ``prev`` and ``cur`` looks the same in both frames.

    A region changed when its mean difference exceeds ``tolerance`` grey levels, or when more
    than ``changed_fraction`` of its pixels moved by over 40 levels (one digit of a clock).
    """
    if prev is None or prev.gray.shape != cur.gray.shape:
        return True
    if len(cur.boxes) == 0 and len(prev.boxes) == 0:
        return False
    a, b = prev.gray.astype(np.int16), cur.gray.astype(np.int16)
    for x1, y1, x2, y2 in np.concatenate([prev.boxes, cur.boxes]) / cur.scale:
        ys, xs = slice(int(y1), int(np.ceil(y2)) + 1), slice(int(x1), int(np.ceil(x2)) + 1)
        d = np.abs(a[ys, xs] - b[ys, xs])
        if d.size and (float(d.mean()) > tolerance or float((d > 40).mean()) > changed_fraction):
            return True
    return False
