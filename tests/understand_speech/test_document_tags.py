from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest

from vidlens.analyze.builtin.speech import SpeechAnalyzer, _make_speech_clip
from vidlens.analyze.builtin.scene_families import GRAPHICS, INDOOR
from vidlens.analyze.builtin.tags import derive_tags, keywords, scene_evidence, scene_tags
from vidlens.analyze.builtin.technical import TechnicalAnalyzer
from vidlens.analyze.document import build_document, document_schema
from vidlens.media.probe import probe
from vidlens.types import Video

from .conftest import run_analyzer

VIDEO = Video(id="a" * 64, sha256="a" * 64, uri="clip.mp4", size_bytes=10, container="mp4",
              time_base=Fraction(1, 1000), duration=20_000, fps=Fraction(25), width=640, height=360,
              rotation=0, frame_count=500, has_audio=True)
SHOTS = [{"index": 0, "start_s": 0.0, "end_s": 8.0, "transition_in": "start"},
         {"index": 1, "start_s": 8.0, "end_s": 20.0, "transition_in": "cut", "span": {"x": 1}}]
RESULTS = {
    "objects": {"objects": [
        {"track_id": 2, "label": "car", "start_s": 9.0, "end_s": 15.0, "confidence": 0.8, "best_box": [0, 0, 1, 1]},
        {"track_id": 1, "label": "person", "start_s": 1.0, "end_s": 6.0, "confidence": 0.9},
        {"track_id": 3, "label": "dog", "start_s": 2.0, "end_s": 2.4, "confidence": 0.5}]},
    "faces": {"people": [{"person_id": "p1", "spans": [{"start_s": 1.0, "end_s": 5.0}, {"start_s": 12, "end_s": 14}],
                          "faces": 9, "identity": None, "thumbnail_blob": None}]},
    "ocr": {"texts": [{"text": "OPEN 24 HOURS", "start_s": 10.0, "end_s": 12.0}]},
    "speech": {"transcript": [
        {"text": "The garden needs water. Water the garden daily.", "start_s": 0.5, "end_s": 4.0, "language": "en"},
        {"text": "Cars park by the garden.", "start_s": 9.0, "end_s": 11.0, "language": "en"}],
        "language": "en", "subtitles": {"vtt": "ab/" + "c" * 64 + ".vtt"}},
    "technical": {"cues": [{"kind": "black", "start_s": 0.0, "end_s": 0.5, "details": {}}],
                  "picture_stats": [{"start_s": 0, "end_s": 8, "luma": 0.1, "saturation": 0.3, "sky": 0, "vegetation": 0},
                                    {"start_s": 8, "end_s": 20, "luma": 0.5, "saturation": 0.4, "sky": 0.3,
                                     "vegetation": 0.1}]},
    "nsfw": {"moderation": {"model": "open_nsfw", "threshold": 0.8, "max": 0.91, "max_t": 10.0, "mean": 0.3125,
                            "samples": [{"t": 0.0, "score": 0.01}, {"t": 2.0, "score": 0.02},
                                        {"t": 8.0, "score": 0.3}, {"t": 10.0, "score": 0.91}],
                            "flagged": [{"start_s": 10.0, "end_s": 12.0, "max_score": 0.91, "samples": 1}]}},
    "scene": {"scene": {"model": "efficientnet-lite0", "embedding_dim": 1280, "embedding_dtype": "float16",
                        "samples": [{"t": 0.0, "cut": False, "embedding_blob": None, "families": {"nature": 0.55},
                                     "texture": {"luma": 0.4, "detail": 0.7, "edges": 0.05},
                                     "labels": [{"label": "valley", "score": 0.6}, {"label": "alp", "score": 0.2}]},
                                    {"t": 2.0, "cut": False, "embedding_blob": None, "families": {"nature": 0.45},
                                     "texture": {"luma": 0.4, "detail": 0.7, "edges": 0.05},
                                     "labels": [{"label": "alp", "score": 0.5}, {"label": "valley", "score": 0.3}]},
                                    {"t": 8.0, "cut": True, "embedding_blob": None,
                                     "families": {"street": 0.75, "room": 0.02},
                                     "texture": {"luma": 0.5, "detail": 0.6, "edges": 0.08},
                                     "labels": [{"label": "minibus", "score": 0.7}]}]},
              "scene_labels": [{"label": "valley", "start_s": 0.0, "end_s": 4.0, "confidence": 0.6, "samples": 2},
                               {"label": "alp", "start_s": 2.0, "end_s": 4.0, "confidence": 0.5, "samples": 1},
                               {"label": "minibus", "start_s": 8.0, "end_s": 10.0, "confidence": 0.7, "samples": 1}]},
}


def with_shots(shots: list[dict], results: dict) -> dict:
    """``results`` plus a shot detector's result holding ``shots`` (a section like any other)."""
    return {**results, "shots": {"shots": shots}}


def _validate(doc: dict) -> None:
    jsonschema.validate(doc, document_schema(), cls=jsonschema.Draft202012Validator)
    json.dumps(doc)


def test_nothing_at_all_still_gives_a_complete_document() -> None:
    doc = build_document(VIDEO, {}, {})
    _validate(doc)
    assert doc["schema"] == "vidlens.analysis" and doc["version"] == 2
    for key in ("shots", "transcript", "people", "objects", "texts", "tags", "cues", "translation", "scene_labels"):
        assert doc[key] == [], key
    assert doc["moderation"] is None and doc["scene"] is None
    assert doc["errors"] == {} and doc["video"]["id"] == "a" * 64


def test_full_document_validates_sorts_and_attaches_shots() -> None:
    before = copy.deepcopy(RESULTS)
    doc = build_document(VIDEO, with_shots(SHOTS, RESULTS),
                         {"scene": {"code": "model_error", "message": "missing"}})
    _validate(doc)
    assert RESULTS == before  # inputs are not mutated
    assert [o["label"] for o in doc["objects"]] == ["person", "dog", "car"]
    assert [o["shot_index"] for o in doc["objects"]] == [0, 0, 1]
    assert [sp["shot_index"] for sp in doc["people"][0]["spans"]] == [0, 1]
    assert doc["texts"][0]["shot_index"] == 1 and doc["texts"][0]["source"] == "ocr"
    assert doc["language"] == "en" and doc["subtitles"]["vtt"].endswith(".vtt")
    assert doc["moderation"]["shots"] == [{"shot_index": 0, "max": 0.02, "mean": 0.015, "samples": 2},
                                          {"shot_index": 1, "max": 0.91, "mean": 0.605, "samples": 2}]
    assert doc["moderation"]["flagged"] == RESULTS["nsfw"]["moderation"]["flagged"]
    assert doc["scene"]["shots"] == [
        {"shot_index": 0, "samples": 2, "labels": [{"label": "valley", "score": 0.45}, {"label": "alp", "score": 0.35}]},
        {"shot_index": 1, "samples": 1, "labels": [{"label": "minibus", "score": 0.7}]}]
    assert [x["shot_index"] for x in doc["scene_labels"]] == [0, 0, 1]
    assert doc["errors"]["scene"]["code"] == "model_error" and "scene" in doc["analyzers"]
    assert "span" not in doc["shots"][1]


def test_schema_rejects_a_broken_document() -> None:
    doc = build_document(VIDEO, with_shots(SHOTS, RESULTS), {})
    bad = copy.deepcopy(doc)
    del bad["transcript"][0]["language"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)
    bad = copy.deepcopy(doc)
    bad["tags"][0]["evidence"] = []
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)
    bad = copy.deepcopy(doc)
    bad["moderation"]["samples"][0]["score"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)
    bad = copy.deepcopy(doc)
    del bad["scene"]["shots"][0]["labels"][0]["score"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)
    bad = copy.deepcopy(doc)
    del bad["scene"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)


def test_malformed_result_is_reported_not_fatal() -> None:
    doc = build_document(VIDEO, with_shots(SHOTS, {"ocr": {"texts": "not a list"}, "objects": RESULTS["objects"]}),
                         {})
    _validate(doc)
    assert doc["texts"] == [] and doc["errors"]["document.texts"]["code"] == "bad_result"
    assert len(doc["objects"]) == 3


def test_tags_are_explainable_per_video_and_per_shot() -> None:
    tags = derive_tags(RESULTS, SHOTS)
    assert all(t["evidence"] and 0 <= t["confidence"] <= 1 for t in tags)
    video = {(t["kind"], t["tag"]): t for t in tags if t["scope"] == "video"}
    assert {("object", "car"), ("object", "person"), ("people", "person"), ("text", "on-screen text"),
            ("speech", "speech"), ("language", "language:en"), ("topic", "garden"), ("topic", "water")} <= set(video)
    assert ("object", "dog") not in video  # 0.4 s, one track: too little evidence
    assert video[("object", "car")]["shots"] == [1] and video[("object", "person")]["shots"] == [0]
    assert video[("people", "person")]["shots"] == [0, 1] and video[("topic", "garden")]["shots"] == [0, 1]
    shot0 = {(t["kind"], t["tag"]) for t in tags if t["shot_index"] == 0}
    shot1 = {(t["kind"], t["tag"]) for t in tags if t["shot_index"] == 1}
    assert ("object", "person") in shot0 and ("object", "car") not in shot0
    assert ("object", "car") in shot1 and ("text", "on-screen text") in shot1
    assert ("style", "dark / night") in shot0
    # in every shot: said once, at video scope, with both shots as evidence
    assert ("people", "person") not in shot0 | shot1 and ("topic", "garden") not in shot0 | shot1
    assert all(t["shots"] == [t["shot_index"]] for t in tags if t["scope"] == "shot")
    garden = video[("topic", "garden")]
    assert "3 time(s)" in garden["evidence"][0]


def test_every_tag_of_a_one_shot_clip_is_listed_once() -> None:
    one = [{"index": 0, "start_s": 0.0, "end_s": 20.0, "transition_in": "start"}]
    doc = build_document(VIDEO, with_shots(one, RESULTS), {})
    _validate(doc)
    keys = [(t["kind"], t["tag"]) for t in doc["tags"]]
    assert len(keys) == len(set(keys)) and {t["scope"] for t in doc["tags"]} == {"video"}
    assert next(t for t in doc["tags"] if t["tag"] == "car")["shots"] == [0]
    assert build_document(VIDEO, RESULTS, {})["tags"]  # no shots at all: still tagged, once
    keys = [(t["kind"], t["tag"]) for t in build_document(VIDEO, RESULTS, {})["tags"]]
    assert len(keys) == len(set(keys))


def test_moderation_and_scene_tags_carry_evidence() -> None:
    tags = derive_tags(RESULTS, SHOTS)
    nsfw = [t for t in tags if t["tag"] == "nsfw"]
    assert [(t["kind"], t["scope"], t["shot_index"], t["confidence"]) for t in nsfw] == [
        ("moderation", "video", None, 0.91), ("moderation", "shot", 1, 0.91)]
    assert "score 0.91 at 0:10.0 (threshold 0.80); 1 of 4 sample(s)" in nsfw[0]["evidence"][0]
    scene = {(t["scope"], t["shot_index"], t["tag"]): t for t in tags if t["kind"] == "scene"}
    # families, never ImageNet names ("valley", "minibus"); outdoor is in both shots, so said once
    assert set(scene) == {("video", None, "outdoor"), ("video", None, "nature"), ("video", None, "street"),
                          ("shot", 0, "nature"), ("shot", 1, "street")}
    assert scene[("video", None, "outdoor")]["shots"] == [0, 1]
    assert scene[("video", None, "nature")]["evidence"] == [
        "in 1 of 2 shot(s) (0); shot 0: 'nature' classes score 0.50 (mean of 2 sample(s))"]
    calm = copy.deepcopy(RESULTS)
    calm["nsfw"]["moderation"]["threshold"] = 0.95
    assert not [t for t in derive_tags(calm, SHOTS) if t["kind"] == "moderation"]


def test_scene_says_nothing_on_weak_dark_or_drawn_pictures() -> None:
    def tags_of(*samples: tuple[dict, dict]) -> set[str]:
        rows = [{"t": float(i), "families": f, "texture": x, "labels": []} for i, (f, x) in enumerate(samples)]
        return {t for t, _, _ in scene_tags(scene_evidence(rows, None))}

    photo = {"luma": 0.5, "detail": 0.6, "edges": 0.05}
    # a talking head: no family reaches its threshold, and outdoor is not the default
    assert tags_of(({"nature": 0.07, "room": 0.04}, photo), ({"nature": 0.08, "room": 0.03}, photo)) == set()
    # mixed evidence: both settings score, neither twice the other
    assert INDOOR not in tags_of(({"room": 0.3, "street": 0.25}, photo))
    assert tags_of(({"room": 0.6}, photo)) == {INDOOR, "room"}
    # black frames and fades say nothing, however the classifier scores them
    assert tags_of(({"room": 0.6}, {"luma": 0.01, "detail": 0.0, "edges": 0.0})) == set()
    # flat colour with hard edges (a test pattern) is graphics, never a setting
    bars = {"luma": 0.4, "detail": 0.13, "edges": 0.18}
    assert tags_of(({"room": 0.3}, bars), ({"room": 0.3}, bars)) == {GRAPHICS}
    # samples of an older scene analyzer (no families) give no scene tags at all
    assert scene_tags(scene_evidence([{"t": 0.0, "labels": [{"label": "valley", "score": 0.9}]}], None)) == []


def test_an_image_class_corroborates_a_detection_but_never_stands_alone() -> None:
    results = copy.deepcopy(RESULTS)
    car = next(t for t in derive_tags(results, SHOTS) if t["tag"] == "car" and t["scope"] == "video")
    assert len(car["evidence"]) == 1  # 'minibus' is no car, and its sample (8 s) is before the car's track
    results["scene"]["scene"]["samples"].append({"t": 10.0, "cut": False, "embedding_blob": None,
                                                 "families": {"street": 0.6}, "texture": {"luma": 0.5, "detail": 0.6,
                                                                                          "edges": 0.08},
                                                 "labels": [{"label": "sports car", "score": 0.42}]})
    car = next(t for t in derive_tags(results, SHOTS) if t["tag"] == "car" and t["scope"] == "video")
    assert car["evidence"][1] == "the image classifier agrees: 'sports car' 0.42 at 0:10.0"
    del results["objects"]
    assert not [t for t in derive_tags(results, SHOTS) if t["tag"] in ("car", "sports car", "minibus")]


def test_keywords_skip_stopwords_and_singletons() -> None:
    assert keywords(["The the the cat and the cat sat", "a dog"]) == [("cat", 2)]


def test_document_from_real_analyzers(tmp_path: Path) -> None:
    clip = _make_speech_clip(tmp_path)
    video = probe(clip)
    results = {"speech": run_analyzer(SpeechAnalyzer.from_dict({"language": "en"}), clip, tmp_path / "blobs"),
               "technical": run_analyzer(TechnicalAnalyzer(), clip)}
    doc = build_document(video, with_shots([{"index": 0, "start_s": 0.0, "end_s": video.duration_s}], results),
                         {})
    _validate(doc)
    assert "ask not what your country" in " ".join(s["text"] for s in doc["transcript"]).lower()
    assert {"kind": "topic", "tag": "country"}.items() <= next(t for t in doc["tags"] if t["tag"] == "country").items()
    frozen = [c for c in doc["cues"] if c["kind"] == "frozen"]  # the example's picture is one grey still
    assert frozen and all(c["shot_index"] == 0 for c in doc["cues"])


def test_report_shows_nsfw_per_shot_and_scene_labels() -> None:
    from vidlens.report.analysis import render_analysis

    results = copy.deepcopy(RESULTS)
    results["scene"]["scene"]["samples"][2]["labels"][0]["label"] = "<b>bus</b>"
    page = render_analysis(build_document(VIDEO, with_shots(SHOTS, results), {}))
    assert "nsfw 0.02</span>" in page and '<span class="err">nsfw 0.91</span>' in page
    assert "valley 0.45, alp 0.35" in page and "&lt;b&gt;bus&lt;/b&gt; 0.70" in page and "<b>bus</b>" not in page
    assert "<b>nsfw flagged</b>" in page and "<b>scene</b>" in page


def test_report_puts_overlapping_timeline_items_on_rows_of_their_own() -> None:
    import re

    from vidlens.report.analysis import render_analysis

    results = copy.deepcopy(RESULTS)
    results["ocr"] = {"texts": [
        {"text": "Big Buck", "start_s": 26.0, "end_s": 30.0, "box": [300, 96, 1000, 279], "confidence": 0.99},
        {"text": "BUNNY", "start_s": 26.0, "end_s": 30.0, "box": [300, 279, 1000, 462], "confidence": 1.0},
        {"text": "THE END", "start_s": 31.0, "end_s": 33.0, "box": [300, 96, 1000, 279], "confidence": 0.99}]}
    page = render_analysis(build_document(VIDEO, with_shots(SHOTS, results), {}))
    lane = page[page.index("<b>on-screen text</b>"):].split("</div></div>", 1)[0]
    tops = {label: int(top) for top, label in re.findall(r'top:(\d+)px;[^>]*>([^<]+)</span>', lane)}
    assert tops["Big Buck"] != tops["BUNNY"] and tops["THE END"] == min(tops.values())
    assert 'style="height:42px"' in lane  # two rows


def test_each_shot_counts_its_objects_at_once_not_by_track() -> None:
    from vidlens.report.analysis import render_analysis

    results = copy.deepcopy(RESULTS)
    results["objects"]["objects"] += [  # one person's track broken in two, and a second person beside them
        {"track_id": 4, "label": "person", "start_s": 9.0, "end_s": 12.0, "confidence": 0.9},
        {"track_id": 5, "label": "person", "start_s": 12.0, "end_s": 16.0, "confidence": 0.9},
        {"track_id": 6, "label": "person", "start_s": 10.0, "end_s": 18.0, "confidence": 0.7}]
    # what the detector matched at each sample: never more than two people at once in shot 1
    live = [(1.0, {"person": 1}), (2.0, {"dog": 1, "person": 1}), (5.0, {"person": 1}),
            (9.0, {"car": 1, "person": 1}), (11.0, {"car": 1, "person": 2}), (12.0, {"car": 1, "person": 2}),
            (13.0, {"car": 1, "person": 2}), (16.0, {"person": 1})]
    results["objects"]["live"] = [{"t": t, "counts": c} for t, c in live]
    results["objects"]["peak_concurrent"] = {"car": 1, "dog": 1, "person": 2}
    doc = build_document(VIDEO, with_shots(SHOTS, results), {})
    _validate(doc)
    assert doc["shots"][0]["objects"] == [{"label": "dog", "peak": 1, "tracks": 1},
                                          {"label": "person", "peak": 1, "tracks": 1}]
    assert doc["shots"][1]["objects"] == [{"label": "person", "peak": 2, "tracks": 3},
                                          {"label": "car", "peak": 1, "tracks": 1}]
    video_person = next(t for t in doc["tags"] if t["tag"] == "person" and t["kind"] == "object" and t["scope"] == "video")
    assert "4 'person' track(s) from the object detector, up to 2 at once" in video_person["evidence"][0]
    assert "2 person · 1 car" in render_analysis(doc)
