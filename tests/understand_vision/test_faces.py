from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.builtin._vision_examples import make_two_faces_clip, sample_photo
from vidlens.analyze.builtin.faces import FacesAnalyzer
from vidlens.analyze.people import FaceTrackSummary, cluster_tracks, merge_spans
from vidlens.errors import ModelError, UsageError
from vidlens.testing.synth import write_video

from .conftest import analyze_file


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("example", FacesAnalyzer.examples(), ids=lambda e: e.name)
def test_examples(example, tmp_path: Path, run_analyzer) -> None:
    doc = run_analyzer(FacesAnalyzer.from_dict(example.config), example.make(tmp_path))
    example.check(doc)
    for p in doc["people"]:  # thumbnails are real JPEGs in the blob store
        assert run_analyzer.blobs.get_bytes(p["thumbnail_blob"])[:3] == b"\xff\xd8\xff"


def test_clustering_joins_same_embeddings_and_respects_co_occurrence() -> None:
    rng = np.random.default_rng(0)
    a, b = _unit(rng.normal(size=128)), _unit(rng.normal(size=128))
    near = lambda v: _unit(v + rng.normal(scale=0.05, size=128))  # noqa: E731
    tracks = [FaceTrackSummary(near(a), (0.0, 0.5)), FaceTrackSummary(near(b), (0.0, 0.5)),
              FaceTrackSummary(near(a), (5.0,)), FaceTrackSummary(near(b), (6.0, 6.5))]
    assert cluster_tracks(tracks, 0.4) == [0, 1, 0, 1]
    # identical faces seen at the same moment are still two people
    twins = [FaceTrackSummary(a, (1.0,)), FaceTrackSummary(a, (1.0,))]
    assert cluster_tracks(twins, 0.4) == [0, 1]
    assert cluster_tracks([], 0.4) == []


def test_merge_spans() -> None:
    assert merge_spans([(5, 6), (0, 1), (1.5, 2)], gap=1.0) == [(0, 2), (5, 6)]


def test_gallery_folder_names_both_people(tmp_path: Path) -> None:
    from PIL import Image

    photo = sample_photo("zidane")  # 1280x720: one man left of x=800, one right of it
    for name, part in (("left_man", photo[:, :800]), ("right_man", photo[:, 800:])):
        (tmp_path / "gallery" / name).mkdir(parents=True)
        Image.fromarray(np.ascontiguousarray(part)).save(tmp_path / "gallery" / name / "a.jpg")
    (tmp_path / "gallery" / "nobody.png").write_bytes(b"not an image")
    doc = analyze_file(FacesAnalyzer.from_dict({"gallery": str(tmp_path / "gallery")}), make_two_faces_clip(tmp_path))
    by_x = sorted(doc["people"], key=lambda p: p["best_box"][0])
    assert [p["identity"] for p in by_x] == ["left_man", "right_man"]
    assert min(p["identity_score"] for p in by_x) > 0.6
    assert doc["gallery"]["warnings"] == ["nobody.png: no face found"]


def test_gallery_json_and_threshold(tmp_path: Path) -> None:
    clip = make_two_faces_clip(tmp_path)
    first = analyze_file(FacesAnalyzer(), clip)
    noisy = np.asarray(first["people"][0]["embedding"]) + np.random.default_rng(1).normal(scale=0.09, size=128)
    ref = {"p1": [_unit(noisy).tolist(), first["people"][0]["embedding"]]}
    (tmp_path / "g.json").write_text(json.dumps(ref))
    doc = analyze_file(FacesAnalyzer.from_dict({"gallery": str(tmp_path / "g.json")}), clip)
    assert [p["identity"] for p in doc["people"]] == ["p1", None]
    # measured 0.946 on the 2-core dev machine, 2026-11 (0.969 with noise 0.06 sat 0.021 under the strict
    # threshold below); margins 0.066 and 0.044
    assert 0.88 < doc["people"][0]["identity_score"] < 0.99
    strict = analyze_file(FacesAnalyzer.from_dict({"gallery": str(tmp_path / "g.json"),
                                                    "identity_threshold": 0.99}), clip)
    assert [p["identity"] for p in strict["people"]] == [None, None]


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"), ("[1, 2]", "must be a JSON object"), ('{"a": [1, 2]}', "128-d"), ("{", "not a JSON"),
])
def test_bad_gallery_is_a_usage_error(tmp_path: Path, content, message) -> None:
    g = tmp_path / "g.json"
    if content is not None:
        g.write_text(content)
    with pytest.raises(UsageError, match=message):
        FacesAnalyzer.from_dict({"gallery": str(g)}).load_gallery()


def test_no_faces_gives_no_people(tmp_path: Path) -> None:
    frames = [np.full((96, 160, 3), 40 + i, np.uint8) for i in range(20)]
    doc = analyze_file(FacesAnalyzer(), write_video(tmp_path / "flat.mp4", frames, 10))
    assert doc["people"] == [] and doc["count"] == 0 and doc["errors"] == []


def test_missing_recognizer_names_slot(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="faces.recognizer"):
        FacesAnalyzer.from_dict({"recognizer_model": str(tmp_path / "none.onnx")})._models()


def _concat(paths: list[Path], out: Path) -> Path:
    from vidlens.media.decode import Sampling, iter_frames
    from vidlens.media.probe import probe

    frames = [fs.image for p in paths for fs in iter_frames(probe(p), Sampling(pix_fmt="rgb24"))]
    return write_video(out, frames, 25)


@pytest.mark.slow
@pytest.mark.parametrize("clip, people", [
    ("faces/intel_asl_book.mkv", 1), ("faces/intel_face-demographics-walking-and-pause.gif", 3),
    ("faces/intel_head-pose-face-detection-female-and-male.gif", 2), ("av_speech_grid/bbaf2n.mpg", 1),
])
def test_people_counts_on_real_clips(shared_media: Path, clip: str, people: int) -> None:
    assert analyze_file(FacesAnalyzer(), shared_media / clip)["count"] == people


@pytest.mark.slow
def test_same_speaker_in_two_shots_is_one_person(shared_media: Path, tmp_path: Path) -> None:
    g = shared_media / "av_speech_grid"
    clip = _concat([g / "bbaf2n.mpg", g / "swiz3n.mpg", g / "bbaf2n.mpg"], tmp_path / "abc.mp4")
    doc = analyze_file(FacesAnalyzer(), clip)
    assert doc["count"] == 2, [(p["spans"], p["tracks"]) for p in doc["people"]]
    first = doc["people"][0]
    assert len(first["spans"]) == 2 and first["spans"][0]["start_s"] == 0.0 and first["spans"][1]["start_s"] >= 5.9


def test_a_still_talking_head_is_detected_less_often_with_the_same_people(samples: Path) -> None:
    clip = samples / "bbaf2n.mpg"  # GRID: one speaker before a fixed camera; only the lips move
    gated = analyze_file(FacesAnalyzer(), clip)
    every = analyze_file(FacesAnalyzer.from_dict({"motion_gate": False}), clip)
    assert gated["detected_frames"] < gated["sampled_frames"] == every["detected_frames"] == every["sampled_frames"]
    assert [(p["spans"], p["faces"]) for p in gated["people"]] == [(p["spans"], p["faces"]) for p in every["people"]]
    assert gated["count"] == 1


def test_corrupt_recognizer_fails_the_analysis_with_the_slot(tmp_path: Path) -> None:
    bad = tmp_path / "sface.onnx"
    bad.write_bytes(b"\x07" * 5000)
    with pytest.raises(ModelError, match="faces.recognizer"):
        analyze_file(FacesAnalyzer.from_dict({"recognizer_model": str(bad)}), make_two_faces_clip(tmp_path))
