"""Jobs run by `vidlens ingest`/`demo` (in the command's own process) hold their lease like any worker's.

Two jobs outlast the lease; the command runs them on two threads. Without heartbeats the thread
that finishes first would reclaim the other job once its lease ran out and run it a second time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from vidlens.cli.core import _process_queue
from vidlens.jobs.queue import SUCCEEDED
from vidlens.jobs.steps import step
from vidlens.platform import Platform
from vidlens.store.schema import jobs

_starts: list[int] = []
_lock = threading.Lock()


@step("test.cli-lease")
def _slow(platform: Platform, ctx) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with _lock:
        _starts.append(ctx.job.id)
    seconds = float(ctx.job.payload["seconds"])
    n = int(seconds * 20)
    for i in range(n):
        time.sleep(0.05)
        ctx.report((i + 1) / n, None)
    return {"slept": seconds}


def test_jobs_run_by_the_cli_survive_lease_expiry(platform_factory: Callable[..., Platform], tmp_path: Path) -> None:
    p = platform_factory(None, videos_at_once=2, jobs={"lease_s": 1.5, "heartbeat_s": 0.1, "backoff_s": 0.0})
    long = p.jobs.enqueue("test.cli-lease", {"seconds": 4.0}, key="cli-lease-long")
    short = p.jobs.enqueue("test.cli-lease", {"seconds": 2.0}, key="cli-lease-short")
    _starts.clear()
    _process_queue(p, show=False)
    assert sorted(_starts) == sorted([long.id, short.id]), "a job whose lease ran out was run twice"
    with p.store.read() as conn:
        rows = conn.execute(sa.select(jobs.c.status, jobs.c.attempts, jobs.c.completions)).all()
    assert [tuple(r) for r in rows] == [(SUCCEEDED, 1, 1)] * 2
