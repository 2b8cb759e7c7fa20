"""The Ray runner on a local Ray instance (two actors): the job table stays the truth."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vidlens.jobs.queue import QUEUED, RUNNING, SUCCEEDED
from vidlens.jobs.ray_runner import RayRunner
from vidlens.jobs.worker import Worker, wait_for
from vidlens.platform import Platform

FAST_JOBS = {"lease_s": 3.0, "heartbeat_s": 0.3, "poll_s": 0.1, "backoff_s": 0.1}


@contextmanager
def serving(platform: Platform, imports: list[str] | None = None, actors: int = 2) -> Iterator[None]:
    stop = threading.Event()
    runner = RayRunner(platform.settings, platform.jobs, import_modules=imports)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            runner.serve(stop, processes=actors)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test, not lost in the thread
            failed.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(timeout=60)
    assert not failed, failed


def _wait(pred: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _starts(log: Path) -> list[tuple[int, int]]:
    """(job id, pid) of every step that started, in order."""
    if not log.exists():
        return []
    return [(int(j), int(p)) for w, j, p in (ln.split() for ln in log.read_text().splitlines()) if w == "start"]


def _local_and_ray(local: Platform, ray_side: Platform, clip: Path, analyzers: list[str]) -> dict:
    """Analyse ``clip`` with a local worker and with the Ray runner; the stored documents must be equal.
    Returns the Ray job's result."""
    docs = []
    result: dict = {}
    for plat in (local, ray_side):
        video = plat.catalog.ingest_file(clip, analyze=False).video
        job = plat.catalog.queue_analysis(video.id, analyzers)
        if plat is local:
            Worker(plat).run(threading.Event(), idle_exit=True)
        else:
            with serving(plat):
                done = wait_for(plat, job.id, timeout=300)
            assert done.status == SUCCEEDED, done.error_message
            assert done.lease_owner is None and done.completions == 1
            result = done.result
        assert plat.jobs.get(job.id).status == SUCCEEDED
        stored = plat.service("documents").get(video.id)
        docs.append((stored.status, stored.analyzers, stored.document))
    assert docs[0][2]["shots"], "the clip has shots: a document of nothing would compare equal too"
    assert docs[0] == docs[1]
    return result


def test_same_document_as_the_local_runner(ray_cluster: Path, platform_factory, tmp_path: Path,
                                           samples: Path) -> None:
    local = platform_factory(None)
    ray_side = Platform.from_settings(local.settings.model_copy(update={"data_dir": tmp_path / "ray-data"}))
    try:
        result = _local_and_ray(local, ray_side, samples / "blender_caminandes_10s.mp4", ["shots", "technical"])
    finally:
        ray_side.close()
    assert "split" not in result  # a short video is one job on one actor


def test_a_long_video_split_across_both_actors_gives_the_local_document(ray_cluster: Path, platform_factory,
                                                                        tmp_path: Path, shared_media: Path) -> None:
    local = platform_factory(None)
    ray_side = Platform.from_settings(local.settings.model_copy(
        update={"data_dir": tmp_path / "ray-data", "ray_split_s": 8.0}))  # 24 s: three ranges
    try:
        result = _local_and_ray(local, ray_side, shared_media / "shots" / "pyscenedetect_testvideo.mp4",
                                ["shots", "technical"])
    finally:
        ray_side.close()
    assert result["split"] == {"ranges": 3, "analyzers": ["shots"], "whole": ["technical"]}


def test_actor_killed_mid_step_loses_nothing_and_stores_once(ray_cluster: Path, platform_factory,
                                                             tmp_path: Path) -> None:
    plat = platform_factory(None, jobs=FAST_JOBS)
    log = tmp_path / "steps.log"
    job = plat.jobs.enqueue("scaletest.slow", {"log": str(log), "seconds": 2}, key="kill-me")
    with serving(plat, ["scalesteps"]):
        _wait(lambda: plat.jobs.get(job.id).progress > 0.1)
        (_, pid), = _starts(log)
        assert pid != os.getpid()  # it runs in an actor process, not here
        os.kill(pid, signal.SIGKILL)
        done = wait_for(plat, job.id, timeout=120)
    lines = log.read_text().split("\n")
    assert done.status == SUCCEEDED, (done.error_code, done.error_message)
    assert sum(ln.startswith("start") for ln in lines) == 2 and sum(ln.startswith("done") for ln in lines) == 1
    assert done.attempts == 2 and done.completions == 1
    assert done.error_code == "job_failed" and "died" in (done.error_message or "")  # the retry's cause
    assert done.result["pid"] != pid


def test_a_job_in_parts_runs_them_on_both_actors_and_merges_in_order(ray_cluster: Path, platform_factory,
                                                                    tmp_path: Path) -> None:
    plat = platform_factory(None, jobs=FAST_JOBS)
    log = tmp_path / "parts.log"
    job = plat.jobs.enqueue("scaletest.parts", {"log": str(log), "parts": 5, "seconds": 0.5})
    with serving(plat, ["scalesteps"]):
        done = wait_for(plat, job.id, timeout=120)
    assert done.status == SUCCEEDED, done.error_message
    assert done.result["parts"] == [0, 1, 2, 3, 4] and len(done.result["pids"]) == 2  # both actors took parts
    assert done.completions == 1 and done.attempts == 1 and "whole" not in done.result


def test_an_actor_killed_mid_part_fails_the_attempt_and_the_retry_completes_once(ray_cluster: Path, platform_factory,
                                                                                 tmp_path: Path) -> None:
    plat = platform_factory(None, jobs=FAST_JOBS)
    log = tmp_path / "parts.log"
    job = plat.jobs.enqueue("scaletest.parts", {"log": str(log), "parts": 3, "seconds": 0.3, "kill": 1})
    with serving(plat, ["scalesteps"]):
        done = wait_for(plat, job.id, timeout=120)
    assert done.status == SUCCEEDED, done.error_message
    assert done.attempts == 2 and done.completions == 1 and done.result["parts"] == [0, 1, 2]
    assert done.error_code == "job_failed" and "died" in (done.error_message or "")
    assert [ln.split()[3] for ln in log.read_text().splitlines() if ln.startswith("part 1 ")] == ["1", "2"]


def test_back_pressure_claims_no_more_than_its_actors(ray_cluster: Path, platform_factory, tmp_path: Path) -> None:
    plat = platform_factory(None, jobs=FAST_JOBS)
    log = tmp_path / "steps.log"
    ids = [plat.jobs.enqueue("scaletest.slow", {"log": str(log), "seconds": 0.6}, key=f"bp-{i}").id
           for i in range(5)]
    seen_running: list[int] = []
    with serving(plat, ["scalesteps"]):
        while not all(plat.jobs.get(i).status == SUCCEEDED for i in ids):
            statuses = [plat.jobs.get(i).status for i in ids]
            assert set(statuses) <= {QUEUED, RUNNING, SUCCEEDED}, statuses
            seen_running.append(statuses.count(RUNNING))
            time.sleep(0.05)
    assert max(seen_running) == 2  # both actors busy at once, never a third job claimed
    assert len({pid for _, pid in _starts(log)}) == 2
    assert all(plat.jobs.get(i).completions == 1 for i in ids)


def test_ray_runner_needs_ray_installed_or_says_so(monkeypatch: pytest.MonkeyPatch, platform) -> None:
    import builtins

    from vidlens.errors import ConfigError
    from vidlens.jobs import ray_runner

    real = builtins.__import__

    def no_ray(name: str, *a, **k):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ConfigError, match=r"vidlens\[scale\]"):
        ray_runner.connect(platform.settings, 1)


def test_registration_and_matching_run_as_ray_jobs(ray_cluster: Path, platform_factory, samples: Path,
                                                   tmp_path: Path) -> None:
    from vidlens.media.ffmpeg import run_ffmpeg

    plat = platform_factory(None, jobs=FAST_JOBS)
    reference = samples / "blender_caminandes_10s.mp4"
    copy = tmp_path / "copy.mp4"  # seconds 3-8, smaller
    run_ffmpeg(["-ss", "3", "-i", str(reference), "-t", "5", "-vf", "scale=320:-2", "-c:v", "libx264", "-preset",
                "veryfast", str(copy)])
    payload = {"path": str(reference), "owner": "Blender Foundation", "title": "Caminandes"}
    with serving(plat):
        registered = wait_for(plat, plat.jobs.enqueue("protect.register", payload).id, timeout=240)
        assert registered.status == SUCCEEDED, registered.error_message
        again = wait_for(plat, plat.jobs.enqueue("protect.register", payload).id, timeout=240)
        other = wait_for(plat, plat.jobs.enqueue("protect.register", {**payload, "owner": "someone else"}).id,
                         timeout=240)
        matched = wait_for(plat, plat.jobs.enqueue("protect.match", {"path": str(copy)}).id, timeout=240)
    work_id = registered.result["work"]["work_id"]
    assert again.status == SUCCEEDED and again.result["work"]["work_id"] == work_id  # a retry finds its own work
    assert other.status == "failed" and other.error_code == "conflict"
    assert matched.status == SUCCEEDED, matched.error_message
    found = matched.result["matches"]
    assert found and {m["work_id"] for m in found} == {work_id}
    start = min(m["reference_start_s"] for m in found)
    assert 2.0 <= start <= 4.0  # the copy starts 3 s into the work
