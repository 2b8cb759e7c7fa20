"""The API's own tables and queries on both store backends: SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

DOCS = {
    "speech": {
        "transcript": [
            {"text": "Welcome to the harbour tour", "start_s": 0.5, "end_s": 2.0},
            {"text": "the ferry leaves at noon", "start_s": 2.0, "end_s": 3.5},
        ]
    },
    "ocr": {"texts": [{"text": "HARBOUR CAFÉ", "start_s": 1.0, "end_s": 3.0}]},
}


@pytest.fixture
def db_env(env_factory, database_url: str):
    return env_factory(database_url=database_url)


def hits(env, q: str, **params) -> list[tuple]:
    r = env.client.get("/api/search", params={"q": q, **params}, headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    return [(h["evidence"][0]["kind"], h["evidence"][0]["text"], h["start"], h["end"]) for h in r.json()["hits"]]


def test_upload_analyse_search_review_and_audit(db_env, synth_clip: Path) -> None:
    env = db_env
    up = env.upload(synth_clip, name="harbour.mp4")
    assert env.run_jobs() == 1
    vid = up["video_id"]
    shots = env.client.get(f"/api/videos/{vid}/shots", headers=env.auth("viewer")).json()["shots"]
    assert [s["start_frame"] for s in shots] == [0, 30, 55, 90]
    assert (
        env.client.get(f"/api/blobs/{shots[1]['thumbnail_blob']}", headers=env.auth("viewer")).status_code
        == 200
    )

    env.store_results(vid, DOCS)
    assert sorted(hits(env, "harbour", rankers="words")) == [
        ("speech", "Welcome to the harbour tour", 0.5, 2.0),
        ("text", "HARBOUR CAFÉ", 1.0, 3.0),
    ]
    assert hits(env, "ferry noon", rankers="words") == [("speech", "the ferry leaves at noon", 2.0, 3.5)]
    assert hits(env, "100%_", rankers="words") == []
    # by meaning, on either database (pgvector on PostgreSQL where installed, else the HNSW file)
    assert hits(env, "when does the boat depart")[0][1] == "the ferry leaves at noon"
    tl = env.client.get(f"/api/videos/{vid}/timeline", headers=env.auth("viewer")).json()
    assert {(t["analyzer"], t["name"]) for t in tl["tracks"]} >= {("speech", "transcript"), ("ocr", "texts")}

    item = env.client.post(
        "/api/review",
        json={"kind": "copyright_match", "reason": "r", "video_id": vid},
        headers=env.auth("reviewer"),
    ).json()
    d = env.client.post(
        f"/api/review/{item['id']}/decision",
        json={"decision": "approve", "reason": "ok"},
        headers=env.auth("reviewer"),
    )
    assert d.status_code == 200 and d.json()["status"] == "approved"
    assert (
        env.client.post(
            f"/api/review/{item['id']}/decision",
            json={"decision": "reject", "reason": "x"},
            headers=env.auth("admin"),
        ).status_code
        == 409
    )
    entries = env.client.get("/api/audit", headers=env.auth("admin")).json()["entries"]
    assert [(e["action"], e["actor"], e["status_code"]) for e in entries[:4]] == [
        (f"post /api/review/{item['id']}/decision", "admin", 409),  # refused attempts are recorded too
        ("review.approve", "reviewer", 200),
        ("review.create", "reviewer", 201),
        ("video.upload", "reviewer", 201),
    ]


def test_keys_sessions_and_resumable_upload(db_env, synth_clip: Path) -> None:
    env = db_env
    data = synth_clip.read_bytes()
    h = env.auth("reviewer")
    up = env.client.post("/api/uploads", json={"filename": "big.mp4", "size": len(data)}, headers=h).json()
    half = len(data) // 2
    for start, end in ((0, half), (half, len(data))):
        r = env.client.put(
            f"/api/uploads/{up['id']}",
            content=data[start:end],
            headers={**h, "Content-Range": f"bytes {start}-{end - 1}/{len(data)}"},
        )
        assert r.status_code == 200, r.text
    done = env.client.post(f"/api/uploads/{up['id']}/complete", headers=h)
    assert done.status_code == 201, done.text
    revoked = env.client.delete(
        f"/api/keys/{env.accounts.list_keys('viewer')[0]['id']}", headers=env.auth("admin")
    )
    assert revoked.status_code == 200
    r = env.client.get("/api/videos", headers=env.auth("viewer"))
    assert r.status_code == 401 and r.json()["error"]["message"] == "this API key was revoked"
