"""Faces of successive samples of one video, each person embedded once per stretch on screen.

SFace's embedding is the dearest step of looking for registered faces. A face that stays on screen
from one sample to the next is the same person: its box overlaps the box of the last sample
(IoU >= ``MIN_IOU``), its size is about the same (within ``MAX_SIZE_CHANGE``), and a small grey
thumbnail of it still looks alike (correlation >= ``MIN_LOOK``, which a cut to another face at the
same place fails). Such a face takes the embedding of the face it continues until that embedding is
``max_age_s`` old; any other face is embedded. ``max_age_s = 0`` embeds every face of every sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidlens.analyze.tracking import iou_matrix
from vidlens.humans.embedders import Embedders, FoundFace, box_of

MIN_IOU = 0.5
MAX_SIZE_CHANGE = 0.25
MIN_LOOK = 0.8
THUMB = 16


@dataclass(frozen=True, slots=True)
class _Seen:
    face: FoundFace
    thumb: np.ndarray
    embedded_t: float


def thumbnail(bgr: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
    """The face's box as ``THUMB`` x ``THUMB`` grey, zero-mean and unit-norm (for a correlation)."""
    import cv2

    x0, y0, x1, y1 = (int(round(v)) for v in box)
    crop = bgr[max(0, y0):max(y0 + 1, y1), max(0, x0):max(x0 + 1, x1)]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    small = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / max(float(np.linalg.norm(small)), 1e-6)


class FaceTracks:
    def __init__(self, emb: Embedders, max_age_s: float) -> None:
        self.emb, self.max_age_s = emb, max_age_s
        self.last: list[_Seen] = []
        self.embedded = 0  # faces embedded
        self.reused = 0  # faces that took the embedding of the face they continue

    def find(self, bgr: np.ndarray, t: float, min_px: float, detect_side: int | None) -> list[FoundFace]:
        """The faces of the sample at ``t`` s (later than the last one's), largest first, each with an embedding."""
        seen: list[_Seen] = []
        taken: set[int] = set()
        for f in self.emb.detect_faces(bgr, min_px, detect_side):
            box = box_of(f)
            thumb = thumbnail(bgr, box)
            prior = self._continues(box, f.size, thumb, t, taken)
            if prior is None:
                found = self.emb.embed_face(bgr, f)
                seen.append(_Seen(found, thumb, t))
                self.embedded += 1
            else:
                taken.add(prior)
                was = self.last[prior]
                found = FoundFace(box, f.size, f.score, was.face.embedding)
                seen.append(_Seen(found, thumb, was.embedded_t))
                self.reused += 1
        self.last = seen
        return [s.face for s in seen]

    def _continues(self, box: tuple[float, ...], size: float, thumb: np.ndarray, t: float,
                   taken: set[int]) -> int | None:
        """Which face of the last sample the face at ``box`` continues, if any."""
        best, best_iou = None, MIN_IOU
        for i, was in enumerate(self.last):
            if i in taken or t - was.embedded_t >= self.max_age_s:
                continue
            overlap = float(iou_matrix(np.array([box]), np.array([was.face.box]))[0, 0])
            if (overlap >= best_iou and abs(size / was.face.size - 1.0) <= MAX_SIZE_CHANGE
                    and float(thumb @ was.thumb) >= MIN_LOOK):
                best, best_iou = i, overlap
        return best
