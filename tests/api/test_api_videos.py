"""Upload → ingest → analysis → stored document, shots, results, timeline, original file with Range, blobs."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from vidlens.media.probe import sha256_file


def test_upload_ingests_queues_and_analyses(env, synth_clip: Path) -> None:
    body = env.upload(synth_clip, name="My Holiday.mp4")
    assert body["video_id"] == sha256_file(synth_clip)
    assert body["status"] == "added" and body["job_id"] is not None and body["title"] == "My Holiday.mp4"
    stored = env.platform.data_dir / "uploads" / f"{body['video_id']}.mp4"
    assert stored.is_file() and stored.read_bytes() == synth_clip.read_bytes()
    assert not any((env.platform.data_dir / "uploads" / ".partial").iterdir())

    job = env.client.get(f"/api/jobs/{body['job_id']}", headers=env.auth("viewer")).json()
    assert job["status"] == "queued" and job["progress"] == 0.0
    assert env.run_jobs() == 1
    job = env.client.get(f"/api/jobs/{body['job_id']}", headers=env.auth("viewer")).json()
    assert job["status"] == "succeeded" and job["progress"] == 1.0

    vid = body["video_id"]
    shots = env.client.get(f"/api/videos/{vid}/shots", headers=env.auth("viewer")).json()["shots"]
    stored_doc = env.platform.catalog.result(vid, "shots")["data"]
    assert [s["start_frame"] for s in shots] == [s["start_frame"] for s in stored_doc["shots"]]
    assert len(shots) >= 2 and shots[0]["start_frame"] == 0 and all(s["thumbnail_blob"] for s in shots)
    assert abs(shots[1]["start_s"] - shots[1]["start_frame"] / 25) < 1e-6  # 25 fps clip

    listed = env.client.get("/api/videos", headers=env.auth("viewer")).json()["videos"]
    assert [v["id"] for v in listed] == [vid]
    assert listed[0]["status"] == "analysed" and listed[0]["failed"] == []
    assert listed[0]["thumbnail_blob"] == shots[0]["thumbnail_blob"]
    document = env.client.get(f"/api/videos/{vid}/document", headers=env.auth("viewer")).json()
    stored = env.platform.catalog.document(vid)
    assert "uri" not in document["video"] and stored["video"].pop("uri")  # no server path leaves the server
    assert document == stored and document["shots"] == shots

    detail = env.client.get(f"/api/videos/{vid}", headers=env.auth("viewer")).json()
    assert detail["title"] == "My Holiday.mp4" and detail["uploaded_by"] == "reviewer"
    assert "uri" not in detail  # no server paths leak
    assert detail["container"].startswith("mov,") and detail["container_name"] == "MPEG-4 (MP4)"
    installed = sorted(p.manifest.name for p in env.platform.plugins.of_kind("analyzer"))
    assert sorted(a["analyzer"] for a in detail["analyzers"]) == installed and "shots" in installed
    assert detail["status"] == "analysed" and {a["status"] for a in detail["analyzers"]} == {"ok"}

    doc = env.client.get(f"/api/videos/{vid}/results/shots", headers=env.auth("viewer")).json()
    assert doc["status"] == "ok" and len(doc["data"]["shots"]) == len(shots)
    missing = env.client.get(f"/api/videos/{vid}/results/no-such-analyzer", headers=env.auth("viewer"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_duplicate_upload_is_recognised_and_keeps_one_file(env, synth_clip: Path) -> None:
    first = env.upload(synth_clip, name="a.mp4")
    second = env.upload(synth_clip, name="b.mkv")
    assert second["video_id"] == first["video_id"] and second["status"] == "duplicate"
    files = sorted(p.name for p in (env.platform.data_dir / "uploads").iterdir() if p.is_file())
    assert files == [f"{first['video_id']}.mp4"]


def test_original_file_supports_range_requests(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    full = env.client.get(f"/api/videos/{vid}/file", headers=env.auth("viewer"))
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4" and full.content == synth_clip.read_bytes()
    part = env.client.get(f"/api/videos/{vid}/file", headers={**env.auth("viewer"), "Range": "bytes=100-199"})
    size = synth_clip.stat().st_size
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == synth_clip.read_bytes()[100:200]
    bad = env.client.get(
        f"/api/videos/{vid}/file", headers={**env.auth("viewer"), "Range": f"bytes={size + 10}-"}
    )
    assert bad.status_code == 416


def test_blobs_are_served_with_their_content_type(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    env.run_jobs()
    shot = env.client.get(f"/api/videos/{vid}/shots", headers=env.auth("viewer")).json()["shots"][0]
    r = env.client.get(f"/api/blobs/{shot['keyframe_blob']}", headers=env.auth("viewer"))
    assert (
        r.status_code == 200
        and r.headers["content-type"] == "image/jpeg"
        and r.content[:3] == b"\xff\xd8\xff"
    )
    assert "immutable" in r.headers["cache-control"]
    assert env.client.get(f"/api/blobs/{shot['keyframe_blob']}").status_code == 401
    gone = "ab/" + "ab" * 32 + ".jpg"
    assert env.client.get(f"/api/blobs/{gone}", headers=env.auth("viewer")).status_code == 404


def test_timeline_reads_the_stored_documents_timed_items(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    env.run_jobs()
    env.store_results(vid, {
        "objects": {"objects": [
            {"track_id": 1, "label": "person", "start_s": 0.4, "end_s": 2.0, "confidence": 0.9},
            {"track_id": 2, "label": "bicycle", "start_s": 1.0, "end_s": 3.5},
        ], "counts": {"person": 1, "bicycle": 1}},
        "speech": {"transcript": [{"text": "hello there", "start_s": 0.0, "end_s": 1.2}],
                   "speech_spans": [{"start_s": 0.0, "end_s": 1.3}], "language": "en"},
    })
    tl = env.client.get(f"/api/videos/{vid}/timeline", headers=env.auth("viewer")).json()
    assert len(tl["shots"]) >= 2
    by_name = {(t["analyzer"], t["name"]): t for t in tl["tracks"]}
    assert {("objects", "objects"), ("speech", "transcript")} <= set(by_name)
    assert ("speech", "speech_spans") not in by_name  # not part of the document: the lanes show the document
    objs = by_name[("objects", "objects")]["items"]
    assert [(i["text"], i["start_s"], i["end_s"]) for i in objs] == [
        ("person", 0.4, 2.0),
        ("bicycle", 1.0, 3.5),
    ]
    assert objs[0]["detail"]["confidence"] == 0.9 and objs[0]["detail"]["shot_index"] == 0
    assert by_name[("speech", "transcript")]["items"][0]["text"] == "hello there"


def test_list_filters_and_reanalysis(env, synth_clip: Path, tmp_path: Path) -> None:
    vid = env.upload(synth_clip, name="alpha cut.mp4")["video_id"]
    v = env.auth("viewer")
    assert [x["id"] for x in env.client.get("/api/videos?q=alpha", headers=v).json()["videos"]] == [vid]
    assert env.client.get("/api/videos?q=beta", headers=v).json()["videos"] == []
    assert env.client.get("/api/videos?min_duration_s=100", headers=v).json()["videos"] == []
    assert len(env.client.get("/api/videos?status=queued", headers=v).json()["videos"]) == 1
    assert env.client.get("/api/videos?status=analysed", headers=v).json()["videos"] == []
    assert env.client.get("/api/videos?status=succeeded", headers=v).status_code == 422
    r = env.client.post(f"/api/videos/{vid}/analyze?analyzers=shots", headers=env.auth("reviewer"))
    # the upload's analysis of every analyzer is still queued: asking for shots joins it
    assert r.status_code == 202 and r.json()["payload"] == {"video_id": vid}
    bad = env.client.post(f"/api/videos/{vid}/analyze?analyzers=nope", headers=env.auth("reviewer"))
    assert bad.status_code == 400 and "nope" in bad.json()["error"]["message"]
    assert env.run_jobs() == 1
    r = env.client.post(f"/api/videos/{vid}/analyze?analyzers=shots", headers=env.auth("reviewer"))
    assert r.status_code == 202 and r.json()["payload"] == {"video_id": vid, "analyzers": ["shots"]}
    assert env.run_jobs() == 1
    jobs = env.client.get(f"/api/jobs?video_id={vid}", headers=v).json()["jobs"]
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]


def test_jobs_cancel_and_retry(env, synth_clip: Path) -> None:
    job_id = env.upload(synth_clip)["job_id"]
    r = env.client.post(f"/api/jobs/{job_id}/cancel", headers=env.auth("reviewer"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = env.client.post(f"/api/jobs/{job_id}/cancel", headers=env.auth("reviewer"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert (
        env.client.post(f"/api/jobs/{job_id}/retry", headers=env.auth("reviewer")).json()["status"]
        == "queued"
    )
    assert env.client.get("/api/jobs?status=bogus", headers=env.auth("viewer")).status_code == 422
    assert env.client.get("/api/jobs/99999", headers=env.auth("viewer")).status_code == 404


def test_unknown_video_and_route_use_the_error_shape(env) -> None:
    r = env.client.get("/api/videos/" + "0" * 64, headers=env.auth("viewer"))
    assert r.status_code == 404 and set(r.json()["error"]) == {"code", "message", "details"}
    r = env.client.get("/api/nothing-here", headers=env.auth("viewer"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = env.client.get("/api/videos?limit=0", headers=env.auth("viewer"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"


def test_every_api_write_is_audited(env, synth_clip: Path) -> None:
    vid = env.upload(synth_clip)["video_id"]
    env.client.post(f"/api/videos/{vid}/analyze", headers=env.auth("reviewer"))
    env.client.post(
        "/api/videos/" + "0" * 64 + "/analyze", headers=env.auth("reviewer")
    )  # 404, still audited
    env.client.post(f"/api/videos/{vid}/analyze", headers=env.auth("viewer"))  # 403, audited
    entries = env.client.get("/api/audit", headers=env.auth("admin")).json()["entries"]
    got = [(e["actor"], e["action"], e["status_code"]) for e in reversed(entries)]
    assert got[:2] == [("reviewer", "video.upload", 201), ("reviewer", "video.analyze", 202)]
    assert got[2][0] == "reviewer" and got[2][2] == 404
    assert got[3][0] == "viewer" and got[3][2] == 403
    assert entries[-1]["subject"] == f"video:{vid}" and entries[-1]["via"] == "key"
    with env.platform.store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM govern_audit WHERE method = 'GET'")).scalar_one() == 0
