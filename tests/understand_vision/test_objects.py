from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.builtin.objects import ObjectsAnalyzer
from vidlens.analyze.document import build_document
from vidlens.errors import ConfigError, ModelError
from vidlens.media.probe import probe

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
        load_detector("nanodet", str(tmp_path / "mine.onnx"), None, 640, 1)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        load_detector("nanodet", str(junk), None, 640, 1)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _agrees_with_yolo(bgr: np.ndarray, min_people: int) -> None:
    """NanoDet's person boxes land where YOLOv4-tiny (decoded independently) puts its confident ones."""
    from vidlens.models.detector import DarknetYolo, NanoDet

    nano = NanoDet().detect(bgr, 0.3, 0.45)
    yolo = DarknetYolo().load().detect(bgr, 0.6, 0.45)
    people = nano.xyxy[nano.class_name == "person"]
    assert len(people) >= min_people, nano
    h, w = bgr.shape[:2]
    assert (people[:, [0, 1]] >= 0).all() and (people[:, 2] <= w).all() and (people[:, 3] <= h).all()
    assert ((people[:, 3] - people[:, 1]) > (people[:, 2] - people[:, 0])).all(), people  # upright walkers
    for box in yolo.xyxy[yolo.class_name == "person"]:
        assert max(_iou(box, p) for p in people) > 0.5, (box, people)


def test_nanodet_finds_the_people_and_the_bus_in_a_photo() -> None:
    from vidlens.analyze.builtin._vision_examples import sample_photo
    from vidlens.models.detector import NanoDet

    bgr = np.ascontiguousarray(sample_photo("bus")[:, :, ::-1])
    d = NanoDet().detect(bgr, 0.3, 0.45)
    assert "bus" in set(d.class_name), d
    _agrees_with_yolo(bgr, 3)


@pytest.mark.slow
def test_nanodet_finds_the_pedestrians_on_a_vtest_frame(shared_media: Path) -> None:
    import av

    with av.open(str(shared_media / "surveillance" / "opencv_vtest.avi")) as c:
        frame = next(f for i, f in enumerate(c.decode(video=0)) if i == 200)
    _agrees_with_yolo(frame.to_ndarray(format="bgr24"), 6)


def test_a_corrupt_packaged_nanodet_is_a_model_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from vidlens.models import catalog, detector
    from vidlens.models.registry import locate

    pkg = tmp_path / "broken_models"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    good = locate(catalog.NANODET).read_bytes()
    (pkg / catalog.NANODET.relpath).write_bytes(good[: len(good) // 2])  # a truncated download
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = dataclasses.replace(catalog.NANODET, package="broken_models")
    monkeypatch.setattr(catalog, "NANODET", broken)
    with pytest.raises(ModelError, match="objects.detector.*sha256 mismatch"):
        detector.load_detector("nanodet", None, None, 416, 1)
    monkeypatch.setattr(catalog, "NANODET", dataclasses.replace(broken, sha256=None))
    with pytest.raises(ModelError, match="objects.detector.*not a loadable ONNX model"):
        detector.load_detector("nanodet", None, None, 416, 1)


@pytest.mark.slow
def test_vtest_finds_many_pedestrians(shared_media: Path) -> None:
    doc = analyze_file(ObjectsAnalyzer.from_dict({"fps": 1}), shared_media / "surveillance" / "opencv_vtest.avi")
    assert doc["counts"].get("person", 0) >= 5
    assert doc["peak_concurrent"]["person"] >= 3
    assert all(o["end_s"] <= 80.5 for o in doc["objects"])
    # the shot's count is people at once (5 to 15 walk in view), not its many track pieces
    video = probe(shared_media / "surveillance" / "opencv_vtest.avi")
    one_shot = {"shots": [{"index": 0, "start_s": 0.0, "end_s": video.duration_s}]}
    full = build_document(video, {"objects": doc, "shots": one_shot}, {})
    person = next(o for o in full["shots"][0]["objects"] if o["label"] == "person")
    assert 5 <= person["peak"] <= 15 and person["tracks"] >= 2 * person["peak"], person


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


def _int8_matches_fp32(bgr: np.ndarray, min_boxes: int) -> None:
    """The int8 graph finds every confident box of the float32 Darknet model, same class, same place."""
    from vidlens.models.detector import DarknetYolo, Yolov4TinyInt8

    int8 = Yolov4TinyInt8().detect(bgr, 0.25, 0.45)
    fp32 = DarknetYolo().load().detect(bgr, 0.5, 0.45)
    assert len(fp32) >= min_boxes, fp32
    for box, label, score in zip(fp32.xyxy, fp32.class_name, fp32.confidence):
        same = int8.xyxy[int8.class_name == label]
        assert len(same) and max(_iou(box, b) for b in same) > 0.5, (label, score, box, int8)


def test_int8_yolo_finds_what_the_darknet_model_finds_in_a_photo() -> None:
    from vidlens.analyze.builtin._vision_examples import sample_photo

    _int8_matches_fp32(np.ascontiguousarray(sample_photo("bus")[:, :, ::-1]), 4)


@pytest.mark.slow
def test_int8_yolo_finds_what_the_darknet_model_finds_on_a_vtest_frame(shared_media: Path) -> None:
    import av

    with av.open(str(shared_media / "surveillance" / "opencv_vtest.avi")) as c:
        frame = next(f for i, f in enumerate(c.decode(video=0)) if i == 200)
    _int8_matches_fp32(frame.to_ndarray(format="bgr24"), 6)

