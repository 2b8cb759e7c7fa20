"""Delivery as durable jobs: `--background` queues, a worker runs, the job row keeps the outcome."""

from __future__ import annotations

import json
import threading

from vidlens.cli.app import inner_main
from vidlens.cli.common import open_platform
from vidlens.jobs.worker import Worker


def queue(capsys, data_dir, *argv: str) -> int:
    rc = inner_main([*argv, "--background", "--json", "--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)["job_id"]


def run_all(data_dir) -> object:
    platform = open_platform(data_dir)
    Worker(platform).run(threading.Event(), idle_exit=True)
    return platform


def test_queued_transcode_and_package_store_results_and_progress(small_clip, tmp_path, capsys):
    data = tmp_path / "data"
    out = tmp_path / "out.mp4"
    t = queue(capsys, data, "transcode", str(small_clip), str(out), "--profile", "web-h264")
    p = queue(
        capsys, data, "package", str(small_clip), str(tmp_path / "pkg"), "--hls", "--speed", "ultrafast"
    )
    assert not out.exists()  # queued, not run
    jobs = run_all(data).jobs
    tj, pj = jobs.get(t), jobs.get(p)
    assert (tj.kind, tj.status, pj.kind, pj.status) == (
        "deliver.transcode",
        "succeeded",
        "deliver.package",
        "succeeded",
    )
    assert out.is_file() and (tmp_path / "pkg" / "master.m3u8").is_file()
    # loudness measured before and after is stored with the job, as is where the label went
    assert abs(tj.result["loudness"]["after"]["integrated"] + 14) < 1
    assert tj.result["labels"]["AIGC"] == "carried" and pj.result["labels"]["AIGC"] == {"hls": "carried"}
    assert tj.progress > 0.9 and pj.progress > 0.9


def test_a_failed_run_keeps_its_error_and_ffmpeg_log_on_the_job(clips, clip_factory, tmp_path, capsys):
    whole = clip_factory(
        clips / "whole_8s.mp4", size="320x180", seconds=8.0, extra=["-movflags", "+faststart"]
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    data = tmp_path / "data"
    j = queue(capsys, data, "transcode", str(cut), str(tmp_path / "x.mp4"), "--profile", "preview")
    job = run_all(data).jobs.get(j)
    assert job.status == "failed" and job.attempts == 1  # a damaged file is not retried
    assert job.error_code == "corrupt_media" and "ends early" in job.error_message
    assert "frame=" in job.error_detail["log_tail"] or "Lsize" in job.error_detail["log_tail"]
    assert not (tmp_path / "x.mp4").exists()


def test_bad_options_are_refused_before_anything_is_queued(small_clip, tmp_path, capsys):
    data = tmp_path / "data"
    rc = inner_main(
        ["transcode", str(small_clip), str(tmp_path / "o.mp4"), "--profile", "nope", "--background"]
        + ["--data-dir", str(data)]
    )
    assert rc != 0
    assert open_platform(data).jobs.list() == []
