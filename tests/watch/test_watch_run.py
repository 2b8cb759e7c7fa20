"""Watch on a real surveillance clip through the CLI: events, snapshots, clips and MQTT to a real mosquitto."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.watch.conftest import Broker, events, ffmpeg, vidlens

pytestmark = pytest.mark.slow
KEYS = ["id", "camera", "type", "label", "track_id", "start", "end", "zone", "line", "direction", "snapshot", "clip"]


@pytest.fixture(scope="module")
def car_park(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of the aerial car park where people, a bicycle and cars move (from 22 s of the clip)."""
    out = tmp_path_factory.mktemp("clips") / "car_park.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-ss", "22", "-t", "12", "-i",
                    str(shared_media / "surveillance" / "intel_person-bicycle-car-detection.mp4"), "-an",
                    "-c:v", "libx264", "-preset", "veryfast", "-g", "25", str(out)], check=True)
    return out


def _config(path: Path, source: Path | None, broker: Broker | None) -> Path:
    lines = ["cameras:"]
    if source is not None:
        lines += ["  park:", f"    source: {source}", "    detect: {fps: 4, objects: [person, car, bicycle]}",
                  "    lines: {middle: [[0.0, 0.5], [1.0, 0.5]]}",
                  "    zones: {left: {polygon: [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}}",
                  "    record: {pre_s: 1, post_s: 1, segment_s: 2}"]
    else:
        lines[0] = "cameras: {}"
    if broker is not None:
        lines += ["mqtt:", "  host: 127.0.0.1", f"  port: {broker.port}"]
    path.write_text("\n".join(lines) + "\n")
    return path


class Subscriber:
    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.got: list[tuple[str, bytes, float]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.got.append((m.topic, m.payload, time.time()))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("vidlens/#", qos=1)
        self.client.loop_start()
        time.sleep(0.3)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.got if t == "vidlens/events"]


def _clip_seconds(path: str) -> float:
    import av

    with av.open(path) as c:
        s = c.streams.video[0]
        return float(s.duration * s.time_base) if s.duration else float(c.duration / 1e6)


def test_events_snapshots_clips_and_mqtt(car_park: Path, broker: Broker, tmp_path: Path) -> None:
    import cv2

    broker.start()
    sub = Subscriber(broker.port)
    data = tmp_path / "data"
    run = vidlens("watch", "run", str(_config(tmp_path / "c.yml", car_park, broker)), "--until-eof", "--fast",
                  "--json", data_dir=data)
    summary = json.loads(run.stdout)["cameras"]["park"]
    assert summary["state"] == "done" and summary["restarts"] == 0 and summary["frames"] >= 40
    found = events(data)
    assert found and all(list(e) == KEYS for e in found)
    objects = [e for e in found if e["type"] == "object"]
    assert {e["label"] for e in objects} >= {"person", "car"}
    assert len({e["track_id"] for e in objects}) == len(objects)  # one object event per track
    for e in objects:
        assert 0 <= e["start"] <= e["end"] <= 12.5
        img = cv2.imread(e["snapshot"])
        assert img is not None and img.shape[:2] == (432, 768)
        assert e["clip"] and e["clip"].endswith(".mp4")
        # stream copy starts on the keyframe before the pre-roll: one every 25 frames, 25/12 s at this clip's
        # 12 fps, so the clip may begin up to that much before it (plus a frame)
        gop = 25 / 12
        assert (e["end"] - e["start"]) <= _clip_seconds(e["clip"]) <= (e["end"] - e["start"]) + 1 + 1 + gop + 0.1
    assert not list(data.glob("watch/park/clips/.*"))  # nothing half-written left behind
    assert any(e["type"] in ("zone_enter", "line_cross") for e in found)
    camera_only = events(data, "--camera", "nope")
    assert camera_only == []
    time.sleep(1.0)
    sub.close()
    new = [m["after"]["id"] for m in sub.events() if m["type"] == "new"]
    assert sorted(new) == sorted(e["id"] for e in found)  # every stored event was alerted, once
    ends = {m["after"]["id"] for m in sub.events() if m["type"] == "end"}
    assert ends == {e["id"] for e in objects}
    first = next(m["after"] for m in sub.events() if m["after"]["type"] == "object")
    assert first["snapshot_url"].endswith(f"/api/watch/events/{first['id']}/snapshot.jpg")
    assert first["clip_url"].endswith(f"/api/watch/events/{first['id']}/clip.mp4")
    snaps = [p for t, p, _ in sub.got if t.startswith("vidlens/park/") and t.endswith("/snapshot")]
    assert snaps and all(p[:2] == b"\xff\xd8" for p in snaps)
    counts = [t for t, _, _ in sub.got if t.startswith("vidlens/park/middle/")]
    assert len(counts) == sum(1 for e in found if e["type"] == "line_cross")


def test_a_broker_that_is_down_loses_nothing(car_park: Path, broker: Broker, tmp_path: Path) -> None:
    data = tmp_path / "data"
    vidlens("watch", "run", str(_config(tmp_path / "c.yml", car_park, broker)), "--until-eof", "--fast",
            data_dir=data)  # the broker is not running: alerts wait in the outbox
    stored = events(data)
    db = sqlite3.connect(data / "vidlens.db")
    waiting = db.execute("select count(*) from watch_outbox where delivered_at is null").fetchone()[0]
    assert stored and waiting >= len(stored)
    broker.start()
    sub = Subscriber(broker.port)
    vidlens("watch", "run", str(_config(tmp_path / "none.yml", None, broker)), "--duration", "1", data_dir=data)
    time.sleep(0.5)
    sub.close()
    assert db.execute("select count(*) from watch_outbox where delivered_at is null").fetchone()[0] == 0
    assert sorted(m["after"]["id"] for m in sub.events() if m["type"] == "new") == sorted(e["id"] for e in stored)


def test_webhooks_are_signed_and_retried(car_park: Path, tmp_path: Path) -> None:
    import hashlib
    import hmac
    from http.server import BaseHTTPRequestHandler, HTTPServer

    got: list[tuple[bytes, str]] = []
    refused = {"n": 0}

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if refused["n"] < 2:  # the receiver is down for its first two calls
                refused["n"] += 1
                self.send_response(503)
            else:
                got.append((body, self.headers["X-VidLens-Signature"]))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = _config(tmp_path / "c.yml", car_park, None)
    cfg.write_text(cfg.read_text() + f"webhooks:\n  - url: http://127.0.0.1:{server.server_port}/hook\n"
                                     "    secret: s3cret\n    types: [object]\n")
    data = tmp_path / "data"
    vidlens("watch", "run", str(cfg), "--until-eof", "--fast", data_dir=data)
    server.shutdown()
    objects = [e for e in events(data) if e["type"] == "object"]
    assert refused["n"] == 2 and objects
    for body, sig in got:
        assert sig == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    news = [json.loads(b)["event"]["id"] for b, _ in got if json.loads(b)["type"] == "new"]
    assert sorted(news) == sorted(e["id"] for e in objects)  # each delivered once, in spite of the two refusals
