"""The govern face watch-list on live cameras: a listed face seen by a camera that opted in is a
``watchlist`` alert over MQTT (a real mosquitto) and a webhook, with the entry's reason, a snapshot and
an audit entry; a camera that did not opt in and another person's face raise nothing. A list changed
while cameras run reaches them, and a sighting of an entry removed meanwhile is dropped."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.watch.conftest import Broker, events, vidlens
from tests.watch.test_watch_run import Subscriber

pytestmark = pytest.mark.slow
REASON = "impersonation reports"


class _Hook(BaseHTTPRequestHandler):
    got: list[dict[str, Any]]

    def do_POST(self) -> None:  # noqa: N802
        self.got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_a_listed_face_on_a_camera_is_alerted_with_its_reason(shared_media: Path, broker: Broker,
                                                              tmp_path: Path) -> None:
    grid = sorted((shared_media / "av_speech_grid").glob("*.mpg"))
    data = tmp_path / "data"
    entry = json.loads(vidlens("watchlist", "add", str(grid[0]), "--name", "B. Speaker", "--reason", REASON,
                               "--json", data_dir=data).stdout)
    broker.start()
    sub = Subscriber(broker.port)
    hook = type("Hook", (_Hook,), {"got": []})
    server = HTTPServer(("127.0.0.1", 0), hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cam = "detect: {fps: 2}, record: {enabled: false}"
    cfg = tmp_path / "c.yml"
    cfg.write_text("cameras:\n"
                   f"  door: {{source: {grid[0]}, {cam}, watchlist: true}}\n"  # the listed person, opted in
                   f"  hall: {{source: {grid[1]}, {cam}, watchlist: true}}\n"  # someone else
                   f"  desk: {{source: {grid[0]}, {cam}}}\n"  # the listed person, not opted in
                   f"mqtt: {{host: 127.0.0.1, port: {broker.port}}}\n"
                   f"webhooks:\n  - {{url: 'http://127.0.0.1:{server.server_port}/hook', types: [watchlist]}}\n")
    vidlens("watch", "run", str(cfg), "--until-eof", "--fast", data_dir=data)
    server.shutdown()
    sub.close()

    found = [e for e in events(data) if e["type"] == "watchlist"]
    assert found and {(e["camera"], e["label"]) for e in found} == {("door", "B. Speaker")}
    assert all(e["snapshot"] and Path(e["snapshot"]).read_bytes()[:2] == b"\xff\xd8" for e in found)
    ids = {e["id"] for e in found}

    alerts = [m["after"] for m in sub.events() if m["type"] == "new" and m["after"]["type"] == "watchlist"]
    assert {a["id"] for a in alerts} == ids
    for a in alerts:
        assert a["match"] == {"ref": entry["entry_id"], "source": "watchlist", "score": a["match"]["score"],
                              "reason": REASON}
        assert a["snapshot_url"].endswith(f"/api/watch/events/{a['id']}/snapshot.jpg")
    snaps = [p for t, p, _ in sub.got if t == "vidlens/door/watchlist/snapshot"]
    assert snaps and all(p[:2] == b"\xff\xd8" for p in snaps)
    hooked = [m["event"] for m in hook.got if m["type"] == "new"]
    assert {h["id"] for h in hooked} == ids and all(h["match"]["reason"] == REASON for h in hooked)

    log = json.loads(vidlens("audit", "list", "--action", "watchlist.seen", "--json", data_dir=data).stdout)
    seen = log["entries"]
    assert {(s["subject"], s["detail"]["event"]) for s in seen} == {(f"watchlist:{entry['entry_id']}", i) for i in ids}
    assert all(s["actor"] == "watch:door" and s["detail"]["camera"] == "door" for s in seen)
    assert json.loads(vidlens("audit", "verify", "--json", data_dir=data).stdout)["ok"]


def test_a_list_changed_while_cameras_run(shared_media: Path, tmp_path: Path) -> None:
    """The supervisor sends a changed list to the cameras that opted in, and drops a removed entry's sighting."""
    from vidlens.platform import Platform
    from vidlens.settings import load_settings
    from vidlens.watch.faces import WATCHLIST, KnownFaces, audit_sighting
    from vidlens.watch.settings import WatchSettings
    from vidlens.watch.supervisor import Supervisor

    grid = sorted((shared_media / "av_speech_grid").glob("*.mpg"))
    platform = Platform.from_settings(load_settings(data_dir=tmp_path / "data"))
    try:
        wl = platform.service("watchlist")
        events_ = platform.service("watch_events")
        events_.audit = audit_sighting
        settings = WatchSettings.model_validate({"cameras": {
            "door": {"source": str(grid[0]), "watchlist": True}, "desk": {"source": str(grid[0])}}})
        sup = Supervisor(settings, events_, events_.root, watchlist=wl)
        assert sup.cameras["door"].job.face_matchers == () and sup.cameras["desk"].inbox is None

        entry = wl.add(grid[0], name="B. Speaker", reason=REASON, actor="test")
        sup._follow_watchlist()
        msg = sup.cameras["door"].inbox.get(timeout=10)
        assert msg["source"] == WATCHLIST and isinstance(msg["faces"], KnownFaces)
        assert set(msg["faces"].refs) == {entry.id} and msg["faces"].reasons == {entry.id: REASON}
        assert [type(m) for m in sup.cameras["door"].job.face_matchers] == [KnownFaces]  # a restart starts with it

        sighting = {"id": "e1", "camera": "door", "type": "watchlist", "label": "B. Speaker", "track_id": 1,
                    "start": 1.0, "end": 1.0, "score": 0.9, "received": None,
                    "data": {"match": {"ref": entry.id, "source": WATCHLIST, "score": 0.9, "reason": REASON}}}
        sup._store(sighting)
        wl.remove(entry.id, reason="cleared", actor="test")
        sup._follow_watchlist()
        assert sup.cameras["door"].inbox.get(timeout=10)["faces"] is None
        sup._store({**sighting, "id": "e2"})  # seen before the camera had the new list: not alerted
        assert [e["id"] for e in events_.list()] == ["e1"]
    finally:
        platform.close()
