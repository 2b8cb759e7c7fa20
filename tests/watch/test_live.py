"""Live sources for real: an RTSP server killed and restarted mid-stream, an RTMP push into VidLens, a
camera process killed; and faults (a camera that never answers, garbage, a resolution change) that
leave the other cameras working."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.watch.conftest import RtspServer, events, ffmpeg, free_port, start_vidlens, stop, vidlens

pytestmark = pytest.mark.slow


def _summary(proc: subprocess.Popen[str], timeout: float = 120) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out)["cameras"]


def _children(pid: int) -> list[int]:
    """Camera processes of the supervisor ``pid`` (spawned children that are not multiprocessing's tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            found.append(int(entry))
    return found


def test_rtsp_server_killed_and_restarted_mid_stream(rtsp_server: RtspServer, tmp_path: Path) -> None:
    rtsp_server.start()
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"cameras:\n  lobby:\n    source: {rtsp_server.url}\n    rtsp_transport: udp\n"
                   "    detect: {fps: 2}\n    record: {segment_s: 2}\nrestart_backoff_s: 1\n")
    data = tmp_path / "data"
    proc = start_vidlens("watch", "run", str(cfg), "--duration", "56", "--json", data_dir=data)
    time.sleep(22)
    rtsp_server.stop()  # the server goes away mid-stream
    time.sleep(6)
    rtsp_server.start()  # ... and comes back, with the clip from its start
    summary = _summary(proc)["lobby"]
    assert summary["restarts"] == 0 and summary["frames"] > 40
    found = events(data)
    offline = [e for e in found if e["type"] == "camera_offline"]
    assert len(offline) == 1 and offline[0]["end"] is not None and offline[0]["end"] > offline[0]["start"]
    objects = [e for e in found if e["type"] == "object"]
    # the clip shows its first person from 6.4 s: once before the kill, once after the restart
    assert any(e["start"] < offline[0]["start"] for e in objects), [(e["type"], e["start"], e["end"]) for e in found] + [_reasons(data)]
    assert any(e["start"] > offline[0]["end"] for e in objects), found


def _listening(port: int) -> bool:
    """A socket listens on ``port`` (read from /proc: connecting would use up the listener's one call)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(r.split()[1].endswith(f":{port:04X}") and r.split()[3] == "0A" for r in rows)


def test_rtmp_push_into_vidlens(shared_media: Path, tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"cameras:\n  gate:\n    source: rtmp://127.0.0.1:{port}/live/gate\n    listen: true\n"
                   "    detect: {fps: 2}\n")
    data = tmp_path / "data"
    proc = start_vidlens("watch", "run", str(cfg), "--duration", "40", "--json", data_dir=data)
    clip = shared_media / "surveillance" / "intel_one-by-one-person-detection.mp4"
    pusher = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _listening(port):  # once its camera process is up
        time.sleep(0.2)
    try:
        pusher = subprocess.Popen([ffmpeg(), "-v", "error", "-re", "-t", "22", "-i", str(clip), "-an", "-c", "copy",
                                   "-f", "flv", f"rtmp://127.0.0.1:{port}/live/gate"])
        pusher.wait(60)
    finally:
        stop(pusher)
    summary = _summary(proc)["gate"]
    assert summary["frames"] >= 30 and summary["restarts"] == 0
    objects = [e for e in events(data) if e["type"] == "object"]
    assert objects and all(e["label"] == "person" for e in objects)


def test_faults_leave_the_other_cameras_working(shared_media: Path, tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(300_000))
    parts = []
    for i, size in enumerate(("640x360", "320x180")):  # the resolution changes mid-stream
        part = tmp_path / f"part{i}.ts"
        subprocess.run([ffmpeg(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10:duration=3",
                        "-c:v", "libx264", "-g", "10", "-f", "mpegts", str(part)], check=True)
        parts.append(part.read_bytes())
    resized = tmp_path / "resized.ts"
    resized.write_bytes(b"".join(parts))
    good = shared_media / "surveillance" / "intel_one-by-one-person-detection.mp4"
    cfg = tmp_path / "c.yml"
    cfg.write_text("cameras:\n"
                   f"  good: {{source: {good}, detect: {{fps: 1}}}}\n"
                   f"  silent: {{source: 'rtsp://127.0.0.1:{silent.getsockname()[1]}/x', detect: {{fps: 2}}}}\n"
                   f"  garbage: {{source: {garbage}, detect: {{fps: 2}}}}\n"
                   f"  resized: {{source: {resized}, detect: {{fps: 5}}}}\n")
    data = tmp_path / "data"
    try:
        proc = start_vidlens("watch", "run", str(cfg), "--until-eof", "--fast", "--duration", "150", "--json",
                             data_dir=data)
        summary = _summary(proc, timeout=240)
    finally:
        silent.close()
    assert summary["good"]["state"] == "done" and summary["resized"]["state"] == "done"
    assert summary["resized"]["frames"] >= 25 and summary["resized"]["restarts"] == 0
    assert all(s["restarts"] == 0 for s in summary.values())
    found = events(data)
    assert [e["label"] for e in found if e["camera"] == "good" and e["type"] == "object"].count("person") >= 3
    reasons = {e["camera"]: e for e in found if e["type"] == "camera_offline"}
    assert set(reasons) == {"silent", "garbage"}
    detail = {c: vidlens("watch", "events", "--camera", c, "--type", "camera_offline", data_dir=data).stdout
              for c in reasons}
    assert detail  # the reasons are in the event's data: the API shows them
    db_reasons = _reasons(data)
    assert "no answer within" in db_reasons["silent"]
    assert "invalid data" in db_reasons["garbage"].lower() or "does not decode" in db_reasons["garbage"]


def _reasons(data: Path) -> dict[str, str]:
    import sqlite3

    rows = sqlite3.connect(data / "vidlens.db").execute(
        "select camera, data from watch_events where type = 'camera_offline'").fetchall()
    return {cam: json.loads(d)["reason"] for cam, d in rows}


def test_a_crashed_camera_process_is_restarted(shared_media: Path, tmp_path: Path) -> None:
    clip = shared_media / "surveillance" / "intel_one-by-one-person-detection.mp4"
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"cameras:\n  a: {{source: {clip}, detect: {{fps: 1}}}}\n  b: {{source: {clip}, detect: {{fps: 1}}}}\n"
                   "restart_backoff_s: 0.5\n")
    data = tmp_path / "data"
    proc = start_vidlens("watch", "run", str(cfg), "--duration", "30", "--json", data_dir=data)
    deadline = time.monotonic() + 20
    kids: list[int] = []
    while len(kids) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        kids = _children(proc.pid)
    assert len(kids) == 2
    time.sleep(5)
    os.kill(kids[0], signal.SIGKILL)  # one camera's process dies as a decoder crash would kill it
    threading.Event().wait(3)
    assert len(_children(proc.pid)) == 2  # restarted; the other never stopped
    summary = _summary(proc)
    assert sorted(s["restarts"] for s in summary.values()) == [0, 1]
    crashed = [e for e in events(data) if e["type"] == "camera_offline"]
    assert len(crashed) == 1
    assert "died" in _reasons(data)[crashed[0]["camera"]]
