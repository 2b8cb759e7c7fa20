"""Who a face is, among a set of known faces: the one matching interface every face consumer calls.

A scan of a file, the library check, the govern watch-list and a live camera all hold a
``FaceMatcher`` and give it each face's SFace embedding (128-d, from the same model as the
known faces: ``model_id``); it answers with every known person passing the calibrated
threshold, best first. The known faces are a ``vidlens.vectors.VectorIndex`` whose payload
names the person under ``field`` (``human`` for the registry, ``entry`` for the watch-list).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidlens.vectors import VectorIndex


@dataclass(frozen=True, slots=True)
class FaceHit:
    ref: str  # the digital human's id, or the watch-list entry's id
    score: float  # cosine similarity of the best sample of that person


class FaceMatcher:
    """Known faces and the similarity from which a face is taken for one of them."""

    def __init__(self, index: VectorIndex, threshold: float, field: str, model_id: str) -> None:
        self.index = index
        self.threshold = threshold
        self.field = field
        self.model_id = model_id

    def __len__(self) -> int:
        return len(self.index)

    def match(self, embedding: np.ndarray) -> list[FaceHit]:
        """The known people ``embedding`` (one face, unit 128-d) passes the threshold for, best first."""
        return self.match_many(np.asarray(embedding, np.float32)[None, :])[0]

    def match_many(self, embeddings: np.ndarray) -> list[list[FaceHit]]:
        """``match`` for each row of ``embeddings``, in one matrix product."""
        if not len(self.index) or not len(embeddings):
            return [[] for _ in range(len(embeddings))]
        out = []
        for hits in self.index.query_many(np.asarray(embeddings, np.float32), 1.0 - self.threshold):
            best: dict[str, float] = {}
            for h in hits:
                ref = str(h.payload[self.field])
                best[ref] = max(best.get(ref, -1.0), float(h.score))
            out.append([FaceHit(r, s) for r, s in sorted(best.items(), key=lambda kv: -kv[1])])
        return out
