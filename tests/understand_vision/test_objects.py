from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.builtin.objects import ObjectsAnalyzer
from vidlens.errors import ConfigError, ModelError

from .conftest import analyze_file


@pytest.mark.parametrize("example", ObjectsAnalyzer.examples(), ids=lambda e: e.name)
def test_examples(example, tmp_path: Path) -> None:
    clip = example.make(tmp_path)
    doc = analyze_file(ObjectsAnalyzer.from_dict(example.config), clip)
    example.check(doc)


def test_classes_filter_keeps_only_asked_labels(tmp_path: Path) -> None:
    ex = ObjectsAnalyzer.examples()[0]
    doc = analyze_file(ObjectsAnalyzer.from_dict({"classes": ["bus"]}), ex.make(tmp_path))
    assert {o["label"] for o in doc["objects"]} == {"bus"}
    assert doc["counts"] == {"bus": 1}


def test_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="objects"):
        ObjectsAnalyzer.from_dict({"fps": 0})
    with pytest.raises(ConfigError):
        ObjectsAnalyzer.from_dict({"no_such_key": 1})


def test_own_model_missing_names_the_slot(tmp_path: Path) -> None:
    from vidlens.models.detector import load_detector

    with pytest.raises(ModelError, match="objects.detector"):
        load_detector(str(tmp_path / "mine.onnx"), None, 640, 1)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        load_detector(str(junk), None, 640, 1)


@pytest.mark.slow
def test_vtest_finds_many_pedestrians(shared_media: Path) -> None:
    doc = analyze_file(ObjectsAnalyzer.from_dict({"fps": 1}), shared_media / "surveillance" / "opencv_vtest.avi")
    assert doc["counts"].get("person", 0) >= 5
    assert doc["peak_concurrent"]["person"] >= 3
    assert all(o["end_s"] <= 80.5 for o in doc["objects"])


def test_registry_rejects_a_swapped_packaged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from vidlens.models import catalog
    from vidlens.models.registry import locate

    wrong = dataclasses.replace(catalog.COCO_NAMES, sha256="0" * 64)
    with pytest.raises(ModelError, match="objects.labels.*sha256 mismatch"):
        locate(wrong)
    missing = dataclasses.replace(catalog.COCO_NAMES, relpath="cfgs/nothing.names")
    with pytest.raises(ModelError, match="objects.labels.*missing"):
        locate(missing)
    absent = dataclasses.replace(catalog.COCO_NAMES, package="no_such_package_here")
    with pytest.raises(ModelError, match="not installed"):
        locate(absent)
