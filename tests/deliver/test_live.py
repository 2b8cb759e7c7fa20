"""Live: a real FFmpeg publisher pushes a looped clip to the supervisor on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vidlens.deliver.ladder import hls_playlist_entries
from vidlens.deliver.latency import measure_latency, publisher_command, read_stamp
from vidlens.deliver.live import LiveOptions, StreamSupervisor, live_command
from vidlens.deliver.verify import master_variants, video_segments

pytestmark = pytest.mark.timeout(180)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def publishers() -> Iterator[list[subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.kill()
        p.wait()


def publish(procs: list[subprocess.Popen], clip: Path, url: str, base: float) -> subprocess.Popen:
    """Start a publisher, retrying while the (re)started listener is not bound yet, as encoders do."""
    for _ in range(20):
        p = subprocess.Popen(
            publisher_command(clip, url, base), stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        procs.append(p)
        try:
            p.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return p
        time.sleep(0.5)  # back off before reconnecting
    raise AssertionError(f"publisher could not connect to {url}")


def segments(playlist: Path) -> list[str]:
    try:
        return [u for _, u in hls_playlist_entries(playlist)]
    except FileNotFoundError:
        return []


def kinds(sup: StreamSupervisor) -> list[str]:
    return [e.kind for e in sup.status().events]


def test_rtmp_push_becomes_a_low_latency_ladder(small_clip, tmp_path, publishers):
    opts = LiveOptions(name="cam1", protocol="rtmp", port=free_port(), list_size=4)
    out = tmp_path / "live"
    with StreamSupervisor(opts, out) as sup:
        base = time.time()
        publish(publishers, small_clip, opts.ingest_url, base)
        lat = measure_latency(out / "720p" / "index.m3u8", base, segments=3, timeout_s=90)
        assert lat.samples == 3
        # decoded stamps are real capture times: both positive, and a segment's first frame is older
        assert 0 < lat.last_frame_s < lat.first_frame_s < 30
        status = sup.status()
        assert status.state == "live" and status.restarts == 0
        variants = master_variants(out / "master.m3u8")
        assert [v.parent.name for v in variants] == ["720p", "480p", "360p"]
        text = variants[0].read_text()
        assert "#EXT-X-TARGETDURATION:1" in text and "#EXT-X-INDEPENDENT-SEGMENTS" in text
        wait_for(lambda: len(segments(variants[2])) >= 4, what="a full live window")
        # old segments are deleted: the folder holds about the window, not the whole stream
        wait_for(lambda: len(list((out / "720p").glob("seg_*.m4s"))) <= opts.list_size + 3, what="deletion")
        segs = [video_segments(v)[:2] for v in variants]
        assert all(s.starts_with_keyframe for rung in segs for s in rung)
    assert kinds(sup)[-1] == "stopped"
    assert (
        sup.pid is not None
        and subprocess.run(["kill", "-0", str(sup.pid)], capture_output=True, check=False).returncode
    )  # ffmpeg is gone


def test_srt_push_is_transcoded(small_clip, tmp_path, publishers):
    opts = LiveOptions(
        name="srt1", protocol="srt", port=free_port(socket.SOCK_DGRAM), rungs=2, max_height=480
    )
    out = tmp_path / "srt"
    with StreamSupervisor(opts, out):
        base = time.time()
        publish(publishers, small_clip, opts.ingest_url, base)
        lat = measure_latency(out / "480p" / "index.m3u8", base, segments=2, timeout_s=90)
        assert 0 < lat.last_frame_s < 30
        assert [v.parent.name for v in master_variants(out / "master.m3u8")] == ["480p", "360p"]


def test_a_push_without_audio_continues_video_only(clip_factory, clips, tmp_path, publishers):
    silent = clip_factory(clips / "no_audio.mp4", audio=False)
    opts = LiveOptions(name="mute", protocol="rtmp", port=free_port(), rungs=2, max_height=480)
    out = tmp_path / "mute"
    with StreamSupervisor(opts, out) as sup:
        base = time.time()
        publish(publishers, silent, opts.ingest_url, base)  # reconnects, as encoders do
        lat = measure_latency(out / "480p" / "index.m3u8", base, segments=2, timeout_s=90)
        assert 0 < lat.last_frame_s < 30
        assert "video-only" in kinds(sup)
        master = (out / "master.m3u8").read_text()
        assert "TYPE=AUDIO" not in master and master.count("#EXT-X-STREAM-INF") == 2
    assert "-map" in live_command(opts, out) and "a:0" not in " ".join(live_command(opts, out, audio=False))


def test_supervisor_restarts_after_garbage_and_stalls(small_clip, tmp_path, publishers):
    opts = LiveOptions(
        name="flaky", protocol="rtmp", port=free_port(), stall_timeout_s=2.0, restart_delay_s=0.2
    )
    out = tmp_path / "flaky"
    with StreamSupervisor(opts, out) as sup:
        wait_for(lambda: sup.status().state == "waiting", what="listener")
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", opts.port), timeout=5) as s:
            s.sendall(os.urandom(4096))  # not an RTMP handshake
        wait_for(lambda: "exited" in kinds(sup), what="the garbage push to end the run")
        exited = next(e for e in sup.status().events if e.kind == "exited")
        assert exited.log_tail  # FFmpeg's own words are kept
        wait_for(lambda: kinds(sup).count("started") >= 2, what="a restart")

        base = time.time()
        pub = publish(publishers, small_clip, opts.ingest_url, base)
        wait_for(lambda: sup.status().state == "live", what="media")
        pub.send_signal(signal.SIGSTOP)  # the publisher hangs with its socket open
        wait_for(lambda: "stalled" in kinds(sup), what="stall detection")
        pub.send_signal(signal.SIGCONT)
        pub.kill()
        restarts = sup.status().restarts
        assert restarts >= 2
        wait_for(lambda: sup.status().state == "waiting", what="listening again")
        time.sleep(0.5)
        publish(publishers, small_clip, opts.ingest_url, time.time())
        wait_for(lambda: sup.status().state == "live", what="the stream to come back")


def test_rtsp_pull_reconnects_and_reports(tmp_path):
    port = free_port()
    opts = LiveOptions(
        name="cam",
        protocol="rtsp",
        url=f"rtsp://127.0.0.1:{port}/cam",
        stall_timeout_s=1.0,
        restart_delay_s=0.2,
    )
    cmd = live_command(opts, tmp_path)
    assert cmd[cmd.index("-rtsp_transport") + 1] == "tcp"
    with StreamSupervisor(opts, tmp_path / "rtsp") as sup:  # nothing serves that port
        wait_for(lambda: kinds(sup).count("exited") >= 2, what="two failed pulls")
        assert sup.status().restarts >= 2
        assert any(
            "Connection refused" in e.log_tail or "refused" in e.log_tail.lower()
            for e in sup.status().events
            if e.kind == "exited"
        )


def test_stamp_round_trip():
    import numpy as np

    from vidlens.deliver.latency import BITS, BLOCK_H, BLOCK_W

    value = 0b101100111000111100001111
    img = np.zeros((720, 1280), np.uint8)
    for i in range(BITS):
        if value >> i & 1:
            img[:BLOCK_H, i * BLOCK_W : (i + 1) * BLOCK_W] = 255
    assert read_stamp(img) == value
    half = img[::2, ::2]  # a lower rung reads the same clock
    assert read_stamp(half) == value


def test_live_options_validation():
    with pytest.raises(ValueError, match="needs a port"):
        LiveOptions(name="a", protocol="rtmp")
    with pytest.raises(ValueError, match="rtsp://"):
        LiveOptions(name="a", protocol="rtsp", url="http://x")
    assert LiveOptions(name="a", port=1935, max_height=480, rungs=3).heights() == [480, 360]
