"""A camera restreamed as low-latency HLS (``live: true``) plays on its Watch page in a real Chromium.

A real RTSP server sends a surveillance clip; ``vidlens watch run`` watches it and Deliver's live
transcoder pulls it a second time into 1-second fMP4 segments; ``vidlens serve`` serves them under
``/api/watch/cameras/<camera>/live/`` and the page plays them with hls.js. Stopping the run ends the
playlists.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser import chromium, login, page_errors
from tests.watch.conftest import RtspServer, start_vidlens, stop
from vidlens.api.serverproc import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "restream-test-password"
PAGE_TIMEOUT_MS = 120_000  # a deadline on a shared machine, not a timing


def test_a_camera_restream_plays_on_its_page(rtsp_server: RtspServer, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    rtsp_server.start()
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"cameras:\n  lobby:\n    source: {rtsp_server.url}\n    rtsp_transport: udp\n"
                   "    detect: {fps: 1}\n    record: {enabled: false}\n    live: {enabled: true, max_height: 360}\n")
    data = tmp_path / "data"
    live = data / "watch" / "lobby" / "live"
    watch = start_vidlens("watch", "run", str(cfg), "--duration", "150", data_dir=data)
    try:
        deadline = time.monotonic() + 90
        while not list(live.glob("*/seg_*.m4s")) and time.monotonic() < deadline and watch.poll() is None:
            time.sleep(0.5)
        assert list(live.glob("*/seg_*.m4s")), f"no live segment after 90 s: {watch.poll()}"
        with running_server(data, env={"VIDLENS_ADMIN_PASSWORD": PASSWORD}) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(),
                                        args=["--autoplay-policy=no-user-gesture-required"])
            page = browser.new_context(base_url=server.url).new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            errors = page_errors(page)
            login(page, PASSWORD)
            page.goto("/watch?camera=lobby")
            page.wait_for_function("() => { const v = document.getElementById('live-video');"
                                   " return v && v.currentTime >= 3 && v.videoHeight > 0; }")
            height = page.evaluate("document.getElementById('live-video').videoHeight")
            browser.close()
        assert height == 360 and not errors, (height, errors)
    finally:
        stop(watch)
    playlists = list(live.glob("*/index.m3u8"))
    assert playlists and all("#EXT-X-ENDLIST" in p.read_text() for p in playlists)  # stopped on purpose
