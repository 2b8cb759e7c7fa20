"""The digital-human, watch-list, claims and dispute pages in a real Chromium, over a data dir set up with the
CLI: a human registered with face, voice and consent (``vidlens humans register``), a face on the watch-list
(``vidlens watchlist add``), a block policy on the human and an upload claimed for it (``vidlens claims``).

In the browser: the registry lists the human and its certificate checks out; a second face is listed
through the Govern page's form and removed again; the uploader disputes the claim on its page, the dispute
shows under "Disputes waiting for the owner", and the owner upholds it. With ``VIDLENS_UPDATE_SCREENSHOTS=1``
the screenshots also go to ``docs/img/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_ui_library_browser import PAGE_TIMEOUT_MS, PASSWORD, _cli, shots_dir, snap  # noqa: F401
from tests.browser import chromium, login, page_errors
from vidlens.api.serverproc import ServerProcess, running_server
from vidlens.media.ffmpeg import run_ffmpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READING = "speech/librivox_sense_and_sensibility_01_austen_64kb-0870.wav"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, samples: Path, shared_media: Path) -> dict[str, object]:
    root = tmp_path_factory.mktemp("ui-humans")
    data_dir = root / "data"
    listed, second = root / "listed.jpg", root / "second.jpg"
    run_ffmpeg(["-ss", "1.0", "-i", str(shared_media / "av_speech_grid" / "lbax4n.mpg"), "-frames:v", "1", str(listed)])
    run_ffmpeg(["-ss", "1.0", "-i", str(shared_media / "av_speech_grid" / "sbia1a.mpg"), "-frames:v", "1", str(second)])
    consent = root / "consent.json"
    consent.write_text(json.dumps({"grantor": "Agent of B. Speaker", "allowed_uses": ["dubbing"],
                                   "territories": ["DE", "FR"], "expires": "2099-12-31"}))
    human = json.loads(_cli(data_dir, "humans", "register", "B. Speaker", "--face", str(samples / "bbaf2n.mpg"),
                            "--voice", str(shared_media / READING), "--consent", str(consent), "--json"))
    _cli(data_dir, "watchlist", "add", str(listed), "--name", "Listed person", "--reason", "impersonation reports")
    _cli(data_dir, "claims", "policy", "human", human["human_id"], "--action", "block")
    (claim,) = json.loads(_cli(data_dir, "claims", "scan", str(samples / "bbaf2n.mpg"), "--uploader", "admin",
                               "--json"))["claims"]
    return {"data_dir": data_dir, "human": human, "claim": claim, "second": second}


@pytest.fixture(scope="module")
def page(data: dict[str, object]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    server: ServerProcess
    with running_server(data["data_dir"], env={"VIDLENS_ADMIN_PASSWORD": PASSWORD}) as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium())
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(PAGE_TIMEOUT_MS)
        errors = page_errors(pg)
        login(pg, PASSWORD)
        yield pg
        context.close()
        browser.close()
        assert not errors, f"JavaScript errors on the pages: {errors}"


def test_humans_registry_and_a_humans_certificate(page: object, data: dict[str, object],
                                                    shots_dir: list[Path]) -> None:  # noqa: F811 - the fixture
    pg = page
    human = data["human"]
    pg.goto("/")
    pg.click("nav >> text=Humans")
    row = pg.locator(f"#humans tr[data-human='{human['human_id']}']")
    assert "B. Speaker" in row.inner_text() and "1 voice" in row.inner_text()
    assert "dubbing in DE, FR" in row.inner_text() and "active" in row.inner_text()
    snap(pg, shots_dir, "humans")
    row.locator("a").click()
    pg.wait_for_url(re.compile(rf"/humans/{human['human_id']}$"))
    assert "B. Speaker" in pg.locator("main").inner_text()
    assert pg.locator("#certificate-check").inner_text().startswith("valid: signed by key")
    snap(pg, shots_dir, "human")


def test_watch_list_shows_adds_and_removes_a_face(page: object, data: dict[str, object],
                                                  shots_dir: list[Path]) -> None:  # noqa: F811 - the fixture
    pg = page
    pg.goto("/govern")
    listed = pg.locator("#watchlist tr[data-entry]")
    assert listed.count() == 1 and "impersonation reports" in listed.first.inner_text()
    form = pg.locator("#watch-add")
    form.locator("input[type=file]").set_input_files(str(data["second"]))
    form.locator("input[name=name]").fill("Second person")
    form.locator("input[name=reason]").fill("court order 12/2026")
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state()
    added = pg.locator("#watchlist tr[data-entry]", has_text="Second person")
    assert added.count() == 1 and "court order 12/2026" in added.inner_text()
    assert "by admin" in added.inner_text()  # the audit entry names who listed it
    pg.locator("#watchlist").scroll_into_view_if_needed()
    snap(pg, shots_dir, "watchlist")
    added.locator("input[name=reason]").fill("order lifted")
    added.locator("button[type=submit]").click()
    pg.wait_for_load_state()
    assert pg.locator("#watchlist tr[data-entry]", has_text="Second person").count() == 0
    assert pg.locator("#watchlist tr[data-entry]").count() == 1


def test_the_uploader_disputes_a_claim_and_the_owner_upholds_it(page: object, data: dict[str, object],
                                                                 shots_dir: list[Path]) -> None:  # noqa: F811
    pg = page
    claim = data["claim"]
    pg.goto("/claims")
    row = pg.locator(f"#claims tr[data-claim='{claim['claim_id']}']")
    assert "human: B. Speaker" in row.inner_text() and "block" in row.inner_text() and "active" in row.inner_text()
    assert "No open dispute." in pg.locator("#disputes").inner_text()
    row.locator("a").click()
    pg.wait_for_url(re.compile(rf"/claims/{claim['claim_id']}$"))
    assert pg.locator("#claim-status").inner_text() == "active"
    assert pg.locator("#segments tr").count() >= 2  # a header and at least one matched segment
    pg.locator("#dispute-form input[name=reason]").fill("I am B. Speaker's licensee")
    pg.locator("#dispute-form button").click()
    pg.wait_for_load_state()
    assert pg.locator("#claim-status").inner_text() == "disputed"
    assert "I am B. Speaker's licensee" in pg.locator("#dispute-reason").inner_text()
    pg.goto("/claims")
    waiting = pg.locator(f"#disputes tr[data-claim='{claim['claim_id']}']")
    assert "I am B. Speaker's licensee" in waiting.inner_text()
    snap(pg, shots_dir, "claims")
    waiting.locator("a").click()
    pg.wait_for_url(re.compile(rf"/claims/{claim['claim_id']}$"))
    snap(pg, shots_dir, "claim-disputed")
    pg.locator("#uphold-form input[name=reason]").fill("no licence on file")
    pg.locator("#uphold-form button").click()
    pg.wait_for_load_state()
    assert pg.locator("#claim-status").inner_text() == "upheld"
    assert pg.locator("#dispute-form").count() == 0 and pg.locator("#uphold-form").count() == 0
