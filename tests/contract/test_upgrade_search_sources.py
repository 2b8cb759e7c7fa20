"""search_0003 (moments of videos and of camera events) upgrades a filled index without losing a row, and
search_0004 gives them their stored word vectors on PostgreSQL.

A data dir with projected moments is taken back to search_0002 (the schema before events), then
upgraded again as a start of VidLens does: every moment keeps its id and every value, and becomes a
``video`` moment; the word index, keyed by moment id on SQLite and the generated ``terms_tsv`` column
on PostgreSQL (made for every existing moment by the upgrade), still finds it. The camera event stored before the
upgrade is not a moment until the rebuild (``vidlens reindex --projection event_moments``, or a plain
``vidlens reindex``) writes it, leaving the moments of videos as they were. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from tests.api.conftest import make_env
from tests.api.test_search import DOCS, search, texts
from vidlens.store.db import MIGRATIONS, Store

NEW = ("source", "event_id", "camera", "at", "event")


def _alembic(store: Store, action: str, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(store.migration_dirs()))
    with store.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["metadata"] = store.metadata
        getattr(command, action)(cfg, target)
        conn.commit()


def _moments(store: Store) -> list[dict[str, Any]]:
    """Every moment's stored values, without PostgreSQL's word vector (search_0004: derived from terms)."""
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.text("SELECT * FROM search_moments ORDER BY id")).mappings()]
    for r in rows:
        r.pop("terms_tsv", None)
    return rows


def _word_vectors(store: Store) -> int:
    """How many moments have their word vector on PostgreSQL (search_0004); -1 where there is no such column."""
    if store.dialect != "postgresql":
        return -1
    with store.engine.connect() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM information_schema.columns WHERE table_name = 'search_moments' "
                                "AND column_name = 'terms_tsv'").first() is None:
            return -1
        return conn.exec_driver_sql("SELECT count(*) FROM search_moments WHERE terms_tsv != ''::tsvector").scalar_one()


def test_moments_survive_the_upgrade_to_sources(tmp_path: Path, database_url: str, samples: Path) -> None:
    gen = make_env(tmp_path, database_url=database_url)
    env = next(gen)
    try:
        vid = env.upload(samples / "blender_caminandes_10s.mp4", name="harbour.mp4")["video_id"]
        env.store_results(vid, DOCS)
        env.platform.service("watch_events").add(
            {"id": "e1", "camera": "lobby", "type": "object", "label": "person", "track_id": 1, "start": 1.0})
        search(env, "harbour", rankers="words")  # the word index exists before the downgrade
        store = env.platform.store
        now = _moments(store)
        videos_now = [m for m in now if m["source"] == "video"]
        assert len(videos_now) >= 8 and [m["source"] for m in now].count("event") == 1

        pg = store.dialect == "postgresql"
        assert _word_vectors(store) == (sum(bool(m["terms"]) for m in now) if pg else -1)  # search_0004

        _alembic(store, "downgrade", "search_0002")
        assert _word_vectors(store) == -1
        before = _moments(store)  # as a search_0002 install has them: no event moments, no source columns
        assert before and not set(NEW) & set(before[0])
        assert before == [{k: v for k, v in m.items() if k not in NEW} for m in videos_now]

        store._migrated = False  # noqa: SLF001 - the next start upgrades
        store.migrate()
        after = _moments(store)
        assert [{k: v for k, v in m.items() if k not in NEW} for m in after] == before  # every id and value
        assert {m["source"] for m in after} == {"video"} and all(m[c] is None for m in after for c in NEW[1:])
        assert _word_vectors(store) == (sum(bool(m["terms"]) for m in after) if pg else -1)  # made for them all
        assert "Welcome to the harbour tour" in texts(search(env, "harbour", rankers="words"))

        assert search(env, "lobby", rankers="words")["hits"] == []  # the old event is not indexed yet
        counts = env.platform.service("documents").reindex(projections=["event_moments"])
        assert counts.to_dict() == {"documents": 0, "projected": 0, "skipped": 0, "records": {"watch_event": 1}}
        [hit] = search(env, "lobby", rankers="words")["hits"]
        assert (hit["source"], hit["event"]["id"], hit["start"]) == ("event", "e1", 1.0)
        assert [m for m in _moments(store) if m["source"] == "video"] == after  # videos' moments untouched
    finally:
        next(gen, None)
