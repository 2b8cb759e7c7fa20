"""Who a person on a live camera is: face matchers for ``CameraPipeline.face_matchers``.

``HumanFaces`` matches against the registered digital humans (``vidlens.humans``): their face
templates are read once from the registry by the supervisor and travel to the camera's process
with it, so the camera never touches the database; the face models load there on first use. A
face in the upper part of a new person track's box is embedded (the humans registry's own
embedder and threshold) and compared with every template. Any other watch-list (the govern
module's) plugs in the same way: an object with ``match(bgr, box) -> [FaceMatch]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidlens.humans.settings import HumansSettings
from vidlens.watch.pipeline import FaceMatch


@dataclass
class HumanFaces:
    ids: list[str]
    names: list[str]
    templates: np.ndarray  # (N, 128) unit vectors, one per face sample
    settings: HumansSettings
    _emb: Any = field(default=None, repr=False)

    @classmethod
    def from_registry(cls, registry: Any) -> HumanFaces | None:  # noqa: ANN401 - vidlens.humans.registry.HumanRegistry
        """A matcher over the active humans' faces, or None when no one is registered."""
        with_faces = any(h.faces for h in registry.list())
        if not with_faces:
            return None
        ids, names, templates = registry.face_templates()
        return cls(ids, names, templates, registry.settings) if len(ids) else None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_emb": None}  # the models load in the camera's process

    def match(self, image: np.ndarray, box: np.ndarray) -> Sequence[FaceMatch]:
        if self._emb is None:
            from vidlens.humans.embedders import Embedders

            self._emb = Embedders(self.settings)
        h, w = image.shape[:2]
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        y1 = y0 + max(1, (y1 - y0) // 2)  # the face is in the upper half of a person's box
        pad = max(4, (x1 - x0) // 8)
        crop = image[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
        if crop.size == 0:
            return []
        best: dict[str, tuple[float, str]] = {}
        for face in self._emb.find_faces(np.ascontiguousarray(crop), self.settings.min_face_px):
            scores = self.templates @ face.embedding
            for i in np.flatnonzero(scores >= self.settings.face_threshold):
                if scores[i] > best.get(self.ids[i], (-1.0, ""))[0]:
                    best[self.ids[i]] = (float(scores[i]), self.names[i])
        return [FaceMatch(name, hid, score, "humans") for hid, (score, name) in best.items()]
