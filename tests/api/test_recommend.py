"""Recommendations: the play/like/skip events API, co-occurrence, cold start from content, no near duplicates.

Six small real clips, each with a transcript on one topic (harbour boats, city traffic, cooking), one of
them a re-upload of another's content (the same words: a near duplicate). The tests assert which videos
come and in what order of groups, not scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TOPICS = {
    "harbour-1": ["the ferry leaves the harbour at noon", "boats are moored along the quay"],
    "harbour-2": ["a sailing boat enters the port", "fishermen unload their catch on the pier"],
    "harbour-2-copy": ["a sailing boat enters the port", "fishermen unload their catch on the pier"],
    "traffic-1": ["cars wait at the red light", "a bus turns into the main street"],
    "traffic-2": ["heavy traffic on the motorway at rush hour", "a taxi drives past the crossing"],
    "cooking": ["chop the onions and fry them in butter", "stir the soup and add some salt"],
}


@pytest.fixture
def library(env, tmp_path: Path) -> tuple[object, dict[str, str]]:
    from vidlens.testing.synth import make_cut_clip

    ids = {}
    for i, (name, lines) in enumerate(TOPICS.items()):
        clip = make_cut_clip(tmp_path / f"{name}.mp4", w=160 + 16 * i)[0]
        vid = env.upload(clip, name=f"{name}.mp4")["video_id"]
        env.store_results(vid, {"speech": {"transcript": [
            {"text": t, "start_s": 2.0 * k, "end_s": 2.0 * k + 2.0, "language": "en"} for k, t in enumerate(lines)]}})
        ids[name] = vid
    return env, ids


def event(env, user: str, video: str, kind: str, status: int = 201) -> dict:
    r = env.client.post("/api/events", json={"user": user, "video_id": video, "kind": kind},
                        headers=env.auth("viewer"))
    assert r.status_code == status, r.text
    return r.json()


def recommend(env, user: str, ids: dict[str, str], limit: int = 10) -> tuple[list[str], dict]:
    r = env.client.get("/api/recommendations", params={"user": user, "limit": limit}, headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    by_id = {v: k for k, v in ids.items()}
    body = r.json()
    return [by_id[v["video_id"]] for v in body["videos"]], body


def test_events_are_recorded_and_bad_ones_refused(library) -> None:
    env, ids = library
    got = event(env, "viewer-1", ids["cooking"], "like")
    assert (got["user"], got["video_id"], got["kind"]) == ("viewer-1", ids["cooking"], "like") and got["id"] >= 1
    assert event(env, "viewer-1", ids["cooking"], "love", 422)
    assert event(env, "viewer 1; DROP", ids["cooking"], "play", 422)  # user ids are plain tokens
    assert event(env, "viewer-1", "f" * 64, "play", 404)["error"]["code"] == "not_found"
    r = env.client.post("/api/events", json={"user": "viewer-1", "video_id": ids["cooking"], "kind": "play"})
    assert r.status_code == 401  # a caller must be identified
    r = env.client.get("/api/recommendations", params={"user": ""}, headers=env.auth("viewer"))
    assert r.status_code == 422


def test_a_new_viewer_gets_the_most_watched_without_near_duplicates(library) -> None:
    env, ids = library
    for user in ("a", "b", "c"):
        event(env, user, ids["harbour-2"], "play")
        event(env, user, ids["harbour-2-copy"], "play")
    event(env, "a", ids["traffic-1"], "play")
    event(env, "b", ids["traffic-1"], "like")
    order, body = recommend(env, "newcomer", ids)
    assert body["cold_start"] is True
    # harbour-2 and its copy are the most watched, but a list holds only one of them
    assert order[0] in ("harbour-2", "harbour-2-copy") and order[1] == "traffic-1"
    assert not {"harbour-2", "harbour-2-copy"} <= set(order)
    assert len(order) == len(TOPICS) - 1


def test_behaviour_and_content_both_lead_to_the_next_video(library) -> None:
    env, ids = library
    # three viewers who liked harbour-1 also played cooking: item-to-item co-occurrence
    for user in ("p", "q", "r"):
        event(env, user, ids["harbour-1"], "like")
        event(env, user, ids["cooking"], "play")
    event(env, "me", ids["harbour-1"], "like")
    order, body = recommend(env, "me", ids)
    assert body["cold_start"] is False and "harbour-1" not in order
    cooking = next(v for v in body["videos"] if v["video_id"] == ids["cooking"])
    assert {"signal": "behaviour", "video_id": ids["harbour-1"]}.items() <= next(
        b for b in cooking["because"] if b["signal"] == "behaviour").items()
    # harbour-2 has no events at all (cold start of an item): content alone puts it before the traffic clips
    harbour = order.index("harbour-2") if "harbour-2" in order else order.index("harbour-2-copy")
    assert harbour < order.index("traffic-1") and harbour < order.index("traffic-2")
    assert order.index("cooking") < order.index("traffic-1")


def test_a_skip_pushes_its_kind_down(library) -> None:
    env, ids = library
    event(env, "s", ids["harbour-1"], "play")
    event(env, "s", ids["traffic-1"], "skip")
    order, _ = recommend(env, "s", ids)
    assert "traffic-1" not in order  # met (skipped) already
    assert order.index("traffic-2") == len(order) - 1  # like what was skipped: last


def test_cli_event_and_recommend(library, capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.cli.app import inner_main

    env, ids = library
    data = ["--data-dir", str(env.platform.data_dir)]
    assert inner_main(["event", ids["traffic-1"], "like", "--user", "cli-viewer", "--json", *data]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "like"
    assert inner_main(["event", ids["traffic-1"], "hate", "--user", "cli-viewer", *data]) == 2
    assert "play, like, skip" in capsys.readouterr().err
    assert inner_main(["recommend", "--user", "cli-viewer", "--json", "--limit", "2", *data]) == 0
    body = json.loads(capsys.readouterr().out)
    assert list(body) == ["user", "cold_start", "videos"] and len(body["videos"]) == 2
    assert body["videos"][0]["video_id"] == ids["traffic-2"]  # the same topic as the liked clip
