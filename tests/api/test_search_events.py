"""Find over camera events: what Watch stores becomes a searchable moment, with a link to the event's clip.

Events go in through Watch's own store (``WatchEvents.add``/``end``/``set_clip``/``review``, as the
supervisor calls them), with a real clip and a real snapshot on disk; they come out of the same search
service, API and CLI as the moments of videos.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.api.test_search import DOCS, search, texts
from vidlens.watch.pipeline import write_snapshot


def _event(eid: str, type_: str, label: str, track: int, start: float, **more: object) -> dict:
    return {"id": eid, "camera": "lobby", "type": type_, "label": label, "track_id": track, "start": start,
            "end": None, "box": [0.1, 0.1, 0.3, 0.6], "score": 0.8, "data": {}, **more}


@pytest.fixture
def watched(env, synth_clip: Path, samples: Path):
    """A library video (the harbour) and a lobby camera: a person walks in through the door, a car passes."""
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    env.store_results(vid, DOCS)
    events = env.platform.service("watch_events")
    cam = events.root / "lobby"
    frame = np.full((360, 640, 3), 90, np.uint8)
    snap = write_snapshot(cam / "snapshots" / "p1.jpg", frame, np.array([64, 36, 192, 216]), "person")
    events.add(_event("p1", "object", "person", 7, 10.0, snapshot=snap))
    events.add(_event("z1", "zone_enter", "person", 7, 11.5, zone="door", end=11.5))
    events.add(_event("c1", "line_cross", "car", 9, 30.0, line="gate", direction="in", end=30.0))
    events.end("p1", 14.0)
    (cam / "clips").mkdir(parents=True)
    shutil.copy(samples / "blender_caminandes_10s.mp4", cam / "clips" / "p1.mp4")
    events.set_clip("p1", "p1.mp4")
    return env, vid, events


def _events(body: dict) -> list[dict]:
    return [h for h in body["hits"] if h["source"] == "event"]


def test_an_event_is_a_moment_with_its_camera_zone_track_and_clip(watched) -> None:
    env, _, _ = watched
    body = search(env, "door", rankers="words")
    [hit] = _events(body)
    assert hit["video_id"] is None and hit["path"] is None and hit["duration"] is None
    assert (hit["start"], hit["end"]) == (11.5, 11.5)
    assert hit["evidence"][0]["kind"] == "event" and hit["evidence"][0]["text"] == \
        "person enters zone door on camera lobby"
    ev = hit["event"]
    assert (ev["id"], ev["camera"], ev["type"], ev["zone"], ev["track_id"]) == ("z1", "lobby", "zone_enter", "door", 7)
    assert ev["at"] > 0 and ev["snapshot"] is None
    # the zone event has no clip of its own: it links the clip of its track's object event, which spans it
    assert ev["clip"] == "/api/watch/events/p1/clip.mp4"
    part = env.client.get(ev["clip"], headers={**env.auth("viewer"), "Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100

    person = next(h for h in _events(search(env, "person", rankers="words")) if h["event"]["id"] == "p1")
    assert (person["start"], person["end"]) == (10.0, 14.0)  # ended after it was stored: the moment follows
    assert person["event"]["snapshot"] == "/api/watch/events/p1/snapshot.jpg"
    jpg = env.client.get(person["event"]["snapshot"], headers=env.auth("viewer"))
    assert jpg.status_code == 200 and jpg.content[:2] == b"\xff\xd8"


def test_events_and_videos_in_one_list_with_filters(watched) -> None:
    env, vid, _ = watched
    # "car": the camera's car crossing the gate and the video's Chinese car sentence (by meaning)
    body = search(env, "car", limit=50)
    sources = {h["source"] for h in body["hits"]}
    assert sources == {"video", "event"}
    assert "car crosses line gate (in) on camera lobby" in texts(body)
    only = search(env, "car", source="event")
    assert only["hits"] and all(h["source"] == "event" for h in only["hits"])
    assert all(h["source"] == "video" for h in search(env, "car", source="video")["hits"])
    assert search(env, "car", camera="elsewhere")["hits"] == []
    labelled = search(env, "lobby", label="car", rankers="words")
    assert [h["event"]["id"] for h in labelled["hits"]] == ["c1"]  # an event is about its own label
    assert all(h["video_id"] == vid for h in search(env, "car", video_id=vid)["hits"])
    assert search(env, "car", source="camera", status=422)


def test_a_false_positive_is_no_longer_found_and_a_clip_arrives_later(watched) -> None:
    env, _, events = watched
    assert [h["event"]["id"] for h in _events(search(env, "gate", rankers="words"))] == ["c1"]
    events.review("c1", "false_positive")
    assert _events(search(env, "gate", rankers="words")) == []
    events.review("c1", None)  # cleared: found again
    [hit] = _events(search(env, "gate", rankers="words"))
    assert hit["event"]["clip"] is None  # a car's crossing with no object event clip yet
    cam = events.root / "lobby" / "clips"
    shutil.copy(cam / "p1.mp4", cam / "c1.mp4")
    events.set_clip("c1", "c1.mp4")
    [hit] = _events(search(env, "gate", rankers="words"))
    assert hit["event"]["clip"] == "/api/watch/events/c1/clip.mp4"


def test_cli_json_and_page_show_events(watched, capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.cli.app import inner_main

    env, _, _ = watched
    assert inner_main(["search", "door", "--json", "--source", "event",
                       "--data-dir", str(env.platform.data_dir)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert all(list(h) == ["video_id", "path", "start", "end", "score", "evidence", "event"] for h in body["hits"])
    hit = body["hits"][0]  # the zone event by its word (the other events may follow by meaning)
    assert hit["event"]["id"] == "z1" and hit["video_id"] is None
    assert hit["event"]["clip"] == "/api/watch/events/p1/clip.mp4" and hit["event"]["camera"] == "lobby"
    page = env.client.get("/search", params={"q": "door"}, headers=env.auth("viewer"))
    assert page.status_code == 200
    assert 'data-camera="lobby"' in page.text and 'data-clip="/api/watch/events/p1/clip.mp4"' in page.text
    assert 'href="/api/watch/events/p1/clip.mp4"' in page.text


def test_reindex_indexes_events_stored_before_their_moments_existed(env, capsys: pytest.CaptureFixture[str]) -> None:
    """Events stored by a Watch that had no moments projection (before search_0003) become moments on
    ``vidlens reindex``; naming videos rebuilds only those videos."""
    from vidlens.cli.app import inner_main
    from vidlens.watch.events import WatchEvents

    old_watch = WatchEvents(env.platform.store, env.platform.service("watch_events").root)  # no projections
    old_watch.add(_event("z1", "zone_enter", "person", 7, 11.5, zone="door", end=11.5))
    old_watch.add(_event("c1", "line_cross", "car", 9, 30.0, line="gate", direction="in", end=30.0))
    assert search(env, "door gate", rankers="words")["hits"] == []
    data = ["--data-dir", str(env.platform.data_dir)]

    assert inner_main(["reindex", "--json", "-p", "nonesuch", *data]) != 0
    assert "event_moments" in capsys.readouterr().err  # the error names the projections there are
    assert inner_main(["reindex", "--json", *data]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["records"] == {"watch_event": 2} and "event_moments" in out["projections"]
    body = search(env, "door gate", rankers="words")
    assert sorted(h["event"]["id"] for h in _events(body)) == ["c1", "z1"]

    assert inner_main(["reindex", "-p", "event_moments", *data]) == 0  # again: the same two, not doubled
    assert "2 watch_event record(s) re-projected" in capsys.readouterr().out
    assert len(_events(search(env, "door gate", rankers="words"))) == 2

