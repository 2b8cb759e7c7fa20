"""The contract every analyzer inherits, driven by its own ``examples()``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from vidlens.analyze.base import AnalysisContext, Analyzer
from vidlens.blobs.local import LocalBlobStore
from vidlens.media.decode import run_consumers
from vidlens.media.probe import probe
from vidlens.plugins import PluginRegistry

ANALYZERS = [p for p in PluginRegistry.discover().of_kind("analyzer")]


@pytest.mark.parametrize("plugin", ANALYZERS, ids=[p.manifest.name for p in ANALYZERS])
class TestAnalyzerContract:
    def test_manifest_and_config(self, plugin) -> None:
        cls: type[Analyzer] = plugin.cls
        assert cls.manifest.kind == "analyzer" and cls.manifest.version and cls.manifest.summary
        with pytest.raises(ValidationError):
            cls.Config(definitely_not_an_option=1)
        a = cls()
        assert len(a.config_hash()) == 16
        assert cls.examples(), f"analyzer '{cls.manifest.name}' ships no examples()"

    def test_examples(self, plugin, tmp_path: Path) -> None:
        cls: type[Analyzer] = plugin.cls
        for ex in cls.examples():
            clip = ex.make(tmp_path)
            video = probe(clip, require_video=False)
            analyzer = cls.from_dict(ex.config)
            ctx = AnalysisContext(video=video, blobs=LocalBlobStore(tmp_path / "blobs"))
            sampling = analyzer.sampling_for(video)
            if sampling is None:
                doc = analyzer.analyze(ctx, iter(()))
            else:
                out = run_consumers(video, {"a": (sampling, lambda fr: analyzer.analyze(ctx, fr))})
                doc = out["a"]
                if isinstance(doc, BaseException):
                    raise doc
            json.dumps(doc)  # must be JSON-able as stored
            ex.check(doc)
