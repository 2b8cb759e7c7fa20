"""Packaged ladders play in headless Chromium through the bundled player (hls.js over MSE).

The package folder is served over HTTP; ``player.html?beacon=/beacon`` posts how far playback
got, so the test waits for real playback rather than for the page to load. Needs a Chromium
binary (Debian package ``chromium``; another one can be named in ``VIDLENS_CHROMIUM``).
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vidlens.deliver.ladder import PackageOptions, package

REPO = Path(__file__).resolve().parents[2]


def chromium() -> str:
    exe = os.environ.get("VIDLENS_CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if exe is None:
        pytest.fail("no Chromium found: install the 'chromium' package or set VIDLENS_CHROMIUM")
    return exe


class _Handler(SimpleHTTPRequestHandler):
    beacons: queue.Queue[dict]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.beacons.put(json.loads(body or b"{}"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def play(
    folder: Path,
    want_s: float = 2.0,
    timeout_s: float = 90.0,
    query: str = "",
    until: Callable[[dict], bool] = lambda _b: True,
) -> dict:
    """Open ``player.html`` from ``folder`` in headless Chromium; the beacon once ``want_s`` has played
    and ``until`` holds (or the first error, or the last beacon at the timeout)."""
    beacons: queue.Queue[dict] = queue.Queue()
    handler = type("Handler", (_Handler,), {"beacons": beacons})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/player.html?beacon=/beacon{query}"
    browser = subprocess.Popen(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--mute-audio",
            "--no-first-run",
            "--autoplay-policy=no-user-gesture-required",
            f"--user-data-dir={folder.parent / 'chromium-profile'}",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last: dict = {}
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                last = beacons.get(timeout=1.0)
            except queue.Empty:
                continue
            if last.get("errors") or last.get("played", 0) >= want_s and until(last):
                return last
        return last
    finally:
        browser.kill()
        browser.wait()
        server.shutdown()
        server.server_close()


def test_hls_ladder_of_a_sample_plays_in_chromium(tmp_path):
    """MPEG-1 video with MP2 audio: re-encoded to H.264/AAC, one rung, fMP4 segments."""
    served = tmp_path / "pkg"
    package(REPO / "samples" / "bbaf2n.mpg", served, PackageOptions(speed="ultrafast", player=True))
    got = play(served)
    assert got.get("state") == "playing" and got["played"] >= 2.0, got
    assert (got["width"], got["height"]) == (360, 288)
    assert got["engine"].startswith("hls.js") and got["errors"] == [], got
    assert got["rendition"]["height"] == 288, got


def test_dash_ladder_plays_in_chromium_with_dashjs_and_climbs_renditions(labelled_720p, tmp_path):
    """A DASH-only 3-rung ladder through dash.js: starts on the lowest rendition, ABR switches up."""
    served = tmp_path / "pkg"
    r = package(
        labelled_720p,
        served,
        PackageOptions(
            hls=False, dash=True, speed="ultrafast", segment_seconds=1.0, max_rungs=3, player=True
        ),
    )
    assert [x.name for x in r.renditions] == ["720p", "480p", "360p"]
    assert not (served / "hls.min.js").exists()  # the player carries only the engine it needs
    got = play(served, want_s=3.0, query="&start=lowest", until=lambda b: bool(b.get("switches")))
    assert got.get("errors") == [], got
    assert got["engine"].startswith("dash.js 5.") and got["state"] == "playing", got
    assert got["played"] >= 3.0, got
    assert sorted(x["height"] for x in got["renditions"]) == [360, 480, 720]
    # dash.js rendered the lowest first, then switched up; the picture is the rendition it reports
    assert got["switches"], got
    first = next(x for x in got["renditions"] if x["id"] == got["switches"][0]["from"])
    assert first["height"] == 360, got
    assert (got["width"], got["height"]) == (got["rendition"]["width"], got["rendition"]["height"]), got
    assert got["rendition"]["height"] > 360, got


@pytest.mark.slow
def test_shared_clip_ladder_with_dash_plays_in_chromium(shared_media, tmp_path):
    """Both sides of a combined HLS + DASH package (shared CMAF segments): hls.js and dash.js."""
    served = tmp_path / "pkg"
    r = package(
        shared_media / "shots" / "blender_bbb_0_30.webm",
        served,
        PackageOptions(hls=True, dash=True, speed="ultrafast", max_rungs=2, player=True),
    )
    assert [x.name for x in r.renditions] == ["720p", "480p"]
    assert (served / "manifest.mpd").is_file()
    for query, engine in (("", "hls.js"), ("&src=manifest.mpd", "dash.js")):
        got = play(served, want_s=3.0, query=query)
        assert got.get("state") == "playing" and got["played"] >= 3.0 and got["errors"] == [], got
        assert got["engine"].startswith(engine) and got["height"] in (720, 480), got
        if got["rendition"]["height"] != got["height"]:
            # The player reports a switch as soon as it decides it; the picture follows once the old
            # rendition's buffered segments have played. A mismatch is only fine in that window.
            heights = {x["id"]: x["height"] for x in got.get("renditions", [])}
            last = (got.get("switches") or [None])[-1]
            assert last is not None and heights.get(last["to"]) == got["rendition"]["height"] \
                and heights.get(last["from"]) == got["height"], got


@pytest.mark.timeout(180)
@pytest.mark.parametrize("protocol", ["rtmp", "srt", "rtsp"])
def test_a_live_push_plays_in_chromium(small_clip, tmp_path, protocol):
    """FFmpeg push -> supervisor -> 1 s fMP4 segments -> hls.js low-latency mode plays the live window."""
    import socket

    from vidlens.deliver.latency import publisher_command
    from vidlens.deliver.live import LiveOptions, StreamSupervisor

    with socket.socket(type=socket.SOCK_DGRAM if protocol == "srt" else socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = LiveOptions(name="web", protocol=protocol, port=port, rungs=2, max_height=480)
    out = tmp_path / "live"
    pub = None
    with StreamSupervisor(opts, out):
        try:
            deadline = time.monotonic() + 60
            while not (out / "master.m3u8").is_file() and time.monotonic() < deadline:
                if pub is None or pub.poll() is not None:  # reconnect until the listener takes it
                    pub = subprocess.Popen(
                        publisher_command(small_clip, opts.ingest_url, time.time()), stderr=subprocess.DEVNULL
                    )
                time.sleep(0.5)
            got = play(out, want_s=3.0, query="&live")
        finally:
            if pub is not None:
                pub.kill()
                pub.wait()
    assert got.get("state") == "playing" and got["played"] >= 3.0 and got["errors"] == [], got
    assert got["height"] in (480, 360) and got["rendition"]["height"] == got["height"], got
