"""Watch over HTTP and on the Watch page: events newest first, snapshot, clip (Range), review, live picture."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.api.conftest import Env, make_env
from vidlens.watch.camera import write_latest
from vidlens.watch.pipeline import write_snapshot


def _event(eid: str, type_: str, start: float, snapshot: str | None) -> dict:
    return {"id": eid, "camera": "lobby", "type": type_, "label": "person", "track_id": 1, "start": start,
            "end": None, "snapshot": snapshot, "box": [0.1, 0.1, 0.3, 0.6], "score": 0.8, "data": {}}


def test_events_snapshot_clip_review_and_page(tmp_path: Path, samples: Path) -> None:
    gen = make_env(tmp_path)
    env: Env = next(gen)
    try:
        events = env.platform.service("watch_events")
        cam = events.root / "lobby"
        frame = np.full((360, 640, 3), 90, np.uint8)
        snap = write_snapshot(cam / "snapshots" / "a1.jpg", frame, np.array([64, 36, 192, 216]), "person")
        events.add(_event("a1", "object", 1.5, snap))
        events.add(_event("b2", "zone_enter", 2.0, None))
        events.end("a1", 4.0)
        (cam / "clips").mkdir(parents=True)
        shutil.copy(samples / "blender_caminandes_10s.mp4", cam / "clips" / "a1.mp4")
        events.set_clip("a1", "a1.mp4")
        viewer, reviewer = env.auth("viewer"), env.auth("reviewer")

        r = env.client.get("/api/watch/events", headers=viewer)
        assert r.status_code == 200
        got = r.json()["events"]
        assert [e["id"] for e in got] == ["b2", "a1"]  # newest first
        a1 = got[1]
        assert a1["end"] == 4.0 and a1["snapshot"] == "/api/watch/events/a1/snapshot.jpg"
        assert a1["clip"] == "/api/watch/events/a1/clip.mp4" and got[0]["snapshot"] is None
        assert env.client.get("/api/watch/events?type=zone_enter", headers=viewer).json()["events"][0]["id"] == "b2"

        jpg = env.client.get(a1["snapshot"], headers=viewer)
        assert jpg.status_code == 200 and jpg.headers["content-type"] == "image/jpeg" and jpg.content[:2] == b"\xff\xd8"
        part = env.client.get(a1["clip"], headers={**viewer, "Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        assert env.client.get("/api/watch/events/b2/clip.mp4", headers=viewer).status_code == 404
        assert env.client.get("/api/watch/events/nope", headers=viewer).status_code == 404

        body = {"review": "false_positive"}
        assert env.client.post("/api/watch/events/a1/review", json=body, headers=viewer).status_code == 403
        r = env.client.post("/api/watch/events/a1/review", json=body, headers=reviewer)
        assert r.status_code == 200 and r.json()["review"] == "false_positive"
        assert env.client.post("/api/watch/events/a1/review", json={"review": "maybe"},
                               headers=reviewer).status_code == 422

        assert env.client.get("/api/watch/cameras/lobby/latest.jpg", headers=viewer).status_code == 404
        write_latest(cam / "latest.jpg", frame)
        live = env.client.get("/api/watch/cameras/lobby/latest.jpg", headers=viewer)
        assert live.status_code == 200 and live.headers["cache-control"] == "no-store"

        page = env.client.get("/watch", headers=viewer)
        assert page.status_code == 200 and 'data-event="a1"' in page.text and 'data-camera="lobby"' in page.text
        one = env.client.get("/watch/events/a1", headers=viewer)
        assert one.status_code == 200 and 'src="/api/watch/events/a1/clip.mp4"' in one.text
        assert "false_positive" in one.text
    finally:
        next(gen, None)


def test_live_restream_files_and_the_camera_page(tmp_path: Path) -> None:
    gen = make_env(tmp_path)
    env: Env = next(gen)
    try:
        events = env.platform.service("watch_events")
        live = events.root / "lobby" / "live"
        viewer = env.auth("viewer")
        assert env.client.get("/api/watch/cameras/lobby/live/master.m3u8", headers=viewer).status_code == 404
        assert 'id="live-video"' not in env.client.get("/watch?camera=lobby", headers=viewer).text
        (live / "360p").mkdir(parents=True)
        (live / "master.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n")
        (live / "360p" / "seg_000001.m4s").write_bytes(b"\0" * 64)
        write_latest(events.root / "lobby" / "latest.jpg", np.full((360, 640, 3), 90, np.uint8))

        r = env.client.get("/api/watch/cameras/lobby/live/master.m3u8", headers=viewer)
        assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert r.headers["cache-control"] == "no-store"
        r = env.client.get("/api/watch/cameras/lobby/live/360p/seg_000001.m4s", headers=viewer)
        assert r.status_code == 200 and r.headers["content-type"] == "video/iso.segment" and len(r.content) == 64
        for bad in ("%2e%2e/latest.jpg", "360p/%2e%2e/%2e%2e/latest.jpg", "360p/other.txt"):
            assert env.client.get(f"/api/watch/cameras/lobby/live/{bad}", headers=viewer).status_code == 404
        assert env.client.get("/api/watch/cameras/lobby/live/master.m3u8").status_code == 401

        page = env.client.get("/watch?camera=lobby", headers=viewer)
        assert 'id="live-video"' in page.text
        assert 'data-src="/api/watch/cameras/lobby/live/master.m3u8"' in page.text
        assert "media-src 'self' blob:" in page.headers["content-security-policy"]  # MediaSource plays it
    finally:
        next(gen, None)
