"""The review queue (search is tested in tests/search)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from vidlens.api.review import ReviewQueue

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
