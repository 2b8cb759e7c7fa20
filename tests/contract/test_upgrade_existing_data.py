"""A data dir written by an earlier VidLens upgrades without losing a row.

``data/datadir-0.1.0.sql`` is the SQL dump of the database of a VidLens 0.1.0 install, made when
every capability's Alembic revisions still lived in one folder: an ingested and analysed clip
(video, job, result, shots), two govern audit entries, a user with an API key, a review item and a
registered protect work. Revisions are found by id, not by path, so moving them into each
capability's folder must leave such a database as it is, and at the newest heads. Later revisions
that change rows are listed in the test with what they change; the queued reindex job then builds
the stored document and its projections from the old results, the ``shots`` rows exactly as they were.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vidlens.api.auth import Accounts
from vidlens.govern import audit
from vidlens.platform import Platform
from vidlens.settings import load_settings

DUMP = Path(__file__).with_name("data") / "datadir-0.1.0.sql"
API_KEY = "vl_mAuxyISk17-BUCqqwiSwueoO4g4usJ2MELar5Fo73PA"  # the dumped user's key (its hash is in api_keys)
VIDEO_ID = "26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47"


def _contents(db: Path) -> dict[str, list[dict[str, Any]]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
        return {t: sorted((dict(r) for r in conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}


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
        after = _contents(data / "vidlens.db")
        expected = dict(before)
        expected["videos"] = [v | {"title": None} for v in before["videos"]]  # 0002_video_titles: NULL = filename
        del expected["search_sources"]  # api_0002: search entries are a projection of the stored document
        del expected["search_entries"]  # api_0003: Find's moments (search_0001) replace them
        expected.update(search_moments=[], search_text_vectors=[])  # filled by the reindex job below
        expected.update(documents=[], people=[], tracks=[])  # understand_0001: filled by the reindex job below
        expected.update(identities=[], identity_faces=[])  # understand_0002: its projection, by the same job
        expected.update(humans_humans=[], humans_samples=[], humans_ledger=[])  # humans_0001: new, empty
        expected.update(govern_watchlist=[])  # govern_0003: new, empty
        expected.update(claims_policies=[], claims_claims=[])  # claims_0001: new, empty
        expected.update(search_events=[])  # search_0002: new, empty
        expected.update(watch_events=[], watch_outbox=[])  # watch_0001: new, empty
        reindex = [j for j in after["jobs"] if j["kind"] == "reindex"]
        assert [j["status"] for j in reindex] == ["queued"] and after["jobs"][0] == before["jobs"][0]
        expected["jobs"] = before["jobs"] + reindex
        # govern_0002: the audit chain is re-hashed in the ledger form (same seq, times, actions,
        # subjects, details), api_audit's rows are appended to it, and the conversion is its last entry.
        del expected["api_audit"]
        kept = ("seq", "at", "action", "subject", "detail")
        audit_after = after.pop("govern_audit")
        old_audit = expected.pop("govern_audit")
        assert [{k: r[k] for k in kept} for r in audit_after[:len(old_audit)]] == \
            [{k: r[k] for k in kept} for r in old_audit]
        assert len(audit_after) == len(old_audit) + len(before["api_audit"]) + 1
        assert audit_after[-1]["action"] == "audit.migrate"
        assert audit.verify(platform.store).ok
        assert after == expected
        assert platform.catalog.get_video(VIDEO_ID[:12]).id == VIDEO_ID
        assert Accounts(platform.store).resolve_key(API_KEY).name == "ada"
        assert platform.catalog.summary(VIDEO_ID)["status"] == "queued"  # the dump's analyze job
        platform.jobs.cancel(before["jobs"][0]["id"])
        assert platform.catalog.summary(VIDEO_ID)["status"] == "none"  # no stored document yet

        from vidlens.jobs.worker import Worker

        assert Worker(platform).run(threading.Event(), idle_exit=True) == 1
        job = platform.jobs.get(reindex[0]["id"])
        assert (job.status, job.result) == ("succeeded", {"documents": 1, "projected": 0, "skipped": 0})
        assert platform.catalog.summary(VIDEO_ID)["status"] == "analysed"
        doc = platform.catalog.document(VIDEO_ID)
        assert doc is not None and doc["analyzers"] == ["shots"] and len(doc["shots"]) == 7
        rebuilt = _contents(data / "vidlens.db")
        assert rebuilt["shots"] == before["shots"]  # the projection gives back the 0.1.0 rows, value for value
    finally:
        platform.close()
        fresh.close()
