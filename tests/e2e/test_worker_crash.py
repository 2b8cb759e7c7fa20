"""A worker killed with SIGKILL mid-job loses nothing: the job is reclaimed after its lease and finishes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from vidlens.jobs.queue import SUCCEEDED

STEP_MODULE = '''
import os, time
from pathlib import Path
from vidlens.jobs.steps import step

@step("test.slow")
def slow(platform, ctx):
    log = Path(ctx.job.payload["log"])
    with log.open("a") as f:
        f.write(f"start {os.getpid()}\\n")
    n = int(ctx.job.payload["seconds"] * 10)
    for i in range(n):
        time.sleep(0.1)
        ctx.report((i + 1) / n, f"tick {i}")
    with log.open("a") as f:
        f.write(f"done {os.getpid()}\\n")
    return {"pid": os.getpid()}
'''


def _worker(tmp_path: Path, data: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(tmp_path), VIDLENS_JOBS__LEASE_S="2", VIDLENS_JOBS__HEARTBEAT_S="0.3",
               VIDLENS_JOBS__POLL_S="0.2", VIDLENS_DATA_DIR=str(data))
    return subprocess.Popen([sys.executable, "-m", "vidlens", "worker", "-n", "1", "--import", "slowsteps"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(pred, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_sigkill_mid_job_is_reclaimed_and_finishes_once(tmp_path: Path, platform_factory) -> None:
    (tmp_path / "slowsteps.py").write_text(STEP_MODULE)
    data = tmp_path / "data"
    log = tmp_path / "steps.log"
    plat = platform_factory(None)  # data dir: tmp_path / "data"
    job = plat.jobs.enqueue("test.slow", {"log": str(log), "seconds": 3}, key="crash-test")

    first = _worker(tmp_path, data)
    try:
        _wait(lambda: log.exists() and "start" in log.read_text())
        _wait(lambda: plat.jobs.get(job.id).progress > 0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    killed = plat.jobs.get(job.id)
    assert killed.status == "running" and killed.completions == 0

    second = _worker(tmp_path, data)
    try:
        _wait(lambda: plat.jobs.get(job.id).status == SUCCEEDED, timeout=90)
    finally:
        second.send_signal(signal.SIGINT)
        try:
            second.wait(timeout=15)
        except subprocess.TimeoutExpired:
            second.kill()
    done = plat.jobs.get(job.id)
    lines = log.read_text().split()
    assert lines.count("start") == 2 and lines.count("done") == 1
    assert done.completions == 1 and done.attempts == 2
    assert done.result["pid"] == second.pid
