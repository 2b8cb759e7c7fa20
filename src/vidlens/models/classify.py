"""Whole-image classifiers: open_nsfw (content moderation) and EfficientNet-Lite0 (ImageNet scene labels).

Both run in onnxruntime on one 224-px crop per frame; the pre-processing is done
here with Pillow and OpenCV so the runtime needs neither the packages that ship
the models nor torch. open_nsfw was trained on images resized with Pillow's
bilinear filter and JPEG re-encoded, and its score moves by up to 0.1 when another
resampler is used, so the resize is Pillow's own and the JPEG round-trip uses the
same libjpeg settings (quality 75, 4:2:0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import ModelError
from vidlens.models import catalog
from vidlens.models.registry import locate
from vidlens.models.runtime import onnx_session

NSFW_SLOT = "nsfw.classifier"
SCENE_SLOT = "scene.classifier"
NSFW_MEAN_BGR = np.array([104, 117, 123], np.float32)


def pil_bilinear(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, C) uint8 image to ``size`` (w, h) with Pillow's bilinear filter, which the models saw."""
    from PIL import Image

    if img.shape[1] == size[0] and img.shape[0] == size[1]:
        return img
    return np.asarray(Image.fromarray(np.ascontiguousarray(img)).resize(size, Image.Resampling.BILINEAR))


def nsfw_input(rgb: np.ndarray) -> np.ndarray:
    """open_nsfw's input for one RGB frame: 256x256, centre 224 crop, JPEG round-trip, BGR minus mean (HWC)."""
    import cv2

    crop = pil_bilinear(rgb, (256, 256))[16:240, 16:240]
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(crop[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 75])
    if not ok:
        raise ValueError("JPEG encoding of the crop failed")
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr.astype(np.float32) - NSFW_MEAN_BGR)


def scene_input(rgb: np.ndarray) -> np.ndarray:
    """EfficientNet-Lite0's input for one RGB frame: short side 256, centre 224 crop, (x-127)/128 (CHW)."""
    h, w = rgb.shape[:2]
    s = 256 / min(h, w)
    img = pil_bilinear(rgb, (max(224, round(w * s)), max(224, round(h * s))))
    top, left = (img.shape[0] - 224) // 2, (img.shape[1] - 224) // 2
    crop = img[top:top + 224, left:left + 224].astype(np.float32)
    return np.ascontiguousarray(((crop - 127.0) / 128.0).transpose(2, 0, 1))


def _labels(path: str | None) -> list[str]:
    """Class names, one a line: the packaged ImageNet names or the user's file for an own model."""
    p = locate(catalog.IMAGENET_LABELS) if path is None else Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"model slot '{catalog.IMAGENET_LABELS.slot}': label file {p} does not exist",
                         details={"slot": catalog.IMAGENET_LABELS.slot, "expected": str(p)})
    return [n.strip() for n in p.read_text(encoding="utf-8").splitlines() if n.strip()]


def _session_io(slot: str, path: Path, threads: int) -> tuple[Any, str, list[str]]:
    sess = onnx_session(slot, path, threads)
    return sess, sess.get_inputs()[0].name, [o.name for o in sess.get_outputs()]


@dataclass
class NsfwModel:
    """P(nsfw) per frame from open_nsfw (or an own model with the same input and a [sfw, nsfw] output)."""

    session: Any
    input_name: str
    name: str

    @classmethod
    def load(cls, model: str | None = None, threads: int = 1) -> NsfwModel:
        path = locate(catalog.OPEN_NSFW, model)
        sess, inp, outs = _session_io(NSFW_SLOT, path, threads)
        shape = sess.get_inputs()[0].shape
        if len(shape) != 4 or shape[1:] != [224, 224, 3] or len(outs) != 1:
            raise ModelError(f"model slot '{NSFW_SLOT}': {path} does not take a 224x224x3 BGR image "
                             f"(input shape {shape}, {len(outs)} outputs)",
                             details={"slot": NSFW_SLOT, "expected": str(path)})
        return cls(sess, inp, "open_nsfw" if model is None else Path(model).name)

    def scores(self, rgbs: list[np.ndarray]) -> np.ndarray:
        """P(nsfw) for each RGB frame."""
        batch = np.stack([nsfw_input(x) for x in rgbs])
        out = self.session.run(None, {self.input_name: batch})[0]
        return np.asarray(out, np.float32)[:, 1]


@dataclass
class SceneModel:
    """ImageNet class probabilities and a pooled image feature per frame."""

    session: Any
    input_name: str
    labels: list[str]
    name: str
    has_features: bool

    @classmethod
    def load(cls, model: str | None = None, labels: str | None = None, threads: int = 1) -> SceneModel:
        path = locate(catalog.EFFICIENTNET_LITE0, model)
        sess, inp, outs = _session_io(SCENE_SLOT, path, threads)
        names = _labels(labels)
        classes = sess.get_outputs()[0].shape[-1]
        if sess.get_inputs()[0].shape[1:] != [3, 224, 224] or (isinstance(classes, int) and classes != len(names)):
            raise ModelError(f"model slot '{SCENE_SLOT}': {path} does not take a 3x224x224 image or its "
                             f"{classes} classes do not match the {len(names)} labels",
                             details={"slot": SCENE_SLOT, "expected": str(path)})
        return cls(sess, inp, names, "efficientnet-lite0" if model is None else Path(model).name, len(outs) > 1)

    def run(self, rgbs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities (N, classes), features (N, D) or None) for RGB frames."""
        outs = self.session.run(None, {self.input_name: np.stack([scene_input(x) for x in rgbs])})
        logits = np.asarray(outs[0], np.float32)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        return probs, (np.asarray(outs[1], np.float32) if self.has_features else None)
