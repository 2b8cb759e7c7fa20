"""Fixtures for the vision analyzers: a one-video runner (the media corpus fixture is shared)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vidlens.analyze.base import AnalysisContext, Analyzer
from vidlens.blobs.local import LocalBlobStore
from vidlens.media.decode import FrameFanout
from vidlens.media.probe import probe


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
