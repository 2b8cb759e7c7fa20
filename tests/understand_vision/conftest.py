"""Fixtures for the vision analyzers: the shared media corpus and a one-video runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vidlens.analyze.base import AnalysisContext, Analyzer
from vidlens.blobs.local import LocalBlobStore
from vidlens.media.decode import FrameFanout
from vidlens.media.probe import probe

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def media_dir() -> Path:
    root = Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))
    if not (root / "MANIFEST.md").is_file():
        pytest.skip(f"shared media corpus not found at {root} (set VIDLENS_MEDIA_DIR)")
    return root


def analyze_file(analyzer: Analyzer, path: Path, blobs: LocalBlobStore | None = None) -> dict[str, Any]:
    """Decode ``path`` once and run one analyzer on it, as the runner does."""
    video = probe(path)
    ctx = AnalysisContext(video=video, blobs=blobs)
    fan = FrameFanout(video)
    fan.subscribe(analyzer.name, analyzer.sampling_for(video), lambda frames: analyzer.analyze(ctx, frames))
    result = fan.run()[analyzer.name]
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.fixture
def run_analyzer(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    blobs = LocalBlobStore(tmp_path / "blobs")

    def run(analyzer: Analyzer, path: Path, *, with_blobs: bool = True) -> dict[str, Any]:
        return analyze_file(analyzer, path, blobs if with_blobs else None)

    run.blobs = blobs  # type: ignore[attr-defined]
    return run
