"""``unit-vectors``: an exact cosine index over unit embeddings (faces, voices).

Entries are ``(sample id, vector, payload)``; a query is one vector (or a matrix of them with
``query_many``) and finds the entries whose ``1 - cosine`` is within the threshold. Exact search is
a single matrix product: 10,000 humans with 8 face samples each are 80,000 x 128 float32 (40 MB),
searched in milliseconds (bench/bench_humans.py), which is what a registry of likenesses needs
(no approximate index could give calibrated false-accept rates).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from vidlens.errors import UsageError
from vidlens.index import CorruptIndexError, Hit, Index, IndexExample
from vidlens.plugins import PluginManifest


def _unit(value: Any, dim: int | None, what: str) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise UsageError(f"unit-vectors index: {what} is not a vector") from None
    if v.ndim != 1 or v.size == 0 or (dim is not None and v.size != dim) or not np.all(np.isfinite(v)):
        raise UsageError(f"unit-vectors index: {what} must be a finite 1-d vector"
                         f"{f' of {dim} values' if dim else ''}, got shape {v.shape}")
    n = float(np.linalg.norm(v))
    if n < 1e-6:
        raise UsageError(f"unit-vectors index: {what} is the zero vector")
    return v / n


class UnitVectorIndex(Index[np.ndarray]):
    name: ClassVar[str] = "unit-vectors"
    version: ClassVar[int] = 1
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="unit-vectors", version="1", kind="index",
        summary="Exact cosine search over unit embeddings (digital humans' faces and voices)")
    measure: ClassVar[str] = "1 - cosine"
    default_threshold: ClassVar[float] = 0.6

    def __init__(self, *, checkpoint: str = "") -> None:
        super().__init__(checkpoint=checkpoint)
        self._rows: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None

    @property
    def dim(self) -> int | None:
        return None if not self._rows else int(self._rows[0].size)

    def _add(self, position: int, value: np.ndarray) -> None:
        self._rows.append(_unit(value, self.dim, "an entry's value"))
        self._matrix = None

    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = np.stack(self._rows) if self._rows else np.zeros((0, 0), np.float32)
        return self._matrix

    def query(self, value: np.ndarray, threshold: float | None = None) -> list[Hit]:
        return self.query_many(_unit(value, self.dim, "the query")[None, :], threshold)[0]

    def query_many(self, values: np.ndarray, threshold: float | None = None) -> list[list[Hit]]:
        """The hits of each row of ``values`` (unit vectors), best first."""
        t = self.default_threshold if threshold is None else float(threshold)
        q = np.asarray(values, np.float32)
        if not self._rows:
            return [[] for _ in range(len(q))]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise UsageError(f"unit-vectors index: queries must be (n, {self.dim}), got {q.shape}")
        sims = q @ self.matrix().T
        out = []
        for row in sims:
            near = np.flatnonzero(1.0 - row <= t)
            order = near[np.argsort(-row[near], kind="stable")]
            out.append([self._hit(int(i), 1.0 - float(row[i]), float(row[i])) for i in order])
        return out

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {"vectors": self.matrix().astype(np.float32)}

    def _restore(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        m = np.asarray(arrays["vectors"], np.float32)
        if len(self._ids) == 0:
            if m.size:
                raise CorruptIndexError("unit-vectors index: vectors without entries")
            return
        if m.ndim != 2 or m.shape[0] != len(self._ids) or not np.all(np.isfinite(m)):
            raise CorruptIndexError(f"unit-vectors index: {m.shape} vectors for {len(self._ids)} entries")
        self._rows = [_unit(r, m.shape[1], "a stored vector") for r in m]

    @classmethod
    def examples(cls) -> list[IndexExample[np.ndarray]]:
        a, b, c = np.eye(3, 128, dtype=np.float32)  # orthogonal: every distance is known exactly
        near_a = a + 0.5 * b  # 1 - cosine: 0.106 to a, 0.553 to b, 1.0 to c
        entries = [("a", a, {"human": "h1"}), ("b", b, {"human": "h2"}), ("c", c, {"human": "h3"})]
        return [
            IndexExample("nearest-first", entries, near_a, ("a", "b"), threshold=0.9),
            IndexExample("tight-threshold", entries, near_a, ("a",), threshold=0.2),
            IndexExample("stranger", entries, -(a + b + c), (), threshold=0.5),
        ]
