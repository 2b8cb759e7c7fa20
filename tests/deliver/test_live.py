"""Live: a real FFmpeg publisher pushes a looped clip (RTMP, SRT, RTSP) to the supervisor on loopback."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest

from vidlens.deliver.ladder import hls_playlist_entries
from vidlens.deliver.latency import measure_latency, publisher_command, read_stamp
from vidlens.deliver.live import ENDLIST, LiveOptions, StreamSupervisor, live_command, retry_delay
from vidlens.deliver.verify import _init_uri, master_variants, video_segments

pytestmark = pytest.mark.timeout(180)

SOCKET_KIND = {"rtmp": socket.SOCK_STREAM, "srt": socket.SOCK_DGRAM, "rtsp": socket.SOCK_STREAM}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listener(protocol: str, name: str, **kw: object) -> LiveOptions:
    """Options for a supervisor that listens for a push of ``protocol`` on a free loopback port."""
    return LiveOptions(name=name, protocol=protocol, port=free_port(SOCKET_KIND[protocol]), **kw)


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


def publish(
    procs: list[subprocess.Popen], clip: Path, url: str, base: float, rtsp_transport: str = "tcp"
) -> subprocess.Popen:
    """Start a publisher, retrying while the (re)started listener is not bound yet, as encoders do."""
    for _ in range(20):
        p = subprocess.Popen(
            publisher_command(clip, url, base, rtsp_transport=rtsp_transport),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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


def frames_per_segment(playlist: Path) -> list[tuple[float, int]]:
    """(listed duration, frames that decode) for every segment a playlist lists."""
    init = _init_uri(playlist)
    head = (playlist.parent / init).read_bytes() if init else b""
    out = []
    for duration, uri in hls_playlist_entries(playlist):
        with av.open(io.BytesIO(head + (playlist.parent / uri).read_bytes())) as c:
            out.append((duration, sum(1 for _ in c.decode(video=0))))
    return out


def assert_listed_segments_whole(playlist: Path, fps: int = 30) -> None:
    """Every listed segment decodes to as many frames as its listed duration says: none is half-written."""
    listed = frames_per_segment(playlist)
    assert listed
    for duration, frames in listed:
        assert abs(frames - duration * fps) <= 1.5, (playlist, listed)  # rounding of EXTINF (3 decimals)


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


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_push_is_transcoded(small_clip, tmp_path, publishers, transport):
    """FFmpeg publishes with ANNOUNCE/RECORD (RTP interleaved on TCP, or on UDP ports it negotiates)."""
    opts = listener("rtsp", "rtsp1", rungs=2, max_height=480)
    assert opts.ingest_url.startswith("rtsp://127.0.0.1:") and opts.listens
    out = tmp_path / "rtsp"
    with StreamSupervisor(opts, out) as sup:
        base = time.time()
        publish(publishers, small_clip, opts.ingest_url, base, rtsp_transport=transport)
        lat = measure_latency(out / "480p" / "index.m3u8", base, segments=2, timeout_s=90)
        assert 0 < lat.last_frame_s < lat.first_frame_s < 30
        assert [v.parent.name for v in master_variants(out / "master.m3u8")] == ["480p", "360p"]
        assert sup.status().state == "live" and sup.status().restarts == 0
        assert_listed_segments_whole(out / "480p" / "index.m3u8")


@pytest.mark.parametrize("protocol", ["rtmp", "srt", "rtsp"])
def test_a_publisher_that_drops_out_interrupts_the_stream_without_ending_it(
    small_clip, tmp_path, publishers, protocol
):
    """Killed mid-stream: the reason is recorded, the playlist stays live and lists only whole
    segments, the listener waits again; only a deliberate stop marks the playlist ended."""
    opts = listener(protocol, f"drop-{protocol}", rungs=1, max_height=360, stall_timeout_s=3.0)
    out = tmp_path / protocol
    playlist = out / "360p" / "index.m3u8"
    with StreamSupervisor(opts, out) as sup:
        pub = publish(publishers, small_clip, opts.ingest_url, time.time())
        wait_for(lambda: len(segments(playlist)) >= 2, what="two segments")
        pub.kill()
        # TCP peers close (FFmpeg reads the end of the stream); a killed SRT caller just goes quiet
        wait_for(lambda: {"disconnected", "stalled"} & set(kinds(sup)), timeout=30, what="the drop")
        wait_for(lambda: sup.status().state == "waiting", what="listening again")
        status = sup.status()
        assert status.last_error and status.restarts == 1 and status.waiting_s is not None
        assert ENDLIST not in playlist.read_text()  # a player keeps waiting for more
        assert_listed_segments_whole(playlist)
    assert playlist.read_text().rstrip().endswith(ENDLIST)  # stopped on purpose: now it has ended
    assert not list(out.glob("*/*.tmp"))


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


def test_nobody_pushing_is_a_waiting_state_with_nothing_presented(tmp_path):
    opts = listener("srt", "idle")
    with StreamSupervisor(opts, tmp_path / "idle") as sup:
        time.sleep(2.0)
        status = sup.status()
        assert status.state == "waiting" and status.waiting_s >= 1.5 and status.restarts == 0
        assert status.last_error is None and kinds(sup) == ["started"]
        assert not (tmp_path / "idle" / "master.m3u8").exists()


@pytest.mark.parametrize("protocol", ["rtmp", "rtsp"])
def test_a_peer_that_connects_and_sends_nothing_is_dropped(tmp_path, protocol):
    """A silent connection must not hold the only listening socket for ever."""
    opts = listener(protocol, f"silent-{protocol}", stall_timeout_s=2.0, restart_delay_s=0.2)
    with StreamSupervisor(opts, tmp_path / "silent") as sup:
        wait_for(lambda: sup.status().state == "waiting", what="listener")
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", opts.port), timeout=10) as s:
            s.settimeout(20)  # 10x the stall timeout: a hang-up, not a slow machine, is what is tested
            try:
                got = s.recv(1 << 16)  # blocks until FFmpeg hangs up (before: it waited for ever)
            except ConnectionResetError:
                got = b""
            assert got == b""
        # RTMP: FFmpeg's own I/O timeout ends the run; RTSP: the supervisor sees the idle connection
        wait_for(lambda: {"exited", "stalled"} & set(kinds(sup)), timeout=10, what="the silent run to end")
        assert sup.status().last_error
        wait_for(lambda: kinds(sup).count("started") >= 2, what="listening again")


def test_garbage_instead_of_an_rtsp_announce_is_reported(tmp_path):
    opts = listener("rtsp", "junk", restart_delay_s=0.2)
    with StreamSupervisor(opts, tmp_path / "junk") as sup:
        wait_for(lambda: sup.status().state == "waiting", what="listener")
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", opts.port), timeout=5) as s:
            s.sendall(os.urandom(4096) + b"\r\n\r\n")
            wait_for(lambda: "exited" in kinds(sup), timeout=15, what="the garbage to end the run")
        assert sup.status().last_error
        wait_for(lambda: kinds(sup).count("started") >= 2, what="listening again")
        assert not (tmp_path / "junk" / "master.m3u8").exists()


class CorruptingRelay:
    """A TCP relay that passes a publisher's bytes through, then replaces them with random bytes."""

    def __init__(self, target_port: int, clean_bytes: int) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target_port = target_port
        self.clean_bytes = clean_bytes
        self.corrupted = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        src, _ = self.server.accept()
        dst = socket.create_connection(("127.0.0.1", self.target_port))
        threading.Thread(target=self._pipe, args=(dst, src, False), daemon=True).start()
        self._pipe(src, dst, True)

    def _pipe(self, a: socket.socket, b: socket.socket, corrupt: bool) -> None:
        sent = 0
        try:
            while data := a.recv(1 << 14):
                if corrupt and sent >= self.clean_bytes:
                    data = os.urandom(len(data))
                    self.corrupted.set()
                b.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for sock in (a, b):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


def test_a_stream_that_turns_to_garbage_mid_way_is_cut_off(small_clip, tmp_path, publishers):
    opts = listener("rtmp", "corrupt", rungs=1, max_height=360, stall_timeout_s=3.0, restart_delay_s=0.2)
    out = tmp_path / "corrupt"
    playlist = out / "360p" / "index.m3u8"
    relay = CorruptingRelay(opts.port, clean_bytes=600_000)  # about 2-3 s of the 720p push
    with StreamSupervisor(opts, out) as sup:
        wait_for(lambda: sup.status().state == "waiting", what="listener")
        time.sleep(0.5)
        publish(publishers, small_clip, f"rtmp://127.0.0.1:{relay.port}/live/stream", time.time())
        wait_for(relay.corrupted.is_set, what="the relay to start corrupting")
        wait_for(
            lambda: {"disconnected", "stalled", "garbage"} & set(kinds(sup)), timeout=30, what="the cut-off"
        )
        assert sup.status().last_error
        wait_for(lambda: kinds(sup).count("started") >= 2, what="listening again")
        if playlist.exists():  # what was listed before the garbage stays whole and live
            assert ENDLIST not in playlist.read_text()
            assert_listed_segments_whole(playlist)
    relay.close()


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
    udp = live_command(opts.model_copy(update={"rtsp_transport": "udp"}), tmp_path)  # a camera offering UDP only
    assert udp[udp.index("-rtsp_transport") + 1] == "udp"
    with StreamSupervisor(opts, tmp_path / "rtsp") as sup:  # nothing serves that port
        wait_for(lambda: kinds(sup).count("exited") >= 3, what="three failed pulls")
        assert sup.status().restarts >= 3
        assert "refused" in sup.status().last_error.lower()
        # retries back off: 0.2 s, then 0.4 s, then 0.8 s between attempts
        details = [e.detail for e in sup.status().events if e.kind == "exited"]
        assert [d.rsplit("retrying in ", 1)[1] for d in details[:3]] == ["0.2 s", "0.4 s", "0.8 s"], details
        assert not (tmp_path / "rtsp" / "master.m3u8").exists()


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
    with pytest.raises(ValueError, match="not both"):
        LiveOptions(name="a", protocol="rtsp", url="rtsp://cam/1", port=8554)
    with pytest.raises(ValueError, match="give a port"):
        LiveOptions(name="a", protocol="srt", url="rtsp://cam/1")
    push = LiveOptions(name="a", protocol="rtsp", port=8554, stream_key="cam")
    assert push.listens and push.ingest_url == "rtsp://127.0.0.1:8554/live/cam"
    pull = LiveOptions(name="a", protocol="rtsp", url="rtsp://cam/1")
    assert not pull.listens and pull.ingest_url == "rtsp://cam/1"
    assert LiveOptions(name="a", port=1935, max_height=480, rungs=3).heights() == [480, 360]
    backoff = LiveOptions(name="a", port=1935, restart_delay_s=0.5, max_restart_delay_s=30)
    assert [retry_delay(backoff, n) for n in (0, 1, 2, 3, 8)] == [0.5, 0.5, 1.0, 2.0, 30]
