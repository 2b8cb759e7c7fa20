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
    """NanoDet's person boxes land where YOLOv4-tiny (decoded independently) puts its confident ones.

    Measured margins (photo / vtest frame 200): NanoDet persons >= 0.3: 4 / 10 against 3 / 6 asked,
    the weakest counted 0.46 / 0.38; YOLO persons >= 0.65: 0.78 the weakest in, the strongest left out
    0.53 (vtest, no NanoDet box on it), so 0.12 either way; best IoU with a NanoDet box 0.80 / 0.82
    against 0.5; median height/width 3.7 / 2.3 against 1.5 (single boxes go down to 1.06 on vtest:
    people half hidden).
    """
    from vidlens.models.detector import DarknetYolo, NanoDet

    nano = NanoDet().detect(bgr, 0.3, 0.45)
    yolo = DarknetYolo().load().detect(bgr, 0.65, 0.45)
    people = nano.xyxy[nano.class_name == "person"]
    assert len(people) >= min_people, nano
    h, w = bgr.shape[:2]
    assert (people[:, [0, 1]] >= 0).all() and (people[:, 2] <= w).all() and (people[:, 3] <= h).all()
    aspect = (people[:, 3] - people[:, 1]) / (people[:, 2] - people[:, 0])
    assert float(np.median(aspect)) > 1.5, aspect  # upright walkers
    for box in yolo.xyxy[yolo.class_name == "person"]:
        assert max(_iou(box, p) for p in people) > 0.5, (box, people)


def test_nanodet_finds_the_people_and_the_bus_in_a_photo() -> None:
    from vidlens.analyze.builtin._vision_examples import sample_photo
    from vidlens.models.detector import NanoDet

    bgr = np.ascontiguousarray(sample_photo("bus")[:, :, ::-1])
    d = NanoDet().detect(bgr, 0.3, 0.45)
    assert "bus" in set(d.class_name), d  # measured 0.76 against 0.3
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
    assert doc["counts"].get("person", 0) >= 5  # measured 31 person tracks
    assert doc["peak_concurrent"]["person"] >= 3  # measured 9
    assert all(o["end_s"] <= 80.5 for o in doc["objects"])  # the clip is 79.5 s
    # the shot's count is people at once (5 to 15 walk in view), not its many track pieces
    video = probe(shared_media / "surveillance" / "opencv_vtest.avi")
    one_shot = {"shots": [{"index": 0, "start_s": 0.0, "end_s": video.duration_s}]}
    full = build_document(video, {"objects": doc, "shots": one_shot}, {})
    person = next(o for o in full["shots"][0]["objects"] if o["label"] == "person")
    assert 5 <= person["peak"] <= 15 and person["tracks"] >= 2 * person["peak"], person  # measured peak 9, 31 tracks


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
    """The int8 graph finds every confident box of the float32 Darknet model, same class, same place.

    Measured margins (photo / vtest frame 200): float32 boxes >= 0.55: 4 / 7 against 4 / 6 asked, the
    weakest in 0.66 / 0.73 and the strongest left out 0.43 / 0.53 (the photo's skateboard, which the
    int8 graph scores 0.08); the int8 score of each match is >= 0.54 against 0.25, its IoU >= 0.85.
    """
    from vidlens.models.detector import DarknetYolo, Yolov4TinyInt8

    int8 = Yolov4TinyInt8().detect(bgr, 0.25, 0.45)
    fp32 = DarknetYolo().load().detect(bgr, 0.55, 0.45)
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



def _bus_stop_in(canvas: tuple[int, int], at: tuple[int, int], scale: float = 0.25) -> np.ndarray:
    """The bus-stop photo (three people and a bus), shrunk by ``scale``, on a grey frame of ``canvas`` (w, h)."""
    import cv2

    from vidlens.analyze.builtin._vision_examples import sample_photo

    photo = np.ascontiguousarray(sample_photo("bus")[:, :, ::-1])
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((canvas[1], canvas[0], 3), 120, np.uint8)
    frame[at[1]:at[1] + small.shape[0], at[0]:at[0] + small.shape[1]] = small
    return frame


def _whole_and_tiles(frame: np.ndarray) -> tuple:  # noqa: ANN401 - (whole-frame Detections, merged Detections)
    import cv2

    from vidlens.analyze.regions import RegionPlanner, detect_regions, in_region, merge
    from vidlens.models.detector import Yolov4TinyInt8
    from vidlens.types import Detections

    det = Yolov4TinyInt8()
    h, w = frame.shape[:2]
    shrunk = cv2.resize(frame, (416, round(416 * h / w)), interpolation=cv2.INTER_AREA)
    d = det.detect(shrunk, 0.25, 0.45)
    whole = Detections(d.xyxy * np.float32(w / 416), d.confidence, d.class_name)
    tiles = RegionPlanner(416).tiles(frame.shape)
    found = detect_regions(lambda crop: det.detect(crop, 0.25, 0.45), frame, tiles)
    return whole, merge([in_region(whole, (0, 0, w, h), frame.shape), *found])


def test_tiles_at_full_resolution_find_people_the_whole_frame_pass_cannot_see() -> None:
    frame = _bus_stop_in((1920, 1080), (1300, 600))  # people 100-140 px tall: 22-30 px in the 416-px whole frame
    whole, merged = _whole_and_tiles(frame)
    assert not (whole.confidence[whole.class_name == "person"] >= 0.4).any(), whole  # measured best 0.22
    people = merged[(merged.class_name == "person") & (merged.confidence >= 0.4)]
    assert len(people) >= 2, merged  # measured 0.93 and 0.79 (then 0.44, 0.40)
    assert ((people.xyxy[:, 0] >= 1290) & (people.xyxy[:, 2] <= 1515)).all(), people  # on the photo
    assert (merged.confidence[merged.class_name == "bus"] >= 0.4).any(), merged  # measured 0.87


def test_an_object_across_a_tile_seam_is_reported_once() -> None:
    # tiles (0, 332)-(416, 748) and (301, 332)-(717, 748) overlap on x 301-416; the bus spans x 294-461
    frame = _bus_stop_in((1920, 1080), (260, 600))
    _, merged = _whole_and_tiles(frame)
    buses = merged[merged.class_name == "bus"]
    # measured: the halves score 0.53 (left tile, cut at x 416) and 0.75 (right tile, cut at x 301), joined
    assert len(buses) == 1, buses
    x0, y0, x1, y1 = buses.xyxy[0]
    assert x0 <= 300 and x1 >= 450 and y0 <= 670 and y1 >= 795, buses.xyxy  # the whole bus, not one half


def test_a_small_group_moving_in_a_large_frame_is_found(tmp_path: Path) -> None:
    """People 84 px tall walking in a 1280x720 view: 27 px in the whole-frame pass, found by the closer looks."""
    from vidlens.testing.synth import write_video

    frames = [np.ascontiguousarray(_bus_stop_in((1280, 720), (200 + 10 * i, 400), 0.15)[:, :, ::-1])
              for i in range(30)]
    clip = write_video(tmp_path / "small_group.mp4", frames, 10)
    closer = analyze_file(ObjectsAnalyzer.from_dict({}), clip)
    people = [o for o in closer["objects"] if o["label"] == "person"]
    # measured: person boxes on every sample from the second, best 0.99 (tracks need 0.4)
    assert people and max(o["confidence"] for o in people) >= 0.6, closer["objects"]
    assert closer["region_detections"] > 0
    whole = analyze_file(ObjectsAnalyzer.from_dict({"regions": 0}), clip)
    assert not whole["objects"], whole["objects"]  # measured: not one box of any class >= 0.25 on any sample


@pytest.mark.slow
def test_the_aerial_clip_has_its_person_bicycle_and_car_and_no_cell_phone(shared_media: Path) -> None:
    doc = analyze_file(ObjectsAnalyzer.from_dict({}), shared_media / "surveillance" /
                       "intel_person-bicycle-car-detection.mp4")
    best = {label: max(o["confidence"] for o in doc["objects"] if o["label"] == label) for label in doc["counts"]}
    # measured best track scores: person 0.97 (25-31 s), bicycle 0.72 and car 0.72 (32-34 s, both seen
    # closer at full resolution); a track needs 0.4. The whole frame alone finds only the person.
    assert {"person", "bicycle", "car"} <= set(best), doc["objects"]
    assert min(best["person"], best["bicycle"], best["car"]) >= 0.4, best
    car = next(o for o in doc["objects"] if o["label"] == "car")
    assert 29.0 <= car["start_s"] <= 34.0, car  # the grey car leaving at the left
    # the cars seen from above score "cell phone" (0.56 at 1 s, 0.79 at 30 s), one look each: a phone
    # moving by itself is no reason to report one look, and a phone track would be too large for the
    # shot (198 px: 660 px a metre at its class's largest, 5.8 times the 114 the shot's people and
    # vehicles allow; rejected from 4 times)
    assert "cell phone" not in doc["counts"], doc["objects"]


@pytest.mark.slow
def test_the_aerial_preview_gif_reports_no_phone_the_size_of_a_car(shared_media: Path) -> None:
    """Intel's own 480x270 GIF of the same scene (no closer looks at this size): the size check alone."""
    doc = analyze_file(ObjectsAnalyzer.from_dict({}), shared_media / "copy_detection" /
                       "intel_person-bicycle-car-detection_preview.gif")
    assert "cell phone" not in doc["counts"], doc["objects"]
    # measured: a 7-sample "cell phone" track (0.95) on the white car, rejected: at its class's largest
    # it needs 357 px a metre where the people and bikes of the shot allow at most 61 (5.9 times, from 4)
    assert [o["label"] for o in doc["rejected"]] == ["cell phone"], doc["rejected"]


@pytest.mark.slow
def test_the_car_park_preview_gif_reports_no_phone_or_suitcase_on_a_passing_car(shared_media: Path) -> None:
    """Intel's 480x270 GIF of the overhead car park: no person or vehicle is found, so no size can be judged.

    measured: one car driving up the view is called "suitcase" at 2.1-3.1 s, then "cell phone" at
    3.2-4.2 s (two samples each); together it moved 116 px, 0.9 of its 128-px length (in the
    416-px detector frame), in three steps with nobody in view: rejected from half its length (each
    name alone moved a quarter, in one step)
    """
    doc = analyze_file(ObjectsAnalyzer.from_dict({}), shared_media / "copy_detection" /
                       "intel_car-detection_preview.gif")
    assert not {"cell phone", "suitcase"} & set(doc["counts"]), doc["objects"]
    assert sorted(r["label"] for r in doc["rejected"]) == ["cell phone", "suitcase"], doc["rejected"]
    assert {r["reason"] for r in doc["rejected"]} == {"moved across a still view with no one to carry it"}
    kept = analyze_file(ObjectsAnalyzer.from_dict({"plausible_motion": False}), shared_media / "copy_detection" /
                        "intel_car-detection_preview.gif")
    assert {"cell phone", "suitcase"} <= set(kept["counts"]), kept["objects"]  # what the check removes
