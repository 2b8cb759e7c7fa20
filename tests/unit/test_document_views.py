"""Pure functions over a stored document: timeline lanes, search text, projected rows."""

from __future__ import annotations

from vidlens.analyze.projections import shot_rows, track_rows
from vidlens.analyze.views import insights, lanes, search_entries

DOC = {
    "video": {"id": "v" * 64, "duration_s": 10.0},
    "shots": [{"index": 0, "start_s": 0.0, "end_s": 4.0, "start_frame": 0, "end_frame": 100,
               "pts": {"start": 0, "end": 360000, "keyframe": 90000, "time_base": "1/90000"}},
              {"index": 1, "start_s": 4.0, "end_s": 10.0, "keyframe_s": 6.5}],  # no exact ticks
    "transcript": [{"text": "hello", "start_s": 0.5, "end_s": 1.0, "source": "speech"}],
    "people": [{"person_id": 2, "identity": None, "spans": [{"start_s": 1.0, "end_s": 2.0}, {"start_s": 5.0}]}],
    "tags": [{"tag": "outdoor", "scope": "video", "start_s": None, "end_s": None}],
    "moderation": {"flagged": [{"start_s": 3.0, "end_s": 4.0, "max_score": 0.9}], "samples": [{"t": 0.0}]},
    "errors": {"ocr": {"code": "model_error", "message": "gone"}},
}


def test_lanes_cover_every_timed_section_and_each_persons_spans() -> None:
    got = {(lane["analyzer"], lane["name"]): [(i["start_s"], i["end_s"], i["text"]) for i in lane["items"]]
           for lane in lanes(DOC)}
    assert got == {("speech", "transcript"): [(0.5, 1.0, "hello")],
                   ("people", "people"): [(1.0, 2.0, "person 2"), (5.0, 5.0, "person 2")],
                   ("moderation", "moderation.flagged"): [(3.0, 4.0, None)]}  # no lane for untimed tags


def test_search_takes_labelled_items_only_with_their_spans() -> None:
    assert list(search_entries(DOC)) == [
        {"analyzer": "speech", "kind": "transcript", "text": "hello", "start_s": 0.5, "end_s": 1.0},
        {"analyzer": "tags", "kind": "tags", "text": "outdoor", "start_s": None, "end_s": None},
    ]  # an unnamed person is not text to find


def test_shot_rows_keep_exact_ticks_and_fall_back_to_microseconds() -> None:
    first, second = shot_rows("v", DOC)
    assert (first["start_pts"], first["end_pts"], first["keyframe_pts"], first["time_base"]) == \
           (0, 360000, 90000, "1/90000")
    assert (second["start_pts"], second["end_pts"], second["keyframe_pts"], second["time_base"]) == \
           (4_000_000, 10_000_000, 6_500_000, "1/1000000")
    assert second["transition_in"] == "cut" and second["keyframe_blob"] is None


def test_track_rows_of_a_person_without_an_identity() -> None:
    rows = track_rows("v", DOC)
    assert [(r["kind"], r["ref"], r["label"], r["start_s"], r["end_s"], r["confidence"]) for r in rows] == \
           [("person", "2", "person", 1.0, 2.0, None), ("person", "2", "person", 5.0, 5.0, None)]


def test_insights_has_a_lane_per_person_label_keyword_text_and_cue_kind() -> None:
    doc = {**DOC, "objects": [{"label": "car", "start_s": 1.0, "end_s": 3.0, "best_box": [1, 2, 3, 4], "best_t": 2.0},
                              {"label": "dog", "start_s": 4.0, "end_s": 5.0},
                              {"label": "car", "start_s": 6.0, "end_s": 7.0}],
           "texts": [{"text": "EXIT", "start_s": 2.0, "end_s": 2.5}],
           "cues": [{"kind": "black", "start_s": 9.0, "end_s": 10.0}]}
    got = {g["name"]: g["lanes"] for g in insights(doc, {"2": "Grace"})["groups"]}
    assert [(lane["title"], len(lane["items"])) for lane in got["people"]] == [("Grace", 2)]
    assert [(lane["title"], len(lane["items"])) for lane in got["labels"]] == [("car", 2), ("dog", 1)]
    assert got["labels"][0]["items"][0]["box"] == [1.0, 2.0, 3.0, 4.0]
    assert got["labels"][1]["items"][0]["box"] is None
    assert [(i["start_s"], i["end_s"]) for i in got["keywords"][0]["items"]] == [(0.0, 10.0)]  # video-wide
    assert [lane["title"] for lane in got["text"]] == ["EXIT"]
    assert [lane["title"] for lane in got["cues"]] == ["Transcript", "black", "Flagged (nsfw)"]
