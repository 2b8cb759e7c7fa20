"""Edit jobs over HTTP: queue, follow, read the decision list, fetch the output; errors are documented ones;
the edit page draws the decision list and the player."""

from __future__ import annotations

from pathlib import Path

from vidlens.govern.implicit import read_label


def test_edit_job_queue_follow_decisions_output_and_page(env, synth_clip: Path, tmp_path: Path) -> None:
    video = env.upload(synth_clip)
    env.run_jobs()  # the upload's analysis
    r = env.client.post("/api/edits", json={"video_id": video["video_id"], "keep_level": True},
                        headers=env.auth("reviewer"))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["output_url"] is None
    # not done yet: the result is a documented 409
    assert env.client.get(f"/api/edits/{job['job_id']}/decisions", headers=env.auth("viewer")).status_code == 409
    env.run_jobs()
    done = env.client.get(f"/api/edits/{job['job_id']}", headers=env.auth("viewer")).json()
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0
    result = env.client.get(done["decisions_url"], headers=env.auth("viewer")).json()
    d = result["decisions"]
    assert d["kept"] == 1 and d["output_frame_count"] == d["frame_count"]
    out = env.client.get(done["output_url"], headers=env.auth("viewer"))
    assert out.status_code == 200 and out.headers["content-type"] == "video/mp4"
    (tmp_path / "out.mp4").write_bytes(out.content)
    assert read_label(tmp_path / "out.mp4").label is not None  # the AIGC implicit label travelled with it
    # the page: decision list as a timeline, and the player on the output
    page = env.client.get(f"/edit/{job['job_id']}", headers=env.auth("viewer"), follow_redirects=False)
    assert page.status_code == 200, page.text
    assert 'id="decision-bar"' in page.text and f'src="/api/edits/{job["job_id"]}/output"' in page.text
    assert page.text.count("seg-kept") == 1
    index = env.client.get("/edit", headers=env.auth("viewer"))
    assert index.status_code == 200 and f'href="/edit/{job["job_id"]}"' in index.text


def test_edit_api_errors(env, synth_clip: Path) -> None:
    h = env.auth("reviewer")
    assert env.client.post("/api/edits", json={"video_id": "nope"}, headers=h).status_code == 404
    assert env.client.post("/api/edits", json={"video_id": "x", "reframe": "2:1"}, headers=h).status_code in (400, 422)
    assert env.client.post("/api/edits", json={"video_id": "x", "bogus": 1}, headers=h).status_code in (400, 422)
    assert env.client.post("/api/edits", json={"video_id": "x"}, headers=env.auth("viewer")).status_code == 403
    video = env.upload(synth_clip)
    for bad, why in (({"lip_sync": True}, "ask for a dub too"), ({"dub": "en", "face_index": 1}, "lip_sync too"),
                     ({"dub": "en", "lip_sync": True, "face_index": -1}, None)):
        r = env.client.post("/api/edits", json={"video_id": video["video_id"], **bad}, headers=h)
        assert r.status_code in (400, 422) and (why is None or why in r.text), r.text
    assert env.client.get("/api/edits/99999", headers=h).status_code == 404
    assert env.client.get("/api/edits/99999/output", headers=h).status_code == 404


def test_a_failed_edit_shows_its_headline_not_ffmpeg_s_log(env, synth_clip: Path) -> None:
    from vidlens.errors import FFmpegError

    video = env.upload(synth_clip)
    env.run_jobs()
    r = env.client.post("/api/edits", json={"video_id": video["video_id"]}, headers=env.auth("reviewer"))
    job_id = r.json()["job_id"]
    secret = str(env.platform.data_dir / "tmp" / "graph.txt")
    env.platform.jobs.claim("w")
    env.platform.jobs.fail(job_id, "w", FFmpegError(f"render failed: ffmpeg failed (exit 183): Invalid data\n"
                                                    f"FFmpeg's log ends:\nreading {secret}",
                                                    command=["ffmpeg"], returncode=183, log_tail=f"reading {secret}"))
    shown = env.client.get(f"/api/edits/{job_id}", headers=env.auth("viewer")).json()
    assert shown["status"] == "failed" and shown["error"] == "render failed: ffmpeg failed (exit 183): Invalid data"
    assert secret not in str(shown)


def test_a_lip_synced_dub_is_queued_with_its_options(env, synth_clip: Path) -> None:
    video = env.upload(synth_clip)
    r = env.client.post("/api/edits", json={"video_id": video["video_id"], "dub": "en", "lip_sync": True,
                                            "face_index": 0}, headers=env.auth("reviewer"))
    assert r.status_code == 202, r.text
    job = env.platform.jobs.get(r.json()["job_id"])
    assert job.kind == "edit" and job.payload["lip_sync"] is True and job.payload["face_index"] == 0
