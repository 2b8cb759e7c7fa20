"""A live source feeds the analyzers through the same decode as a file.

A real FFmpeg process pushes a test pattern over RTMP to a listener that PyAV opens
(``listen=1``), as a camera or an encoder would push to VidLens. The shots and technical
analyzers consume it through ``FrameFanout`` until the caller stops the decode; killing the
pusher ends the decode with ``SourceError`` within the read timeout, never a hang.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from vidlens.analyze.base import AnalysisContext
from vidlens.analyze.builtin.shots import ShotDetector
from vidlens.analyze.builtin.technical import TechnicalAnalyzer
from vidlens.errors import SourceError
from vidlens.media.decode import FrameFanout
from vidlens.media.ffmpeg import ffmpeg_exe
from vidlens.media.source import open_source

FPS = 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Pusher:
    """``ffmpeg -re`` pushing a moving test pattern (the picture turns negative every 2 s: a cut) to ``url``, retried until the
    listener accepts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, deadline_s: float = 20.0) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            self.proc = subprocess.Popen(
                [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                 f"testsrc2=size=320x240:rate={FPS},negate=enable='lt(mod(t,4),2)'", "-t", "120", "-c:v", "libx264",
                 "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(FPS), "-pix_fmt", "yuv420p",
                 "-f", "flv", self.url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                self.proc.wait(timeout=1.0)  # exits at once while no one listens yet
            except subprocess.TimeoutExpired:
                return  # connected and pushing
        raise AssertionError(f"the pusher never connected to {self.url}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def live() -> Iterator[tuple[FrameFanout, _Pusher]]:
    url = f"rtmp://127.0.0.1:{_free_port()}/live/cam"
    fan = FrameFanout(None, source=open_source(url, timeout_s=5.0, options={"listen": "1"}))
    pusher = _Pusher(url)
    opened: dict[str, Any] = {}
    opener = threading.Thread(target=lambda: opened.setdefault("video", fan.open()), daemon=True)
    opener.start()  # the listener waits for the push
    try:
        time.sleep(0.3)
        pusher.start()
        opener.join(20)
        assert "video" in opened, "the live source did not open"
        yield fan, pusher
    finally:
        pusher.kill()


def _subscribe(fan: FrameFanout) -> None:
    video = fan.video
    assert video is not None
    ctx = AnalysisContext(video=video)
    for analyzer in (ShotDetector(), TechnicalAnalyzer()):
        analyzer.prepare(ctx)
        fan.subscribe(analyzer.name, analyzer.sampling_for(video),
                      lambda frames, a=analyzer: a.analyze(ctx, frames))


def test_analyzers_consume_a_live_push_until_stopped(live: tuple[FrameFanout, _Pusher]) -> None:
    fan, _ = live
    video = fan.video
    assert video is not None and video.id.startswith("live-") and (video.width, video.height) == (320, 240)
    _subscribe(fan)
    times: list[float] = []

    def on_frame(index: int, t: float) -> None:
        times.append(t)
        if index >= 5 * FPS:  # the caller (a camera supervisor) decides when a segment ends
            fan.stop()

    fan.on_frame = on_frame
    out = fan.run()
    shots, technical = out["shots"], out["technical"]
    assert not isinstance(shots, BaseException), shots
    assert not isinstance(technical, BaseException), technical
    assert times[0] == 0.0 and all(b > a for a, b in zip(times, times[1:]))  # rebased, strictly increasing
    assert shots["frames"] >= 5 * FPS and len(shots["shots"]) >= 2  # the negative turns every 2 s are cuts
    assert technical["cues"] is not None


def test_a_killed_pusher_ends_the_decode_with_source_error(live: tuple[FrameFanout, _Pusher]) -> None:
    fan, pusher = live
    _subscribe(fan)
    fan.on_frame = lambda index, t: pusher.kill() if index == 2 * FPS else None
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            fan.run()
        except BaseException as exc:  # examined below
            outcome["error"] = exc

    runner = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    runner.start()
    runner.join(30)
    assert not runner.is_alive(), "the decode hung after the pusher died"
    assert isinstance(outcome.get("error"), SourceError), outcome
    assert "rtmp://127.0.0.1" in str(outcome["error"]) and "cam" in str(outcome["error"])
    assert time.monotonic() - started < 25
