"""The digital-human HTTP API: register with multipart samples, scan an upload or a library video."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.api.conftest import Env, make_env
from tests.humans.test_registry_cli import MATCH_KEYS
from vidlens.govern.tables import govern_audit as audit

CONSENT = {"grantor": "B. Speaker", "allowed_uses": ["dubbing"], "territories": ["DE"], "expires": "2099-01-01"}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def _register(env: Env, person: Path, voice: Path, role: str = "reviewer") -> object:
    with person.open("rb") as f, voice.open("rb") as v:
        return env.client.post("/api/humans", data={"name": "B. Speaker", "consent": json.dumps(CONSENT)},
                               files=[("face", (person.name, f, "video/mpeg")), ("voice", (voice.name, v, "audio/wav"))],
                               headers=env.auth(role))


def test_register_and_scan_over_http(env: Env, person: Path, files: dict[str, Path]) -> None:
    assert _register(env, person, person, role="viewer").status_code == 403
    r = _register(env, person, files["silence"])
    assert r.status_code == 422 and "no usable voice" in r.json()["error"]["message"]
    assert env.client.get("/api/humans", headers=env.auth("viewer")).json() == {"humans": []}

    r = _register(env, person, person)
    assert r.status_code == 201, r.text
    hid = r.json()["human_id"]
    with person.open("rb") as f:
        r = env.client.post("/api/humans/scan", data={"use": "dubbing", "territory": "DE"},
                            files={"file": ("upload.mpg", f, "video/mpeg")}, headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert {m["kind"] for m in matches} == {"face", "voice"}
    assert all(set(m) == MATCH_KEYS and m["human"] == hid and m["authorised"] for m in matches)
    # the same answer for the video once it is in the library
    video_id = env.upload(person, content_type="video/mpeg")["video_id"]
    r = env.client.post("/api/humans/scan", data={"video_id": video_id, "use": "dubbing", "territory": "DE"},
                        headers=env.auth("viewer"))
    assert r.json()["matches"] == matches
    cert = env.client.get(f"/api/humans/{hid}/certificate", headers=env.auth("viewer")).json()
    assert cert["payload"]["human_id"] == hid and cert["payload"]["status"] == "active"
    r = env.client.post(f"/api/humans/{hid}/revoke", json={"reason": "withdrawn"}, headers=env.auth("reviewer"))
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    with env.platform.store.read() as conn:
        actions = [a for (a,) in conn.execute(sa.select(audit.c.action).order_by(audit.c.seq))]
    assert "humans.register" in actions and "humans.revoke" in actions
