"""Who a person on a live camera is: face matchers for ``CameraPipeline.face_matchers``.

Two lists of known faces reach a camera: the registered digital humans (``vidlens.humans``, every
camera) and the govern module's face watch-list (``vidlens watchlist``, cameras with
``watchlist: true``). Either one's face templates are read once from the database by the
supervisor and travel to the camera's process as plain arrays (``KnownFaces``), so the camera
never touches the database; there they become the humans module's ``FaceMatcher`` (one matching
rule and threshold for files, the library and cameras) and the face models load on first use.
A face in the upper part of a person track's box is embedded and matched.

A watch-list sighting is also written to the audit chain (``watchlist.seen``) in the transaction
that stores its event (``audit_sighting``), so the chain holds where and when a listed face was
seen beside why it was listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.humans.settings import HumansSettings
from vidlens.watch.pipeline import FaceMatch

HUMANS, WATCHLIST = "humans", "watchlist"


@dataclass
class KnownFaces:
    """Known faces for a camera's process: ``refs[i]`` is whose face ``templates[i]`` is."""

    source: str  # HUMANS or WATCHLIST: which list a match comes from
    refs: list[str]  # the human's or the watch-list entry's id, one per template
    templates: np.ndarray  # (N, 128) unit face embeddings of ``settings``' face model
    names: dict[str, str]  # ref -> name shown as the event's label
    reasons: dict[str, str]  # ref -> why the face is listed (the watch-list entry's reason)
    settings: HumansSettings
    _emb: Any = field(default=None, repr=False)
    _matcher: Any = field(default=None, repr=False)

    @classmethod
    def from_registry(cls, registry: Any) -> KnownFaces | None:  # noqa: ANN401 - vidlens.humans.registry.HumanRegistry
        """The active digital humans' faces, or None when no one is registered with a face."""
        if not any(h.faces for h in registry.list()):
            return None
        ids, names, templates = registry.face_templates()
        return cls(HUMANS, ids, templates, dict(zip(ids, names, strict=True)), {}, registry.settings) \
            if len(ids) else None

    @classmethod
    def from_watchlist(cls, watchlist: Any) -> KnownFaces | None:  # noqa: ANN401 - vidlens.govern.watchlist.WatchList
        """The watch-list's faces, or None when the list is empty."""
        entries = {e.id: e for e in watchlist.list()}
        if not entries:
            return None
        ids, templates = watchlist.templates()
        return cls(WATCHLIST, ids, templates, {i: e.name for i, e in entries.items()},
                   {i: e.reason for i, e in entries.items()}, watchlist.settings) if len(ids) else None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_emb": None, "_matcher": None}  # the models load in the camera's process

    def match(self, image: np.ndarray, box: np.ndarray) -> Sequence[FaceMatch]:
        if self._emb is None:
            from vidlens.humans.matching import FaceMatcher
            from vidlens.vectors import VectorIndex

            self._emb = _embedders(self.settings)
            index = VectorIndex.build((f"{i}", v, {"ref": r}) for i, (r, v) in enumerate(
                zip(self.refs, self.templates, strict=True)))
            self._matcher = FaceMatcher(index, self.settings.face_threshold, "ref", self._emb.face_model_id)
        h, w = image.shape[:2]
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        y1 = y0 + max(1, (y1 - y0) // 2)  # the face is in the upper half of a person's box
        pad = max(4, (x1 - x0) // 8)
        crop = image[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
        if crop.size == 0:
            return []
        found = self._emb.find_faces(np.ascontiguousarray(crop), self.settings.min_face_px)
        if not found:
            return []
        best: dict[str, float] = {}
        for hits in self._matcher.match_many(np.stack([f.embedding for f in found])):
            for hit in hits:
                best[hit.ref] = max(best.get(hit.ref, -1.0), hit.score)
        return [FaceMatch(self.names.get(ref, ref), ref, score, self.source, self.reasons.get(ref))
                for ref, score in sorted(best.items(), key=lambda kv: -kv[1])]


_EMBEDDERS: dict[str, Any] = {}  # one set of face models per process, shared by its face lists


def _embedders(settings: HumansSettings) -> Any:  # noqa: ANN401 - vidlens.humans.embedders.Embedders
    from vidlens.humans.embedders import Embedders

    key = settings.model_dump_json()
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = Embedders(settings)
    return _EMBEDDERS[key]


def audit_sighting(conn: Any, ev: dict[str, Any]) -> None:  # noqa: ANN401 - a write connection
    """``WatchEvents.audit``: a watch-list face seen on a camera goes into the audit chain with its event."""
    match = (ev.get("data") or {}).get("match") or {}
    if ev.get("type") != "watchlist" or match.get("source") != WATCHLIST:
        return
    from vidlens.govern.watchlist import record_sighting

    snapshot = Path(ev["snapshot"]).name if ev.get("snapshot") else None
    record_sighting(conn, match["ref"], {"camera": ev["camera"], "event": ev["id"], "name": ev.get("label"),
                                         "start": ev["start"], "score": ev.get("score"), "snapshot": snapshot},
                    actor=f"watch:{ev['camera']}", via="watch")
