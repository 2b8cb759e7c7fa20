"""Search over the stored documents (FTS5 and the LIKE fallback) and the review queue."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from vidlens.api.review import ReviewQueue

DOCS = {
    "speech": {
        "transcript": [
            {"text": "Welcome to the harbour tour", "start_s": 0.5, "end_s": 2.0},
            {"text": "the ferry leaves at noon", "start_s": 2.0, "end_s": 3.5},
        ]
    },
    "ocr": {"texts": [{"text": "HARBOUR CAFÉ", "start_s": 1.0, "end_s": 3.0}]},
    "objects": {"objects": [{"label": "boat", "start_s": 0.0, "end_s": 3.9, "track_id": 1}]},
    "faces": {
        "people": [
            {"person_id": 1, "identity": "Ada Lovelace", "faces": 2, "spans": [{"start_s": 2.5, "end_s": 3.0}]}
        ]
    },
}


@pytest.fixture(params=["fts5", "like"])
def search_env(request, env, synth_clip: Path):
    if request.param == "like":
        env.client.app.state.services.search._fts = False  # what a SQLite without FTS5 does
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    env.store_results(vid, DOCS)
    return env, vid, request.param


def hits(env, q: str, **params) -> list[tuple]:
    r = env.client.get("/api/search", params={"q": q, **params}, headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    return [(h["analyzer"], h["kind"], h["text"], h["start_s"], h["end_s"]) for h in r.json()["hits"]]


def test_search_finds_words_in_every_kind_of_result_with_spans(search_env) -> None:
    env, vid, mode = search_env
    assert sorted(hits(env, "harbour")) == [
        ("ocr", "texts", "HARBOUR CAFÉ", 1.0, 3.0),
        ("speech", "transcript", "Welcome to the harbour tour", 0.5, 2.0),
    ]
    assert sorted(hits(env, "boat"), key=str) == [
        ("objects", "objects", "boat", 0.0, 3.9),
        ("tags", "tags", "boat", None, None),  # the document's video-wide tag, derived from the track
    ]
    assert hits(env, "lovelace") == [("faces", "people", "Ada Lovelace", 2.5, 3.0)]  # one per span
    assert hits(env, "screen") == [("tags", "tags", "on-screen text", None, None)]
    assert hits(env, "ferry noon") == [("speech", "transcript", "the ferry leaves at noon", 2.0, 3.5)]
    assert hits(env, "ferry boat") == []  # every word must match
    assert hits(env, "harbour", analyzer="ocr") == [("ocr", "texts", "HARBOUR CAFÉ", 1.0, 3.0)]
    assert hits(env, "harbour", video_id="0" * 64) == []
    body = env.client.get("/api/search", params={"q": "boat"}, headers=env.auth("viewer")).json()
    assert (
        body["mode"] == mode
        and body["hits"][0]["video_id"] == vid
        and body["hits"][0]["title"] == "harbour.mp4"
    )


def test_search_follows_rerun_analyses(search_env) -> None:  # the projection is rewritten with the document
    env, vid, _ = search_env
    assert hits(env, "boat")
    env.store_results(vid, {"objects": {"objects": [{"label": "kayak", "start_s": 1.0, "end_s": 2.0}]}})
    assert hits(env, "boat") == []
    assert ("objects", "objects", "kayak", 1.0, 2.0) in hits(env, "kayak")
    assert hits(env, "harbour")  # the other analyzers' results are still part of the document


def test_search_treats_query_syntax_as_words(search_env) -> None:
    env, _, _ = search_env
    assert hits(env, 'harbour" OR "boat') == []  # quotes and operators are not FTS syntax here
    assert hits(env, "harb%") != []  # prefix in FTS5, substring in LIKE: both find 'harbour'
    assert hits(env, "100%_") == []
    r = env.client.get("/api/search", params={"q": "!!!"}, headers=env.auth("viewer"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


def test_review_queue_create_list_decide(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    created = env.client.post(
        "/api/review",
        json={
            "kind": "copyright_match",
            "reason": "matches registered work #7",
            "video_id": vid,
            "source": "protect",
            "label": "match",
            "start_s": 1.0,
            "end_s": 2.5,
            "payload": {"work": 7},
        },
        headers=env.auth("reviewer"),
    )
    assert created.status_code == 201
    item = created.json()
    assert item["status"] == "open" and item["subject"] == f"video:{vid}" and item["created_by"] == "reviewer"
    in_process = ReviewQueue(env.platform.store).create(
        kind="aigc_label", reason="label missing", video_id=vid, source="govern"
    )
    listed = env.client.get("/api/review", headers=env.auth("viewer")).json()["items"]
    assert [i["id"] for i in listed] == [item["id"], in_process["id"]]
    assert [
        i["id"]
        for i in env.client.get("/api/review?kind=aigc_label", headers=env.auth("viewer")).json()["items"]
    ] == [in_process["id"]]

    d = env.client.post(
        f"/api/review/{item['id']}/decision",
        json={"decision": "relabel", "reason": "licensed", "label": "licensed"},
        headers=env.auth("reviewer"),
    )
    assert d.status_code == 200
    assert (d.json()["status"], d.json()["decided_label"], d.json()["decided_by"]) == (
        "relabelled",
        "licensed",
        "reviewer",
    )
    again = env.client.post(
        f"/api/review/{item['id']}/decision",
        json={"decision": "approve", "reason": "x"},
        headers=env.auth("admin"),
    )
    assert again.status_code == 409
    assert (
        env.client.post(
            f"/api/review/{in_process['id']}/decision",
            json={"decision": "relabel", "reason": "x"},
            headers=env.auth("reviewer"),
        ).status_code
        == 422  # the schema says a relabel carries its label
    )
    assert (
        env.client.post(
            f"/api/review/{in_process['id']}/decision",
            json={"decision": "approve", "reason": ""},
            headers=env.auth("reviewer"),
        ).status_code
        == 422
    )
    assert (
        env.client.post(
            f"/api/review/{in_process['id']}/decision",
            json={"decision": "delete", "reason": "x"},
            headers=env.auth("reviewer"),
        ).status_code
        == 422
    )
    assert (
        env.client.get("/api/review?status=all", headers=env.auth("viewer")).json()["items"][0]["id"]
        == item["id"]
    )
    assert [i["id"] for i in env.client.get("/api/review", headers=env.auth("viewer")).json()["items"]] == [
        in_process["id"]
    ]

    entries = env.client.get("/api/audit", headers=env.auth("admin")).json()["entries"]
    decisions = [e for e in entries if e["action"].startswith("review.relabel")]
    assert len(decisions) == 1 and decisions[0]["actor"] == "reviewer"
    assert (
        decisions[0]["detail"]["reason"] == "licensed" and decisions[0]["subject"] == f"review:{item['id']}"
    )
    assert [e["action"] for e in entries].count("review.relabel") == 1  # not recorded twice


def test_review_items_validate_their_input(env) -> None:
    h = env.auth("reviewer")
    assert env.client.post("/api/review", json={"kind": "k", "reason": "r"}, headers=h).status_code == 400
    r = env.client.post("/api/review", json={"kind": "k", "reason": "r", "video_id": "f" * 64}, headers=h)
    assert r.status_code == 404
    r = env.client.post(
        "/api/review", json={"kind": "k", "reason": "r", "subject": "s", "start_s": 5, "end_s": 1}, headers=h
    )
    assert r.status_code == 400
    assert env.client.get("/api/review?status=weird", headers=env.auth("viewer")).status_code == 422  # an enum


def test_review_decision_and_audit_are_one_transaction(env) -> None:
    item = ReviewQueue(env.platform.store).create(kind="k", reason="r", subject="s")
    with env.platform.store.tx() as conn:
        conn.execute(sa.text("DROP TABLE govern_audit"))
    client = TestClient(env.client.app, raise_server_exceptions=False)
    r = client.post(
        f"/api/review/{item['id']}/decision",
        json={"decision": "approve", "reason": "ok"},
        headers=env.auth("reviewer"),
    )
    assert r.status_code == 500
    assert (
        ReviewQueue(env.platform.store).get(item["id"])["status"] == "open"
    )  # no decision without its audit row
