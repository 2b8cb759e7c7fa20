"""``unit-vectors``: the one index of unit vectors by cosine similarity, exact when small and HNSW when large.

Search (text and keyframe embeddings, top ``k``) and the digital-human registry (face and voice
embeddings, every entry within a calibrated threshold: ``query_many``, always exact) both use it.

The Index plugin Find's text, keyframe and face vectors are searched with (``measure`` 1 - cosine).
Below ``exact_below`` entries a query is one matrix product, which is exact and, at that size,
faster than a graph. Above it an HNSW graph (``usearch``, float16) proposes neighbours; its recall@10
against the exact answer is measured by bench/bench_search.py. The graph is saved inside the index
file as its own serialised bytes, so loading a million vectors does not rebuild it. ``build_graph``
builds it in chunks, says how far it got, and can save as it goes: a file saved midway holds the part
of the graph built so far, and the next build goes on from there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from vidlens.errors import UsageError
from vidlens.index import CorruptIndexError, Hit, Index, IndexExample
from vidlens.plugins import PluginManifest


def _unit(v: Any, dim: int | None) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float32)
    except (TypeError, ValueError):
        raise UsageError(f"a vector must be numbers, got {type(v).__name__}") from None
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise UsageError(f"a vector must be a finite 1-d array, got shape {a.shape}")
    if dim is not None and a.size != dim:
        raise UsageError(f"vector has {a.size} dimensions; this index holds {dim}")
    n = float(np.linalg.norm(a))
    if n < 1e-12:
        raise UsageError("a zero vector has no direction")
    return a / n


class VectorIndex(Index[np.ndarray]):
    name = "unit-vectors"
    version = 1
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name, str(version), "index", "Unit vectors by cosine similarity: exact below a size, HNSW (usearch) above.")
    measure = "1 - cosine"
    default_threshold = 0.25

    def __init__(self, *, checkpoint: str = "", exact_below: int = 20000) -> None:
        super().__init__(checkpoint=checkpoint)
        self.exact_below = exact_below
        self._dim: int | None = None
        self._rows: list[np.ndarray] = []  # (n, d) float16 blocks added since the matrix was last made
        self._matrix = np.zeros((0, 0), np.float16)
        self._graph: Any = None  # usearch.index.Index over positions, built on demand
        self._graph_size = 0
        self._saving_part = False  # a save during build_graph keeps the graph as far as it is built
        self._lock = threading.Lock()

    # -- entries ----------------------------------------------------------------
    def _add(self, position: int, value: np.ndarray) -> None:
        v = _unit(value, self._dim)
        self._dim = v.size
        self._rows.append(v.astype(np.float16)[None, :])

    def add_many(self, ids: list[str], vectors: np.ndarray) -> None:
        """Add entries in one step, normalised together: loading a million stored vectors one ``add`` at a
        time costs more than building their graph. Refused whole (nothing added) if any id or row is."""
        m = np.asarray(vectors, np.float32)
        if m.ndim != 2 or len(m) != len(ids) or (self._dim is not None and m.shape[1] != self._dim):
            raise UsageError(f"{self.name}: {len(ids)} ids need a ({len(ids)}, {self._dim or 'd'}) matrix, "
                             f"got shape {m.shape}")
        if not len(ids):
            return
        fresh = set(ids)
        bad = [i for i in ids if not isinstance(i, str) or not i or "\x00" in i]
        if bad or len(fresh) != len(ids) or not fresh.isdisjoint(self._positions):
            raise UsageError(f"{self.name} index: ids must be new, distinct, non-empty strings without NUL")
        norms = np.linalg.norm(m, axis=1)
        if not np.all(np.isfinite(m)) or np.any(norms < 1e-12):
            raise UsageError(f"{self.name}: vectors must be finite and non-zero")
        self._dim = m.shape[1]
        block = (m / norms[:, None]).astype(np.float16)
        with self._lock:
            self._rows.append(block)
        start = len(self._ids)
        self._positions.update((i, start + n) for n, i in enumerate(ids))
        self._ids.extend(ids)
        self._payloads.extend({} for _ in ids)

    def _vectors(self) -> np.ndarray:
        with self._lock:
            if self._rows:
                new = np.concatenate(self._rows)
                self._matrix = new if self._matrix.size == 0 else np.concatenate([self._matrix, new])
                self._rows = []
            return self._matrix

    def _hnsw(self, m: np.ndarray, upto: int | None = None) -> Any:
        """The graph, with every vector (or the first ``upto``) added."""
        from usearch.index import Index as Usearch

        end = len(m) if upto is None else min(upto, len(m))
        with self._lock:
            if self._graph is None:
                self._graph = Usearch(ndim=m.shape[1], metric="cos", dtype="f16", connectivity=16,
                                      expansion_add=128, expansion_search=96)
            if self._graph_size < end:
                self._graph.add(np.arange(self._graph_size, end, dtype=np.uint64), m[self._graph_size:end])
                self._graph_size = end
            return self._graph

    def build_graph(self, progress: Callable[[int, int], None] | None = None,
                    save: Callable[[], None] | None = None, *, chunk: int = 10_000, save_every: int = 250_000) -> None:
        """Add every vector that is not in the HNSW graph yet (none below ``exact_below``), ``chunk`` at a
        time: ``progress(in the graph, total)`` after each chunk, and ``save()`` after every ``save_every``
        vectors, so a build that is stopped goes on from its last save."""
        m = self._vectors()
        if len(m) < max(1, self.exact_below):
            return
        unsaved = 0
        while self._graph_size < len(m):
            before = self._graph_size
            self._hnsw(m, upto=before + chunk)
            unsaved += self._graph_size - before
            if progress is not None:
                progress(self._graph_size, len(m))
            if save is not None and unsaved >= save_every and self._graph_size < len(m):
                self._saving_part = True
                try:
                    save()
                finally:
                    self._saving_part = False
                unsaved = 0

    # -- queries ----------------------------------------------------------------
    def query(self, value: np.ndarray, threshold: float | None = None, k: int = 100,
              exact: bool = False) -> list[Hit]:
        limit = self.default_threshold if threshold is None else threshold
        q = _unit(value, self._dim)
        m = self._vectors()
        if len(m) == 0:
            return []
        k = max(1, min(int(k), len(m)))
        if exact or len(m) < self.exact_below:
            sims = (m @ q.astype(np.float16)).astype(np.float32)
            top = np.argpartition(-sims, k - 1)[:k] if k < len(m) else np.arange(len(m))
            pairs = [(int(i), float(sims[i])) for i in top]
        else:
            found = self._hnsw(m).search(q.astype(np.float16), k)
            pairs = [(int(i), 1.0 - float(d)) for i, d in zip(found.keys, found.distances, strict=True)]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return [self._hit(i, 1.0 - s, s) for i, s in pairs if 1.0 - s <= limit]

    def query_many(self, values: np.ndarray, threshold: float | None = None) -> list[list[Hit]]:
        """Every entry within ``threshold`` of each row of ``values``, best first, by an exact scan.

        Exact on purpose: a false-accept rate calibrated on exact scores must not move with a graph."""
        limit = self.default_threshold if threshold is None else float(threshold)
        q = np.asarray(values, np.float32)
        m = self._vectors()
        if q.ndim != 2 or q.shape[0] == 0:
            raise UsageError(f"{self.name}: queries must be a non-empty (n, d) matrix, got shape {q.shape}")
        if len(m) == 0:
            return [[] for _ in range(len(q))]
        q = np.stack([_unit(row, self._dim) for row in q])
        sims = q @ m.astype(np.float32).T
        out = []
        for row in sims:
            near = np.flatnonzero(1.0 - row <= limit)
            order = near[np.argsort(-row[near], kind="stable")]
            out.append([self._hit(int(i), 1.0 - float(row[i]), float(row[i])) for i in order])
        return out

    # -- persistence --------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        m = self._vectors()
        arrays = {"vectors": m}
        if len(m) >= self.exact_below and len(m):
            graph = self._graph if self._saving_part else self._hnsw(m)
            if graph is not None:
                arrays["graph"] = np.frombuffer(bytes(graph.save()), np.uint8)
        return {"dim": self._dim, "exact_below": self.exact_below}, arrays

    def _restore(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        m = arrays["vectors"]
        if len(m) != len(self._ids) or (len(m) and (m.ndim != 2 or m.dtype != np.float16)):
            raise CorruptIndexError(f"{self.name}: {len(m)} vectors for {len(self._ids)} entries")
        self.exact_below = int(meta.get("exact_below", self.exact_below))
        self._dim = int(meta["dim"]) if meta.get("dim") is not None else None
        self._matrix = m if len(m) else np.zeros((0, 0), np.float16)
        if "graph" in arrays:
            from usearch.index import Index as Usearch

            self._graph = Usearch.restore(bytes(arrays["graph"]))
            if self._graph is None or len(self._graph) > len(m):
                raise CorruptIndexError(f"{self.name}: its HNSW graph does not match its vectors")
            self._graph_size = len(self._graph)  # fewer: saved midway by build_graph, which goes on from there

    @classmethod
    def examples(cls) -> list[IndexExample[np.ndarray]]:
        rng = np.random.default_rng(7)
        base = rng.normal(size=(6, 32)).astype(np.float32)
        entries = [(f"v{i}", base[i], {"moment": i}) for i in range(6)]
        near = base[2] + 0.1 * rng.normal(size=32).astype(np.float32)
        far = -base.sum(axis=0)
        return [IndexExample("near-one", entries, near, ("v2",), threshold=0.2),
                IndexExample("nothing-near", entries, far, (), threshold=0.2)]
