"""A data dir written by an earlier VidLens upgrades without losing a row.

``data/datadir-0.1.0.sql`` is the SQL dump of the database of a VidLens 0.1.0 install, made when
every capability's Alembic revisions still lived in one folder: an ingested and analysed clip
(video, job, result, shots), two govern audit entries, a user with an API key, a review item and a
registered protect work. Revisions are found by id, not by path, so moving them into each
capability's folder must leave such a database as it is, and at the newest heads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vidlens.api.auth import Accounts
from vidlens.platform import Platform
from vidlens.settings import load_settings

DUMP = Path(__file__).with_name("data") / "datadir-0.1.0.sql"
API_KEY = "vl_mAuxyISk17-BUCqqwiSwueoO4g4usJ2MELar5Fo73PA"  # the dumped user's key (its hash is in api_keys)
VIDEO_ID = "26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47"


def _contents(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def _heads(platform: Platform) -> set[str]:
    with platform.store.read() as conn:
        return {r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}


def test_a_0_1_0_data_dir_upgrades_without_loss(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "vidlens.db") as conn:
        conn.executescript(DUMP.read_text())
    before = _contents(data / "vidlens.db")
    assert sum(len(rows) for rows in before.values()) >= 15  # the dump really holds data

    fresh = Platform.from_settings(load_settings(data_dir=tmp_path / "fresh"))
    platform = Platform.from_settings(load_settings(data_dir=data))
    try:
        assert _heads(platform) == _heads(fresh)  # the newest revision of every capability
        # A later revision that rewrites rows (not only adds) states here what it changes.
        assert _contents(data / "vidlens.db") == before
        assert platform.library.get_video(VIDEO_ID[:12]).id == VIDEO_ID
        assert len(platform.library.shots(VIDEO_ID)) == 7
        assert Accounts(platform.store).resolve_key(API_KEY).name == "ada"
    finally:
        platform.close()
        fresh.close()
