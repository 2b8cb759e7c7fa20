"""Fixtures for the speech, technical-cue, tags and document tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vidlens.analyze.base import AnalysisContext, Analyzer
from vidlens.blobs.local import LocalBlobStore
from vidlens.media.decode import iter_frames
from vidlens.media.probe import probe


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir per test session, so the joined Whisper base is built once."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def cache_env(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("VIDLENS_CACHE_DIR", str(model_cache))
    yield model_cache


def run_analyzer(analyzer: Analyzer, path: Path, blobs_dir: Path | None = None) -> dict[str, Any]:
    """Probe ``path`` and run one analyzer over it the way the runner does (single consumer)."""
    video = probe(path, require_video=False)
    ctx = AnalysisContext(video=video, blobs=LocalBlobStore(blobs_dir) if blobs_dir else None)
    sampling = analyzer.sampling_for(video)
    frames = iter(()) if sampling is None else iter_frames(video, sampling)
    return analyzer.analyze(ctx, frames)
