"""The edit page in a real Chromium: choose options, run an edit, watch the result play, read the decision list.

``vidlens serve`` runs the API, the pages and the job worker; the talk (real GRID speech with pauses) is
analysed first with the CLI so the job spends its time on the edit. The page queues the edit through the
API, follows the job, and reloads to the result: the output must play (``currentTime`` advances), be 9:16,
and the decision list must explain every segment; clicking a kept segment seeks the player to it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium, login, page_errors
from vidlens.api.serverproc import ServerProcess, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "browser-test-password"
PAGE_TIMEOUT_MS = 300_000  # a deadline on a shared machine, not a timing


@pytest.fixture(scope="module")
def server(talk: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("edit-ui") / "data"
    src, _ = talk
    r = subprocess.run([sys.executable, "-m", "vidlens", "analyze", str(src), "--analyzers", "shots,speech",
                        "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=1200, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    with running_server(data_dir, env={"VIDLENS_ADMIN_PASSWORD": PASSWORD}) as s:
        yield s


def _until(element: Any, predicate: str) -> None:
    """Poll ``predicate`` on ``element`` (the page's CSP forbids the eval that ``wait_for_function`` needs)."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while not element.evaluate(predicate):
        assert time.monotonic() < deadline, f"{predicate} never held"
        time.sleep(0.2)


@pytest.mark.timeout(1500)  # analysis and an edit job on a shared machine: a deadline, not a timing
def test_edit_page_runs_an_edit_plays_it_and_explains_it(server: ServerProcess) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(),
                                    args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        try:
            pg = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900}).new_page()
            pg.set_default_timeout(PAGE_TIMEOUT_MS)
            errors = page_errors(pg)
            login(pg, PASSWORD)

            pg.goto("/edit")
            expect(pg.locator("select[name=video_id] option")).to_have_count(1)
            pg.check("input[name=silence]")
            pg.fill("input[name=highlights_s]", "6")
            pg.select_option("select[name=reframe]", "9:16")
            pg.click("#edit-form button[type=submit]")
            pg.wait_for_url(re.compile(r"/edit/\d+$"))
            # the page follows the job and reloads on its end; a failure would show its message instead
            expect(pg.locator("#edit-state")).to_have_attribute("data-status", "succeeded", timeout=PAGE_TIMEOUT_MS)

            rows = pg.locator("#decisions tbody tr")
            assert rows.count() >= 2
            decisions = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())]
            reasons = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(rows.count())]
            assert "kept" in decisions and "dropped" in decisions
            assert all(reasons) and any(r.startswith("highlight") for r in reasons)
            expect(pg.locator("p.meta")).to_contain_text("highlights", timeout=PAGE_TIMEOUT_MS)

            player = pg.locator("#player")
            pg.evaluate("document.getElementById('player').play()")
            _until(player, "v => v.currentTime > 1.0")
            w, h = player.evaluate("v => [v.videoWidth, v.videoHeight]")
            assert abs(w / h - 9 / 16) < 0.01, (w, h)
            # a kept segment of the timeline seeks the output to where it landed
            seg = pg.locator(".seg-kept[data-out]").last
            target = float(seg.get_attribute("data-out") or "nan")
            seg.dispatch_event("click")  # a thin bar of the timeline: Playwright finds no point to click on
            _until(player, f"v => v.currentTime >= {target} - 0.6")
            assert not errors, errors
        finally:
            browser.close()
