"""Chunked, resumable uploads: chunks must follow each other; an interrupted upload resumes at 'offset'."""

from __future__ import annotations

from pathlib import Path

from vidlens.media.probe import sha256_file


def put(env, upload_id: str, data: bytes, start: int, total: int, role: str = "reviewer"):
    rng = f"bytes {start}-{start + len(data) - 1}/{total}"
    return env.client.put(
        f"/api/uploads/{upload_id}",
        content=data,
        headers={**env.auth(role), "Content-Range": rng, "Content-Type": "application/octet-stream"},
    )


def test_chunked_upload_with_a_resume(env, synth_clip: Path) -> None:
    data = synth_clip.read_bytes()
    total = len(data)
    up = env.client.post(
        "/api/uploads", json={"filename": "big clip.mp4", "size": total}, headers=env.auth("reviewer")
    )
    assert up.status_code == 201
    uid = up.json()["id"]
    assert up.json()["offset"] == 0 and up.json()["chunk_bytes"] > 0

    third = total // 3
    assert put(env, uid, data[:third], 0, total).json()["offset"] == third
    # a chunk that skips ahead is refused and says where to resume
    gap = put(env, uid, data[third + 10 : 2 * third], third + 10, total)
    assert gap.status_code == 409 and gap.json()["error"]["details"]["offset"] == third
    # completing early is refused
    early = env.client.post(f"/api/uploads/{uid}/complete", headers=env.auth("reviewer"))
    assert early.status_code == 409
    # a chunk whose body is shorter than its Content-Range announced is refused and leaves offset alone
    short = env.client.put(
        f"/api/uploads/{uid}",
        content=data[third : third + 5],
        headers={**env.auth("reviewer"), "Content-Range": f"bytes {third}-{third + 99}/{total}"},
    )
    assert short.status_code == 400
    state = env.client.get(f"/api/uploads/{uid}", headers=env.auth("reviewer")).json()
    assert state["offset"] == third  # the client resumes from here
    assert put(env, uid, data[third : 2 * third], third, total).json()["offset"] == 2 * third
    assert put(env, uid, data[2 * third :], 2 * third, total).json()["offset"] == total

    done = env.client.post(f"/api/uploads/{uid}/complete", headers=env.auth("reviewer"))
    assert done.status_code == 201
    body = done.json()
    assert body["video_id"] == sha256_file(synth_clip) and body["status"] == "added" and body["job_id"]
    assert body["upload"]["status"] == "complete"
    assert (env.platform.data_dir / "uploads" / f"{body['video_id']}.mp4").read_bytes() == data
    video = env.client.get(f"/api/videos/{body['video_id']}", headers=env.auth("viewer")).json()
    assert video["title"] == "big clip.mp4"
    again = env.client.post(f"/api/uploads/{uid}/complete", headers=env.auth("reviewer"))
    assert again.status_code == 409


def test_uploads_are_private_to_their_owner_and_can_be_aborted(env) -> None:
    uid = env.client.post(
        "/api/uploads", json={"filename": "x.mp4", "size": 100}, headers=env.auth("reviewer")
    ).json()["id"]
    env.accounts.add_user("other", "reviewer")
    other_key = env.accounts.create_key("other")[0]
    r = env.client.get(f"/api/uploads/{uid}", headers={"Authorization": f"Bearer {other_key}"})
    assert r.status_code == 404
    assert env.client.get(f"/api/uploads/{uid}", headers=env.auth("admin")).status_code == 200
    assert put(env, uid, b"x" * 10, 0, 100, role="viewer").status_code == 403
    bad = env.client.put(f"/api/uploads/{uid}", content=b"x", headers={**env.auth("reviewer")})
    assert bad.status_code == 400 and "Content-Range" in bad.json()["error"]["message"]
    assert put(env, uid, b"x" * 10, 0, 999).status_code == 400  # total does not match
    aborted = env.client.delete(f"/api/uploads/{uid}", headers=env.auth("reviewer"))
    assert aborted.status_code == 200 and aborted.json()["status"] == "aborted"
    assert not (env.platform.data_dir / "uploads" / ".partial" / f"{uid}.part").exists()
    assert put(env, uid, b"x" * 10, 0, 100).status_code == 409
    assert env.client.get("/api/uploads/../../etc", headers=env.auth("reviewer")).status_code == 404


def test_a_completed_upload_that_is_not_video_fails_cleanly(env) -> None:
    data = b"this is not a video at all" * 10
    uid = env.client.post(
        "/api/uploads", json={"filename": "x.mp4", "size": len(data)}, headers=env.auth("reviewer")
    ).json()["id"]
    assert put(env, uid, data, 0, len(data)).status_code == 200
    r = env.client.post(f"/api/uploads/{uid}/complete", headers=env.auth("reviewer"))
    assert r.status_code in (415, 422)
    assert env.client.get(f"/api/uploads/{uid}", headers=env.auth("reviewer")).json()["status"] == "failed"
    assert [p for p in (env.platform.data_dir / "uploads").rglob("*") if p.is_file()] == []
