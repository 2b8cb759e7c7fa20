"""Govern over HTTP: triaging a library video keeps the verdict in the one audit log, under who asked."""

from __future__ import annotations

from pathlib import Path

from vidlens.govern import audit as audit_log


def test_triage_of_a_library_video_is_a_verdict_in_the_audit_chain(env, synth_clip: Path) -> None:
    video_id = env.upload(synth_clip)["video_id"]
    r = env.client.post(f"/api/govern/videos/{video_id}/triage", json={"declared_ai": True},
                        headers=env.auth("reviewer"))
    assert r.status_code == 201, r.text
    verdict = r.json()
    assert verdict["video_id"] == video_id and verdict["evidence"], verdict
    h = env.auth("viewer")
    assert env.client.get(f"/api/govern/triage/{verdict['seq']}", headers=h).json() == verdict
    listed = env.client.get("/api/govern/triage", params={"video_id": video_id}, headers=h).json()["verdicts"]
    assert [v["seq"] for v in listed] == [verdict["seq"]]
    with env.platform.store.read() as conn:
        entry = next(e for e in audit_log.entries(conn, limit=10) if e["seq"] == verdict["seq"])
    assert (entry["actor"], entry["role"]) == ("reviewer", "reviewer")
    assert audit_log.verify(env.platform.store).first_broken is None
    # a body the schema does not allow (a number for a boolean) is refused, not coerced
    bad = env.client.post(f"/api/govern/videos/{video_id}/triage", json={"declared_ai": 0},
                          headers=env.auth("reviewer"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
