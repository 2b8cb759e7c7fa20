"""search_0005 stores Find's pgvector text vectors as ``halfvec`` under a wider HNSW graph, and back.

On PostgreSQL with pgvector, a data dir whose vector table the service made is taken back to search_0004
(``vector(384)`` under pgvector's default graph, as earlier versions made it), then upgraded again as a
start of VidLens does: the column is ``halfvec(384)`` again, every vector is kept, the index is the
``halfvec_cosine_ops`` graph with m 32 / ef_construction 128, the planner takes it for the meaning ranker's
own query, and meaning finds the same moment. On SQLite and on PostgreSQL without pgvector the revision
changes nothing, and meaning is searched through the HNSW file before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from tests.api.conftest import make_env
from tests.api.test_search import DOCS, search, texts
from tests.contract.test_upgrade_search_sources import _alembic
from vidlens.search import backends

QUESTION = "what time does the ship sail"
ANSWER = "the ferry leaves at noon"


@contextmanager
def _found(tmp_path: Path, samples: Path, database_url: str) -> Iterator[Any]:
    """A data dir on ``database_url`` with one analysed video's moments."""
    gen = make_env(tmp_path, database_url=database_url)
    env = next(gen)
    try:
        vid = env.upload(samples / "blender_caminandes_10s.mp4", name="harbour.mp4")["video_id"]
        env.store_results(vid, DOCS)
        yield env
    finally:
        next(gen, None)


def _layout(engine: sa.Engine) -> tuple[str, str, int]:
    """The vector column's type, its HNSW index's definition and the number of vectors."""
    with engine.connect() as conn:
        kind = conn.exec_driver_sql(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            f"WHERE attrelid = '{backends.PGVEC}'::regclass AND attname = 'embedding'").scalar_one()
        index = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = %(i)s",
                                     {"i": backends.PGVEC_HNSW}).scalar_one()
        count = conn.exec_driver_sql(f"SELECT count(*) FROM {backends.PGVEC}").scalar_one()
    return kind, index, count


def _plan(engine: sa.Engine, model: str) -> str:
    """EXPLAIN of the meaning ranker's query. Sequential scans and sorts are priced out, as a large table
    prices them: on a table this small the planner would rightly read every row instead."""
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        rows = conn.execute(sa.text("EXPLAIN " + backends.PGVEC_NEAREST),
                            {"q": backends.vector_literal(np.ones(384, np.float32) / np.sqrt(384)),
                             "model": model, "k": 10}).scalars()
        return "\n".join(rows)


@pytest.mark.postgres
def test_halfvec_upgrade_and_back_on_pgvector(tmp_path: Path, samples: Path, pgvector_url: str) -> None:
    with _found(tmp_path, samples, pgvector_url) as env:
        _upgrade_and_back(env)


def _upgrade_and_back(env: Any) -> None:
    assert texts(search(env, QUESTION, rankers="meaning"))[0] == ANSWER  # the service makes the new layout
    store = env.platform.store
    model = env.platform.service("search").embedder.name
    kind, index, count = _layout(store.engine)
    assert kind == "halfvec(384)" and "halfvec_cosine_ops" in index and "m='32'" in index and count >= 5

    _alembic(store, "downgrade", "search_0004")
    old_kind, old_index, old_count = _layout(store.engine)
    assert old_kind == "vector(384)" and "vector_cosine_ops" in old_index and "m=" not in old_index
    assert old_count == count

    store._migrated = False  # noqa: SLF001 - the next start upgrades
    store.migrate()
    kind, index, count = _layout(store.engine)
    assert kind == "halfvec(384)" and count == old_count
    assert "halfvec_cosine_ops" in index and "m='32'" in index and "ef_construction='128'" in index
    assert f"Index Scan using {backends.PGVEC_HNSW}" in _plan(store.engine, model)

    from vidlens.search.service import Search

    svc = env.platform.service("search")
    fresh = Search(svc.store, svc.blobs, env.platform.data_dir, svc.settings)  # a restart of the service
    body = fresh.search(QUESTION, rankers=["meaning"])
    assert body["hits"][0]["evidence"][0]["text"] == ANSWER and fresh._text_index is None  # by pgvector


def test_halfvec_revision_changes_nothing_without_pgvector(tmp_path: Path, samples: Path, database_url: str) -> None:
    with _found(tmp_path, samples, database_url) as env:
        _nothing_changes(env)


def _nothing_changes(env: Any) -> None:
    assert texts(search(env, QUESTION, rankers="meaning"))[0] == ANSWER
    store = env.platform.store
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    if backends.PGVEC in tables:  # the PostgreSQL under test has pgvector: the test above covers it
        assert store.dialect == "postgresql"
        return
    _alembic(store, "downgrade", "search_0004")
    store._migrated = False  # noqa: SLF001 - the next start upgrades
    store.migrate()
    with store.engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == tables
        assert "search_0005" in set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    assert texts(search(env, QUESTION, rankers="meaning"))[0] == ANSWER  # through the HNSW file
