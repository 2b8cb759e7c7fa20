"""A query image: read safely, then embedded the way keyframes and faces were.

The keyframe feature is EfficientNet-Lite0's pooled vector, as the ``scene`` analyzer stores for its
samples (the picture first scaled to at most 456 px, as the analyzer samples frames). The face is the
largest one YuNet finds, as an SFace vector. Each is taken of the picture and of its mirror image, and
a query keeps the better match of the two, so a flipped copy is found as well as the original.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np

from vidlens.errors import UsageError

MAX_IMAGE_BYTES = 50 * 1024 * 1024
SAMPLE_SIDE = 456  # the scene analyzer's sampling size (Sampling.max_side)
FACE_SIDE = 1280


@dataclass(frozen=True)
class QueryImage:
    keyframe: list[np.ndarray]  # unit feature of the picture and of its mirror
    faces: list[np.ndarray]  # unit SFace vectors of the largest face and of its mirror (empty: no face)


def read_rgb(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode an uploaded picture to RGB; anything else is a clear ``UsageError``."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise UsageError("the query image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise UsageError(f"the query image has {len(data)} bytes; at most {MAX_IMAGE_BYTES} are accepted")
    try:
        with warnings.catch_warnings():  # the pixel limit below answers; Pillow's own warning is not needed
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        with img:
            w, h = img.size
            if w * h > max_pixels:
                raise UsageError(f"the query image is {w}x{h} pixels; at most {max_pixels} pixels are accepted")
            img.draft("RGB", (FACE_SIDE, FACE_SIDE))  # JPEG: decode at a reduced scale when it is huge
            rgb = img.convert("RGB")
            rgb.thumbnail((FACE_SIDE, FACE_SIDE))
            return np.asarray(rgb)
    except UsageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UsageError(f"the query is not a readable image ({type(exc).__name__}: {exc})") from None


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32).reshape(-1)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def embed(rgb: np.ndarray, *, face_confidence: float = 0.6) -> QueryImage:
    """Keyframe features and face vectors of a picture and its mirror."""
    import cv2

    from vidlens.models.classify import SceneModel
    from vidlens.models.faces import FaceModels

    h, w = rgb.shape[:2]
    s = min(1.0, SAMPLE_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    views = [small, np.ascontiguousarray(small[:, ::-1])]
    _, feats = SceneModel.load().run(views)
    keyframe = [] if feats is None else [_unit(f) for f in feats]
    faces: list[np.ndarray] = []
    models = FaceModels(confidence=face_confidence)
    for view in (rgb, np.ascontiguousarray(rgb[:, ::-1])):
        bgr = np.ascontiguousarray(view[:, :, ::-1])
        found = models.detect(bgr)
        if found:
            faces.append(models.embed(bgr, max(found, key=lambda f: f.size)))
    return QueryImage(keyframe, faces)
