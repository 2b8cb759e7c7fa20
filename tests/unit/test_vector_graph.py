"""The HNSW graph of ``unit-vectors`` is built in chunks with progress, and a build stopped midway goes on
from the file it last saved (as Find's million-moment index does when a build is killed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.vectors import VectorIndex


class Stop(Exception):
    pass


def _index(vectors: np.ndarray) -> VectorIndex:
    index = VectorIndex(exact_below=100)
    for i, v in enumerate(vectors):
        index.add(f"k{i}", v)
    return index


def test_a_stopped_build_goes_on_from_its_last_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(1000, 32)).astype(np.float32)
    path = tmp_path / "text.npz"
    index = _index(vectors)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        assert total == 1000
        if done == 700:
            raise Stop  # killed after 700 vectors; the last save held 600

    with pytest.raises(Stop):
        index.build_graph(progress, save=lambda: index.save(path), chunk=100, save_every=300)
    assert seen == [100, 200, 300, 400, 500, 600, 700]

    resumed = VectorIndex.load(path)
    assert resumed._graph_size == 600 and len(resumed) == 1000  # every vector, the graph as far as saved
    seen.clear()
    resumed.build_graph(lambda done, _: seen.append(done), chunk=100)
    assert seen == [700, 800, 900, 1000]  # only what the saved graph lacked
    resumed.save(path)
    final = VectorIndex.load(path)
    assert final._graph_size == 1000
    for i in (0, 599, 600, 999):  # vectors added before and after the stop are found by the graph
        assert final.query(vectors[i], k=1)[0].id == f"k{i}"


def test_small_sets_build_no_graph(tmp_path: Path) -> None:
    index = _index(np.random.default_rng(4).normal(size=(50, 8)).astype(np.float32))
    index.build_graph(lambda *_: pytest.fail("no graph below exact_below"))
    index.save(tmp_path / "small.npz")
    assert VectorIndex.load(tmp_path / "small.npz")._graph is None


def test_many_vectors_are_added_in_one_step_or_refused_whole() -> None:
    from vidlens.errors import UsageError

    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    one, many = VectorIndex(exact_below=100), VectorIndex(exact_below=100)
    for i, v in enumerate(vectors[:200]):
        one.add(f"k{i}", v)
    many.add_many([f"k{i}" for i in range(200)], vectors[:200])
    assert many.ids == one.ids
    assert np.allclose(many._vectors().astype(np.float32), one._vectors().astype(np.float32), atol=1e-3)
    bad = vectors[200:210].copy()
    bad[3] = 0.0
    for ids, m in (([f"k{i}" for i in range(200, 210)], bad),  # a zero vector has no direction
                   (["k0"] + [f"n{i}" for i in range(9)], vectors[200:210]),  # an id already indexed
                   (["a", "a"], vectors[200:202]), (["a", "b"], vectors[200:202, :8]), (["a"], vectors[200:202])):
        with pytest.raises(UsageError):
            many.add_many(ids, m)
    assert len(many) == 200  # nothing of a refused batch went in
    many.add(f"k{200}", vectors[200])
    many.add_many([f"k{i}" for i in range(201, 300)], vectors[201:])
    many.build_graph()
    assert many._graph_size == 300 and many.query(vectors[250], k=1)[0].id == "k250"
