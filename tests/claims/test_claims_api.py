"""Claims over HTTP and in the web pages: claim a library video, set a policy, dispute as the uploader,
answer as a reviewer; the humans registry and certificate pages; the govern watch-list form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Env, make_env
from tests.api.test_api_security import login
from tests.humans.conftest import files, person  # noqa: F401 - fixtures


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def _register_human(env: Env, person: Path) -> str:
    with person.open("rb") as f:
        r = env.client.post("/api/humans", data={"name": "B. Speaker"}, files=[("face", (person.name, f, "video/mpeg"))],
                            headers=env.auth("reviewer"))
    assert r.status_code == 201, r.text
    return str(r.json()["human_id"])


def test_claim_dispute_and_answer_over_http(env: Env, person: Path) -> None:
    hid = _register_human(env, person)
    r = env.client.put(f"/api/claims/policies/human/{hid}", json={"action": "block", "allow_uploaders": ["partner"]},
                       headers=env.auth("reviewer"))
    assert r.status_code == 200 and r.json()["action"] == "block"
    assert env.client.put(f"/api/claims/policies/human/{hid}", json={"action": "delete"},
                          headers=env.auth("reviewer")).status_code == 422
    assert env.client.put("/api/claims/policies/human/0123456789ab", json={"action": "block"},
                          headers=env.auth("reviewer")).status_code == 404
    video_id = env.upload(person, content_type="video/mpeg")["video_id"]
    r = env.client.post("/api/claims/scan", json={"video_id": video_id, "uploader": "partner"},
                        headers=env.auth("reviewer"))
    assert r.status_code == 201 and r.json() == {"claims": []}  # an allowed uploader is never claimed
    r = env.client.post("/api/claims/scan", json={"video_id": video_id, "uploader": "viewer"},
                        headers=env.auth("reviewer"))
    assert r.status_code == 201, r.text
    (claim,) = r.json()["claims"]
    assert (claim["subject_id"], claim["action"], claim["status"], claim["video_id"]) == (hid, "block", "active",
                                                                                         video_id)
    cid = claim["claim_id"]
    r = env.client.post(f"/api/claims/{cid}/uphold", json={"reason": "x"}, headers=env.auth("viewer"))
    assert r.status_code == 403
    r = env.client.post(f"/api/claims/{'f' * 32}/dispute", json={"reason": "x"}, headers=env.auth("viewer"))
    assert r.status_code == 404 and "no claim" in r.json()["error"]["message"], r.text
    r = env.client.post(f"/api/claims/{cid}/dispute", json={"reason": "it is me, licensed"}, headers=env.auth("viewer"))
    assert r.status_code == 200 and r.json()["status"] == "disputed"
    r = env.client.post(f"/api/claims/{cid}/dispute", json={"reason": "again"}, headers=env.auth("viewer"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "claim_state"
    r = env.client.post(f"/api/claims/{cid}/release", json={"reason": "licence shown"}, headers=env.auth("reviewer"))
    assert r.status_code == 200 and r.json()["status"] == "released" and r.json()["resolved_by"] == "reviewer"
    listed = env.client.get("/api/claims", params={"status": "released"}, headers=env.auth("viewer")).json()
    assert [c["claim_id"] for c in listed["claims"]] == [cid]
    entries = env.client.get("/api/audit", headers=env.auth("admin")).json()["entries"]
    steps = [(e["action"], e["actor"]) for e in reversed(entries) if e["action"].startswith("claims.")]
    assert steps == [("claims.policy", "reviewer"), ("claims.file", "reviewer"), ("claims.dispute", "viewer"),
                     ("claims.release", "reviewer")]


def test_claims_humans_and_watchlist_pages(env: Env, person: Path, files: dict[str, Path]) -> None:
    hid = _register_human(env, person)
    video_id = env.upload(person, content_type="video/mpeg")["video_id"]
    cid = env.client.post("/api/claims/scan", json={"video_id": video_id, "uploader": "reviewer"},
                          headers=env.auth("reviewer")).json()["claims"][0]["claim_id"]
    csrf = login(env, "reviewer")
    page = env.client.get("/humans")
    assert page.status_code == 200 and f'data-human="{hid}"' in page.text
    page = env.client.get(f"/humans/{hid}")
    assert 'id="certificate-check" class="state-ok"' in page.text and hid in page.text
    page = env.client.get("/claims")
    assert f'data-claim="{cid}"' in page.text
    r = env.client.post(f"/claims/{cid}/dispute", data={"csrf_token": csrf, "reason": "my own face"},
                        follow_redirects=False)
    assert r.status_code == 303
    page = env.client.get("/claims")
    assert re.search(rf'id="disputes".*data-claim="{cid}"', page.text, re.S)
    page = env.client.get(f"/claims/{cid}")
    assert "my own face" in page.text and 'id="uphold-form"' in page.text
    with files["face_jpg"].open("rb") as f:
        r = env.client.post("/govern/watchlist", data={"csrf_token": csrf, "name": "B", "reason": "reported"},
                            files={"file": ("face.jpg", f, "image/jpeg")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert 'data-entry="' in env.client.get("/govern").text
