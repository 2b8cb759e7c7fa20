"""TransNetV2, the shot-transition network, as a second opinion for the shot detector.

TransNetV2 (Souček and Lokoč, 2020) reads 48x27 RGB frames and scores each frame as the last
frame of a shot. It sees what the pixel statistics of the detector cannot weigh: whether the
new picture continues the old one (an actor entering, a whip-pan) or starts another shot of the
same colour and brightness. It costs about 10 CPU ms per frame, a hundred times the detector's
own features, so it scores only short windows around the cuts the detector is unsure of.

Its input is made from the detector's own 64-pixel YUV samples (no extra decode or scaling
pass): BT.601 limited-range YUV to RGB, then an area resize to 48x27. A window of low-contrast
frames (snow, fog, night) is first stretched to the nominal range, one gain for all its frames
(``stretch_window``): the network, trained on broadcast footage, barely reacts to a cut between two
washed-out shots, and a common gain enlarges every change between frames alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidlens.errors import ModelError
from vidlens.models import catalog
from vidlens.models.registry import locate
from vidlens.models.runtime import onnx_session

SLOT = "shots.transitions"
WIDTH, HEIGHT = 48, 27
_YUV_TO_RGB = np.array([[1.164, 0.0, 1.596], [1.164, -0.392, -0.813], [1.164, 2.017, 0.0]], np.float32)
_YUV_OFFSET = np.array([16.0, 128.0, 128.0], np.float32)
MAX_GAIN = 4.0  # the most a window is stretched, so a nearly flat window's noise stays small


def tiny_rgb(yuv: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) YUV uint8 frames -> (T, 27, 48, 3) RGB uint8, the network's input."""
    rgb = np.clip((yuv.astype(np.float32) - _YUV_OFFSET) @ _YUV_TO_RGB.T, 0, 255).astype(np.uint8)
    if rgb.shape[1:3] == (HEIGHT, WIDTH):
        return rgb
    return np.stack([cv2.resize(f, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA) for f in rgb])


def stretch_window(yuv: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) YUV uint8 frames with the window's luma (1st to 99th percentile) stretched to the nominal
    16..235 range and chroma scaled by the same gain around grey; a window already that contrasty is unchanged."""
    y = yuv[..., 0].astype(np.float32)
    lo, hi = (float(v) for v in np.percentile(y, [1, 99]))
    gain = min(219.0 / max(hi - lo, 1.0), MAX_GAIN)
    if gain <= 1.0:
        return yuv
    out = yuv.astype(np.float32)
    out[..., 0] = (y - 0.5 * (lo + hi)) * gain + 125.5
    out[..., 1:] = (out[..., 1:] - 128.0) * gain + 128.0
    return np.clip(out, 0, 255).astype(np.uint8)


@dataclass
class TransitionNet:
    """P(last frame of a shot) for each frame of a short window."""

    session: Any
    input_name: str
    name: str

    @classmethod
    def load(cls, model: str | None = None, threads: int = 1) -> TransitionNet:
        path = locate(catalog.TRANSNETV2, model)
        sess = onnx_session(SLOT, path, threads)
        inp = sess.get_inputs()[0]
        if len(inp.shape) != 5 or inp.shape[2:] != [HEIGHT, WIDTH, 3] or inp.type != "tensor(uint8)":
            raise ModelError(f"model slot '{SLOT}': {path} does not take uint8 (batch, time, 27, 48, 3) RGB frames "
                             f"(input {inp.type} {inp.shape})", details={"slot": SLOT, "expected": str(path)})
        return cls(sess, inp.name, "transnetv2" if model is None else Path(model).name)

    def score_window(self, yuv: np.ndarray) -> np.ndarray:
        """(T,) P(frame t is the last of a shot) for a window of (T, H, W, 3) YUV uint8 frames (the detector's
        samples): contrast stretched (``stretch_window``), made RGB 48x27, scored."""
        return self.cut_probabilities(tiny_rgb(stretch_window(yuv)))

    def cut_probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """(T,) P(frame t is the last of a shot) for (T, 27, 48, 3) uint8 RGB frames."""
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(rgb[None])})[0]
        return np.asarray(out, np.float32).reshape(-1)[: len(rgb)]
