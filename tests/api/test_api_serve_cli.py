"""``vidlens serve`` as a real process, and the ``users`` / ``keys`` commands."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from vidlens.api.serverproc import running_server
from vidlens.cli.app import inner_main
from vidlens.govern.tables import govern_audit
from vidlens.platform import Platform
from vidlens.settings import load_settings


def test_serve_bootstraps_admin_serves_api_ui_and_runs_jobs(tmp_path: Path, synth_clip: Path) -> None:
    with running_server(tmp_path / "data") as server:
        password = server.admin_password()
        assert password and len(password) >= 12
        with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as c:
            assert c.get("/openapi.json").json()["info"]["title"] == "VidLens"
            r = c.post("/api/videos", files={"file": ("x.mp4", b"123", "video/mp4")})
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
            assert c.get("/", follow_redirects=False).headers["location"].startswith("/login")
            page = c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
            csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', r.text).group(1)
            with open(synth_clip, "rb") as f:
                up = c.post(
                    "/api/videos",
                    files={"file": ("cuts.mp4", f, "video/mp4")},
                    headers={"X-CSRF-Token": csrf},
                )
            assert up.status_code == 201, up.text
            deadline = time.monotonic() + 120
            while (job := c.get(f"/api/jobs/{up.json()['job_id']}").json())["status"] not in (
                "succeeded",
                "failed",
            ):
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            assert job["status"] == "succeeded"
            assert c.get(f"/api/videos/{up.json()['video_id']}/shots").json()["shots"]
    assert server.process.returncode is not None
    # the second start finds the admin and prints no password
    with running_server(tmp_path / "data") as again:
        assert again.admin_password() is None


def test_serve_takes_the_admin_password_from_the_environment(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", env={"VIDLENS_ADMIN_PASSWORD": "from-the-env-123"}) as server:
        assert server.admin_password() is None and "from-the-env-123" not in server.log()
        with httpx.Client(base_url=server.url, follow_redirects=True) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            c.post("/login", data={"username": "admin", "password": "from-the-env-123", "csrf_token": token})
            assert c.get("/api/me").json() == {
                "name": "admin",
                "role": "admin",
                "via": "session",
                "key_id": None,
            }


def run_cli(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = inner_main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_users_and_keys_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = ["--data-dir", str(tmp_path / "data")]
    code, out, _ = run_cli(
        ["users", "add", "carol", "--role", "reviewer", "--password-stdin", "--json", *d],
        capsys,
        "a-long-password\n",
        monkeypatch,
    )
    assert code == 0 and json.loads(out)["role"] == "reviewer"
    code, _, err = run_cli(["users", "add", "carol", "--role", "viewer", *d], capsys)
    assert code == 5 and "already exists" in err
    code, _, err = run_cli(["users", "add", "dan", "--role", "superuser", *d], capsys)
    assert code == 2 and "unknown role" in err
    code, out, _ = run_cli(["keys", "create", "--user", "carol", "--expires", "30d", *d], capsys)
    key = out.strip()
    assert code == 0 and re.fullmatch(r"vl_[A-Za-z0-9_-]{40,}", key)
    code, out, _ = run_cli(["keys", "list", "--json", *d], capsys)
    listed = json.loads(out)["keys"]
    assert len(listed) == 1 and listed[0]["state"] == "active" and key not in out
    assert 29.9 * 86400 < listed[0]["expires_at"] - listed[0]["created_at"] <= 30 * 86400
    code, _, err = run_cli(["keys", "create", "--user", "carol", "--expires", "soon", *d], capsys)
    assert code == 2 and "invalid duration" in err
    code, out, _ = run_cli(["keys", "revoke", listed[0]["prefix"], "--json", *d], capsys)
    assert code == 0 and json.loads(out)["state"] == "revoked"
    code, _, err = run_cli(["keys", "revoke", "999", *d], capsys)
    assert code == 4
    platform = Platform.from_settings(load_settings(data_dir=tmp_path / "data"))
    with platform.store.read() as conn:
        rows = conn.execute(
            sa.select(govern_audit.c.action, govern_audit.c.via).order_by(govern_audit.c.seq)
        ).all()
    platform.close()
    assert [tuple(r) for r in rows] == [("user.create", "cli"), ("key.create", "cli"), ("key.revoke", "cli")]
