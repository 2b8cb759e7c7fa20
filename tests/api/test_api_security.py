"""Hostile input and access control: names, sizes, types, keys, roles, CSRF, injection, rate limits."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from vidlens.api.auth import sha256_hex
from vidlens.api.tables import api_keys, users

PASSWORD = "correct horse battery"


def login(env, user: str = "reviewer") -> str:
    """Log in through the real form; returns the session's CSRF token (from the page's meta tag)."""
    page = env.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = env.client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    home = env.client.get("/")
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', home.text).group(1)


# -- uploads -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/passwd.mp4",
        "..\\..\\boot.ini.mp4",
        "/abs/path/x.mp4",
        "a\x00b.mp4",
        "....//....//x.mp4",
        "%2e%2e%2fx.mp4",
    ],
)
def test_client_file_names_never_choose_the_path(env, synth_clip: Path, name: str) -> None:
    body = env.upload(synth_clip, name=name)
    root = env.platform.data_dir / "uploads"
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == [f"{body['video_id']}.mp4"]
    assert not (env.platform.data_dir.parent / "etc").exists()
    title = env.client.get(f"/api/videos/{body['video_id']}", headers=env.auth("viewer")).json()["title"]
    assert "/" not in title and "\\" not in title and "\x00" not in title


@pytest.mark.parametrize("name", ["clip.php", "", "x" * 300 + ".mp4", "clip.avi"])
def test_the_stored_type_comes_from_the_content_not_the_name(env, synth_clip: Path, name: str) -> None:
    body = env.upload(synth_clip, name=name)
    assert (env.platform.data_dir / "uploads" / f"{body['video_id']}.mp4").is_file()
    r = env.client.get(f"/api/videos/{body['video_id']}/file", headers=env.auth("viewer"))
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"


def test_oversized_upload_is_refused_without_keeping_bytes(env_factory, synth_clip: Path) -> None:
    env = env_factory(serve={"max_upload_bytes": 10_000})
    with open(synth_clip, "rb") as f:
        r = env.client.post(
            "/api/videos", files={"file": ("big.mp4", f, "video/mp4")}, headers=env.auth("reviewer")
        )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    # a body with no Content-Length is cut off while streaming, not after
    def chunks():
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.mp4"\r\n'
        yield b"Content-Type: video/mp4\r\n\r\n"
        for _ in range(40):
            yield b"\0" * 1000
        yield b"\r\n--B--\r\n"

    r = env.client.post(
        "/api/videos",
        content=chunks(),
        headers={**env.auth("reviewer"), "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert r.status_code == 413
    uploads = env.platform.data_dir / "uploads"
    assert [p for p in uploads.rglob("*") if p.is_file()] == []
    created = env.client.post(
        "/api/uploads", json={"filename": "big.mp4", "size": 10_001}, headers=env.auth("reviewer")
    )
    assert created.status_code == 413


def test_wrong_content_types_are_refused(env, synth_clip: Path, tmp_path: Path) -> None:
    h = env.auth("reviewer")
    r = env.client.post("/api/videos", json={"file": "x"}, headers=h)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media"
    with open(synth_clip, "rb") as f:
        r = env.client.post("/api/videos", files={"file": ("x.mp4", f, "text/html")}, headers=h)
    assert r.status_code == 415
    fake = tmp_path / "fake.mp4"
    fake.write_text("<html>not a video</html>")
    with open(fake, "rb") as f:
        r = env.client.post("/api/videos", files={"file": ("fake.mp4", f, "video/mp4")}, headers=h)
    assert r.status_code in (415, 422) and r.json()["error"]["code"] in ("unsupported_media", "corrupt_media")
    assert [p for p in (env.platform.data_dir / "uploads").rglob("*") if p.is_file()] == []
    r = env.client.post("/api/videos", files={"other": ("x.mp4", b"123", "video/mp4")}, headers=h)
    assert r.status_code == 400 and "'file'" in r.json()["error"]["message"]


# -- credentials ---------------------------------------------------------------------
def test_anonymous_writes_get_401_and_reads_need_a_login(env) -> None:
    r = env.client.post("/api/videos", files={"file": ("x.mp4", b"123", "video/mp4")})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert (
        env.client.post("/api/review", json={"kind": "k", "reason": "r", "subject": "s"}).status_code == 401
    )
    assert env.client.get("/api/videos").status_code == 401
    assert env.client.get("/api/health").status_code == 200
    assert env.client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("header", ["Bearer vl_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz", "vl_raw"])
def test_invalid_keys_are_rejected(env, header: str) -> None:
    r = env.client.get("/api/videos", headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


def test_expired_and_revoked_keys_stop_working(env) -> None:
    key, rec = env.accounts.create_key("admin", expires_in_s=60)
    assert env.client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    with env.platform.store.tx() as conn:
        conn.execute(api_keys.update().where(api_keys.c.id == rec["id"]).values(expires_at=time.time() - 1))
    r = env.client.get("/api/me", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    other, rec2 = env.accounts.create_key("admin")
    revoked = env.client.delete(f"/api/keys/{rec2['id']}", headers=env.auth("admin"))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    r = env.client.get("/api/me", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_keys_and_passwords_are_hashed_at_rest(env) -> None:
    key, rec = env.accounts.create_key("viewer")
    dump = "\n".join(
        str(r)
        for t in (api_keys, users)
        for r in env.platform.store.engine.connect().execute(sa.select(t)).all()
    )
    assert key not in dump and key[3:] not in dump and PASSWORD not in dump
    assert sha256_hex(key) in dump and "scrypt$" in dump
    db_bytes = (env.platform.data_dir / "vidlens.db").read_bytes()
    assert key.encode() not in db_bytes


def test_roles_viewer_reads_reviewer_writes_admin_manages(env, synth_clip: Path) -> None:
    with open(synth_clip, "rb") as f:
        r = env.client.post(
            "/api/videos", files={"file": ("x.mp4", f, "video/mp4")}, headers=env.auth("viewer")
        )
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (
        env.client.post(
            "/api/review", json={"kind": "k", "reason": "r", "subject": "s"}, headers=env.auth("viewer")
        ).status_code
        == 403
    )
    assert env.client.post("/api/keys", json={}, headers=env.auth("reviewer")).status_code == 403
    assert env.client.get("/api/settings", headers=env.auth("reviewer")).status_code == 403
    assert env.client.get("/api/audit", headers=env.auth("viewer")).status_code == 403
    made = env.client.post("/api/keys", json={"user": "viewer", "expires": "1h"}, headers=env.auth("admin"))
    assert made.status_code == 201 and made.json()["key"].startswith("vl_") and made.json()["expires_at"]
    assert (
        env.client.get("/api/me", headers={"Authorization": "Bearer " + made.json()["key"]}).json()["role"]
        == "viewer"
    )


def test_rate_limit_answers_429_with_retry_after(env_factory) -> None:
    env = env_factory(serve={"rate_limit_per_s": 1.0, "rate_limit_burst": 3})
    codes = [env.client.get("/api/me", headers=env.auth("viewer")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = env.client.get("/api/me", headers=env.auth("viewer"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    assert env.client.get("/api/me", headers=env.auth("admin")).status_code == 200  # buckets are per key


def test_settings_mask_secrets(env_factory) -> None:
    env = env_factory(serve={"session_secret": "hunter2-very-secret"})
    text = env.client.get("/api/settings", headers=env.auth("admin")).text
    assert "hunter2" not in text and '"session_secret":"********"' in text.replace(" ", "")


# -- sessions and CSRF -----------------------------------------------------------------
def test_login_sets_a_hardened_session_cookie(env) -> None:
    login(env)
    cookie = next(c for c in env.client.cookies.jar if c.name == "vidlens_session")
    assert (
        cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite").lower() == "lax"
    )
    assert env.client.get("/api/me").json()["via"] == "session"


def test_login_form_needs_its_csrf_token_and_rejects_bad_passwords(env) -> None:
    env.client.get("/login")
    r = env.client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 403
    page = env.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = env.client.post(
        "/login",
        data={"username": "admin", "password": "wrong-password", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "error=" in r.headers["location"]
    assert "vidlens_session" not in env.client.cookies


def test_login_never_redirects_off_site(env) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page = env.client.get("/login", params={"next": target})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = env.client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"


def test_session_writes_through_the_api_need_the_csrf_header(env) -> None:
    csrf = login(env, "reviewer")
    body = {"kind": "moderation", "reason": "check", "subject": "thing:1"}
    r = env.client.post("/api/review", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
    assert env.client.post("/api/review", json=body, headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert env.client.post("/api/review", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_form_posts_need_the_csrf_field(env) -> None:
    item = env.client.post(
        "/api/review", json={"kind": "k", "reason": "r", "subject": "s"}, headers=env.auth("reviewer")
    ).json()
    csrf = login(env, "reviewer")
    form = {"decision": "approve", "reason": "looks fine"}
    r = env.client.post(f"/review/{item['id']}", data=form, follow_redirects=False)
    assert r.status_code == 403
    r = env.client.post(
        f"/review/{item['id']}", data={**form, "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert r.status_code == 403
    assert env.client.get(f"/api/review/{item['id']}").json()["status"] == "open"
    r = env.client.post(f"/review/{item['id']}", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    done = env.client.get(f"/api/review/{item['id']}").json()
    assert done["status"] == "approved" and done["decided_by"] == "reviewer"
    r = env.client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert env.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert env.client.get("/api/me").status_code == 401


def test_viewer_session_cannot_decide(env) -> None:
    item = env.client.post(
        "/api/review", json={"kind": "k", "reason": "r", "subject": "s"}, headers=env.auth("reviewer")
    ).json()
    csrf = login(env, "viewer")
    r = env.client.post(
        f"/review/{item['id']}",
        data={"decision": "reject", "reason": "x", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 403
    page = env.client.get("/review")
    assert f'id="review-{item["id"]}"' in page.text and 'value="approve"' not in page.text


# -- injection through media text ---------------------------------------------------------
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TITLE = "<img src=x onerror=alert(1)>&'"  # no '/': a client name is cut at its last path separator


def test_titles_ocr_and_transcripts_are_rendered_escaped(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip, name=f"{TITLE}.mp4")["video_id"]
    env.store_results(vid, {
        "ocr": {"texts": [{"text": f"sale {PAYLOAD}", "start_s": 0.2, "end_s": 1.0}]},
        "speech": {"transcript": [{"text": f"said {PAYLOAD}", "start_s": 1.0, "end_s": 2.0}]},
    })
    env.client.post(
        "/api/review",
        json={"kind": PAYLOAD, "reason": PAYLOAD, "video_id": vid, "label": PAYLOAD},
        headers=env.auth("reviewer"),
    )
    login(env, "reviewer")
    pages = [
        env.client.get("/"),
        env.client.get(f"/videos/{vid}"),
        env.client.get("/search", params={"q": "sale"}),
        env.client.get("/search", params={"q": "said"}),
        env.client.get("/review"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;&#39;.mp4" in pages[0].text  # the title, as text
    for page in pages[1:]:
        assert "&lt;script&gt;alert" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert pages[1].headers["x-frame-options"] == "DENY"


def test_blob_keys_cannot_escape_the_blob_store(env) -> None:
    for key in ("../../vidlens.db", "..%2F..%2Fvidlens.db", "ab/../../../etc/passwd", "xx/" + "g" * 64):
        r = env.client.get(f"/api/blobs/{key}", headers=env.auth("viewer"))
        assert r.status_code in (400, 404, 422), key
        assert b"SQLite" not in r.content
