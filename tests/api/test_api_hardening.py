"""What a hostile probe of the API tries: foreign content, absurd numbers, error bodies, login guessing,
abandoned uploads, repeated requests and the permissions of what is stored."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from vidlens.govern import audit as audit_log
from vidlens.govern.tables import govern_audit
from vidlens.store.schema import videos

PASSWORD = "correct horse battery"  # every test user's (conftest.py)
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" '
       b'height="64"><rect width="64" height="64" fill="red"/></svg>\n')


def _stored_files(env) -> list[Path]:
    return [p for p in (env.platform.data_dir / "uploads").rglob("*") if p.is_file()]


def _video_rows(env) -> int:
    with env.platform.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(videos)).scalar_one())


@pytest.mark.parametrize("name", ["drawing.svg", "holiday.mp4", ""])
def test_svg_content_is_unsupported_media_and_nothing_is_kept(env, name: str) -> None:
    r = env.client.post("/api/videos", files={"file": (name, SVG, "video/mp4")}, headers=env.auth("reviewer"))
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "unsupported_media"
    assert _stored_files(env) == [] and _video_rows(env) == 0


def test_svg_through_the_resumable_api_is_refused_and_deleted(env) -> None:
    h = env.auth("reviewer")
    up = env.client.post("/api/uploads", json={"filename": "a.mp4", "size": len(SVG)}, headers=h).json()
    r = env.client.put(f"/api/uploads/{up['id']}", content=SVG,
                       headers={**h, "Content-Range": f"bytes 0-{len(SVG) - 1}/{len(SVG)}"})
    assert r.status_code == 200, r.text
    r = env.client.post(f"/api/uploads/{up['id']}/complete", headers=h)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media"
    assert _stored_files(env) == [] and _video_rows(env) == 0


def test_the_database_and_uploads_are_private_to_the_server_user(env, synth_clip: Path) -> None:
    env.upload(synth_clip)
    data = env.platform.data_dir
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    db_files = [p for p in data.iterdir() if p.name.startswith("vidlens.db")]
    assert db_files and all(mode(p) == 0o600 for p in db_files), {p.name: oct(mode(p)) for p in db_files}
    assert mode(data) == 0o700 and mode(data / "uploads") == 0o700 and mode(data / "uploads" / ".partial") == 0o700
    assert [oct(mode(p)) for p in _stored_files(env)] == ["0o600"]


# -- numbers and error bodies ----------------------------------------------------------------------
TOO_BIG = str(2**63)


def _envelope(r, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize("method,path", [
    ("get", f"/api/jobs/{TOO_BIG}"), ("post", f"/api/jobs/{TOO_BIG}/cancel"),
    ("post", f"/api/jobs/{TOO_BIG}/retry"), ("get", f"/api/review/{TOO_BIG}"),
    ("delete", f"/api/keys/{TOO_BIG}"), ("get", f"/api/videos?offset={TOO_BIG}"),
    ("get", f"/api/review?offset={TOO_BIG}"), ("get", f"/api/jobs/-{TOO_BIG}0"),
])
def test_integers_past_64_bits_are_refused_at_the_edge(env, method: str, path: str) -> None:
    err = _envelope(getattr(env.client, method)(path, headers=env.auth("admin")), 422, "validation_failed")
    assert "9223372036854775807" in err["message"]


def test_ids_past_64_bits_inside_a_body_are_refused(env) -> None:
    r = env.client.post("/api/people/1/merge", json={"others": [2, 2**63]}, headers=env.auth("reviewer"))
    assert "9223372036854775807" in _envelope(r, 422, "validation_failed")["message"]


def test_a_review_decision_on_a_huge_id_is_refused(env) -> None:
    r = env.client.post(f"/api/review/{TOO_BIG}/decision", json={"decision": "approve", "reason": "x"},
                        headers=env.auth("admin"))
    _envelope(r, 422, "validation_failed")


def test_405_names_every_method_of_the_path(env) -> None:
    r = env.client.delete("/api/videos", headers=env.auth("admin"))
    _envelope(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, POST"
    r = env.client.patch("/api/uploads/0123", headers=env.auth("admin"))
    assert r.headers["allow"] == "GET, PUT, DELETE"


def test_an_unsatisfiable_range_comes_in_the_envelope(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    r = env.client.get(f"/api/videos/{vid}/file", headers={**env.auth("viewer"), "Range": "bytes=999999999-"})
    _envelope(r, 416, "range_not_satisfiable")
    assert r.headers["content-range"] == f"bytes */{synth_clip.stat().st_size}"
    r = env.client.get(f"/api/videos/{vid}/file", headers={**env.auth("viewer"), "Range": "pages=1-2"})
    _envelope(r, 400, "bad_request")


def test_an_unexpected_failure_is_a_500_envelope_without_server_details(env, monkeypatch) -> None:
    secret = str(env.platform.data_dir / "vidlens.db")

    def broken(*_a, **_k):
        raise RuntimeError(f"disk I/O error at {secret}")

    monkeypatch.setattr(env.platform.jobs, "list", broken)
    err = _envelope(env.client.get("/api/jobs", headers=env.auth("viewer")), 500, "internal")
    assert secret not in err["message"] and "RuntimeError" not in err["message"]
    assert err["details"]["reference"] in err["message"]


def test_media_errors_show_no_server_path_or_libav_log(env, synth_clip: Path) -> None:
    data = synth_clip.read_bytes()
    moov = data.find(b"moov")
    broken = data[: moov - 4] + b"\0" * 64 if moov > len(data) // 2 else data[: len(data) // 2]
    r = env.client.post("/api/videos", files={"file": ("x.mp4", broken, "video/mp4")}, headers=env.auth("reviewer"))
    assert r.status_code in (415, 422), r.text
    text = r.text
    assert str(env.platform.data_dir) not in text and "log_tail" not in text and "path" not in r.json()["error"]["details"]


# -- damaged files and repeated requests -----------------------------------------------------------
def test_a_truncated_mp4_job_says_partial_and_names_the_analyzers_that_failed(env, synth_clip: Path,
                                                                               tmp_path: Path) -> None:
    import subprocess

    from vidlens.media.ffmpeg import ffmpeg_exe

    whole = tmp_path / "faststart.mp4"  # index first, so a cut file still opens with its full duration
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(synth_clip), "-c", "copy", "-movflags",
                    "+faststart", str(whole)], check=True)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.3)])
    body = env.upload(cut)
    assert env.run_jobs() == 1
    job = env.client.get(f"/api/jobs/{body['job_id']}", headers=env.auth("viewer")).json()
    result = job["result"]
    assert job["status"] == "partial" and job["error_code"] == "analysis_partial", job
    assert job["error_detail"]["failed"] == result["failed"] and job["attempts"] == 1  # not retried
    assert result["status"] == "partial" and "shots" in result["failed"] and "speech" not in result["failed"]
    assert sorted(result["failed"]) == sorted(n for n, a in result["analyzers"].items() if a["status"] != "ok")
    listed = env.client.get("/api/videos", headers=env.auth("viewer")).json()["videos"][0]
    assert listed["status"] == "partial" and sorted(listed["failed"]) == sorted(result["failed"])
    document = env.client.get(f"/api/videos/{body['video_id']}/document", headers=env.auth("viewer")).text
    assert str(env.platform.data_dir) not in document and "log_tail" not in document


def test_an_analysis_whose_analyzers_all_fail_ends_failed_naming_them(env, synth_clip: Path) -> None:
    body = env.upload(synth_clip)
    env.client.post(f"/api/jobs/{body['job_id']}/cancel", headers=env.auth("reviewer"))
    Path(env.platform.catalog.get_video(body["video_id"]).uri).write_bytes(b"\0" * 4096)  # lost under us
    job = env.client.post(f"/api/videos/{body['video_id']}/analyze", params={"analyzers": ["shots", "technical"]},
                          headers=env.auth("reviewer")).json()
    assert env.run_jobs() == 1
    job = env.client.get(f"/api/jobs/{job['id']}", headers=env.auth("viewer")).json()
    assert job["status"] == "failed" and job["error_code"] == "analysis_failed", job
    assert job["error_detail"]["failed"] == ["shots", "technical"] and "shots, technical" in job["error_message"]
    assert job["attempts"] == 1  # not retried


def test_repeated_reanalysis_requests_merge_into_the_queued_job(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    h = env.auth("reviewer")
    ids = {env.client.post(f"/api/videos/{vid}/analyze", headers=h).json()["id"] for _ in range(20)}
    jobs = env.client.get(f"/api/jobs?video_id={vid}", headers=h).json()["jobs"]
    assert len(ids) == 1 and len(jobs) == 1 and jobs[0]["status"] == "queued"
    assert "analyzers" not in jobs[0]["payload"]  # all analyzers, as the upload asked
    assert env.run_jobs() == 1
    one = env.client.post(f"/api/videos/{vid}/analyze?analyzers=shots", headers=h).json()
    two = env.client.post(f"/api/videos/{vid}/analyze?analyzers=technical", headers=h).json()
    assert one["id"] == two["id"] and two["payload"]["analyzers"] == ["shots", "technical"]


# -- login guessing ---------------------------------------------------------------------------------
def _try_login(env, user: str, password: str):
    import re

    page = env.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return env.client.post("/login", data={"username": user, "password": password, "csrf_token": token},
                           follow_redirects=False, headers={"Accept": "application/json"})


def _failed_logins(env) -> list[dict]:
    from vidlens.api import audit

    with env.platform.store.read() as conn:
        return [e for e in audit.list_audit(conn, limit=1000) if e["action"] == "login.failed"]


def test_logins_are_throttled_per_account_and_every_failure_is_audited(env_factory) -> None:
    env = env_factory(serve={"login_failures_per_account": 5, "login_failures_per_address": 50})
    for _ in range(5):
        assert _try_login(env, "admin", "wrong-password").status_code == 303
    r = _try_login(env, "admin", PASSWORD)  # even the right password waits now
    err = _envelope(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) > 0 and err["details"]["scope"] == "account"
    assert _try_login(env, "viewer", PASSWORD).headers["location"] == "/"  # other accounts are not locked out
    failed = _failed_logins(env)
    assert len(failed) == 6 and {e["actor"] for e in failed} == {"admin"} and failed[0]["status_code"] == 429
    assert all(e["detail"]["address"] == "testclient" and e["via"] == "login" for e in failed)
    # one audit log: the failures are entries of the hash chain every other decision is in, and it holds
    with env.platform.store.read() as conn:
        chained = conn.execute(sa.select(sa.func.count()).select_from(govern_audit)
                               .where(govern_audit.c.action == "login.failed")).scalar_one()
    assert chained == 6 and audit_log.verify(env.platform.store).first_broken is None


def test_logins_are_throttled_per_address(env_factory) -> None:
    env = env_factory(serve={"login_failures_per_account": 50, "login_failures_per_address": 8})
    for i in range(8):
        assert _try_login(env, f"user{i}", "guess").status_code == 303
    err = _envelope(_try_login(env, "someone-else", "guess"), 429, "rate_limited")
    assert err["details"]["scope"] == "address" and len(_failed_logins(env)) == 9


# -- abandoned uploads ------------------------------------------------------------------------------
def test_open_uploads_are_capped_per_user_and_expire_when_abandoned(env_factory) -> None:
    from vidlens.api.tables import uploads

    env = env_factory(serve={"max_open_uploads_per_user": 3, "upload_ttl_s": 3600})
    h = env.auth("reviewer")
    made = [env.client.post("/api/uploads", json={"filename": "a.mp4", "size": 100}, headers=h) for _ in range(4)]
    assert [r.status_code for r in made] == [201, 201, 201, 409]
    assert made[3].json()["error"]["details"] == {"open": 3, "limit": 3}
    other = env.client.post("/api/uploads", json={"filename": "a.mp4", "size": 100}, headers=env.auth("admin"))
    assert other.status_code == 201  # the cap is per user
    first = made[0].json()["id"]
    assert env.client.delete(f"/api/uploads/{first}", headers=h).status_code == 200
    assert env.client.post("/api/uploads", json={"filename": "a.mp4", "size": 100}, headers=h).status_code == 201

    partial = env.platform.data_dir / "uploads" / ".partial"
    orphan = partial / ("f" * 32 + ".part")  # a multipart upload cut off by a crash
    orphan.write_bytes(b"x")
    import os
    import time

    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    with env.platform.store.tx() as conn:  # a day passes without a chunk
        conn.execute(uploads.update().values(updated_at=time.time() - 7200))
    second = made[1].json()["id"]
    state = env.client.get(f"/api/uploads/{second}", headers=h).json()
    assert state["status"] == "expired" and not (partial / f"{second}.part").exists()
    assert env.client.put(f"/api/uploads/{second}", content=b"x" * 100,
                          headers={**h, "Content-Range": "bytes 0-99/100"}).status_code == 409
    fresh = env.client.post("/api/uploads", json={"filename": "a.mp4", "size": 100}, headers=h)
    assert fresh.status_code == 201
    assert [p.name for p in partial.iterdir()] == [f"{fresh.json()['id']}.part"]  # the orphan went too
    with env.platform.store.read() as conn:
        statuses = sorted(r.status for r in conn.execute(sa.select(uploads.c.status)))
    assert statuses == ["aborted", "expired", "expired", "expired", "expired", "open"]
