"""The CLI shapes outside scripts rely on: package IN OUTDIR --hls/--dash, --json, exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from vidlens.cli.app import inner_main


def run_json(capsys, *argv: str) -> dict:
    rc = inner_main([*argv, "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


def test_package_hls_and_dash_layout(labelled_720p, tmp_path, capsys):
    out = tmp_path / "out"
    r = run_json(
        capsys,
        "package",
        str(labelled_720p),
        str(out),
        "--hls",
        "--speed",
        "ultrafast",
        "--segment-seconds",
        "2",
        "--max-rungs",
        "2",
        "--player",
    )
    assert (out / "master.m3u8").is_file() and not (out / "manifest.mpd").exists()
    html = (out / "player.html").read_text()
    assert '"hls.min.js"' in html and 'DEFAULT_SRC = "master.m3u8"' in html
    assert (out / "hls.min.js").stat().st_size > 100_000 and not (out / "dash.mediaplayer.min.js").exists()
    assert r["hls"] == "master.m3u8" and r["dash"] is None and len(r["renditions"]) == 2
    r = run_json(
        capsys,
        "package",
        str(labelled_720p),
        str(out),
        "--dash",
        "--speed",
        "ultrafast",
        "--max-rungs",
        "1",
        "--player",
    )
    assert (out / "manifest.mpd").is_file() and not (out / "master.m3u8").exists()  # replaced whole
    html = (out / "player.html").read_text()  # a DASH-only folder's player opens the MPD with dash.js
    assert 'DEFAULT_SRC = "manifest.mpd"' in html and (out / "dash.js.LICENSE").is_file()
    assert (out / "dash.mediaplayer.min.js").stat().st_size > 100_000 and not (out / "hls.min.js").exists()
    run_json(
        capsys,
        "package",
        str(labelled_720p),
        str(out),
        "--hls",
        "--dash",
        "--speed",
        "ultrafast",
        "--max-rungs",
        "1",
    )
    assert (out / "manifest.mpd").is_file() and (out / "master.m3u8").is_file()


def test_package_errors_are_one_line_with_exit_codes(tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 5000)
    assert inner_main(["package", str(junk), str(tmp_path / "o"), "--hls"]) == 10
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    assert inner_main(["package", str(junk), str(tmp_path / "o")]) == 2
    assert "choose --hls, --dash or both" in capsys.readouterr().err
    assert inner_main(["package", str(junk), str(tmp_path / "o"), "--dash", "--segment-type", "ts"]) == 2
    assert (
        capsys.readouterr().err
        == "error: DASH needs fMP4 segments; use segment_type 'fmp4' (it serves HLS as well)\n"
    )


def test_transcode_loudness_thumbnails(small_clip, tmp_path, capsys):
    r = run_json(capsys, "transcode", str(small_clip), str(tmp_path / "a.webm"), "--profile", "web-vp9")
    assert r["encoder"] == "libvpx-vp9" and r["labels"]["AIGC"] == "carried"
    assert (
        inner_main(["transcode", str(small_clip), str(tmp_path / "a.webm"), "-p", "web-vp9"]) == 5
    )  # exists
    assert inner_main(["transcode", str(small_clip), str(tmp_path / "c.webm")]) == 2  # h264 in webm
    assert inner_main(["transcode", str(small_clip), str(tmp_path / "b.mp4"), "--profile", "nope"]) == 4
    capsys.readouterr()
    r = run_json(capsys, "loudness", str(small_clip), str(tmp_path / "l.mp4"), "--target", "-16")
    assert abs(r["after"]["integrated"] + 16) < 1
    r = run_json(capsys, "loudness", str(small_clip))
    assert r["after"] is None and r["before"]["integrated"] < -20
    r = run_json(capsys, "thumbnails", str(small_clip), str(tmp_path / "th"), "--preview", "none")
    assert r["preview"] is None and (tmp_path / "th" / "thumbnails.vtt").is_file()
    r = run_json(capsys, "profiles")
    assert {p["name"] for p in r["profiles"]} >= {"web-h264", "web-av1"}


@pytest.mark.timeout(120)
def test_live_start_status_stop(small_clip, tmp_path, capsys):
    from vidlens.deliver.latency import publisher_command

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "data"
    r = run_json(
        capsys, "live", "start", "cam", "--rtsp-port", str(port), "--data-dir", str(data), "--rungs", "1"
    )
    assert r["ingest_url"] == f"rtsp://127.0.0.1:{port}/live/stream"
    pid = r["supervisor_pid"]
    pub = None
    try:
        assert inner_main(["live", "start", "cam", "--rtsp-port", str(port), "--data-dir", str(data)]) == 5
        capsys.readouterr()
        deadline = time.monotonic() + 60
        state = {}
        while time.monotonic() < deadline:
            if pub is None or pub.poll() is not None:
                pub = subprocess.Popen(
                    publisher_command(small_clip, r["ingest_url"], time.time()), stderr=subprocess.DEVNULL
                )
            state = run_json(capsys, "live", "status", "cam", "--data-dir", str(data))["streams"][0]
            # media flowing, and the first segment done (the master playlist follows it)
            if state["state"] == "live" and (data / "live" / "cam" / "master.m3u8").is_file():
                break
            time.sleep(1)
        assert state["state"] == "live" and state["supervisor_pid"] == pid
        assert (data / "live" / "cam" / "master.m3u8").is_file()
        stopped = run_json(capsys, "live", "stop", "cam", "--data-dir", str(data))
        assert stopped["was_running"]
        final = run_json(capsys, "live", "status", "--data-dir", str(data))["streams"][0]
        assert final["state"] == "stopped" and final["events"][-1]["kind"] == "stopped"
        # stopped on purpose: the playlist now says the stream has ended
        playlist = next((data / "live" / "cam").glob("*/index.m3u8"))
        assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    finally:
        if pub is not None:
            pub.kill()
            pub.wait()
        subprocess.run(
            [
                sys.executable,
                "-c",
                (f"import os,signal\ntry: os.kill({pid}, signal.SIGTERM)\nexcept ProcessLookupError: pass"),
            ],
            check=False,
        )
    assert inner_main(["live", "status", "nope", "--data-dir", str(data)]) == 4
