"""Real parts for Watch tests: a mosquitto broker, an RTSP server fed by FFmpeg, and the CLI itself.

Each is started by the test on a free port and stopped after it. The RTSP server is Debian's
rtsp-server-perl (a relay: FFmpeg publishes a clip to its source port, cameras read from its client
port, RTP over UDP); scripts/test-setup.sh installs it and mosquitto.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def ffmpeg() -> str:
    from imageio_ffmpeg import get_ffmpeg_exe

    return get_ffmpeg_exe()


def stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _need(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if os.path.exists(f"/usr/sbin/{binary}") else None)
    if path is None:
        pytest.fail(f"{binary} is not installed: apt-get install {package} (scripts/test-setup.sh does)")
    return path


@dataclass
class Broker:
    port: int
    proc: subprocess.Popen[Any] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([_need("mosquitto", "mosquitto"), "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A mosquitto on a free port, not started: ``broker.start()`` (so a test can start it late)."""
    b = Broker(free_port())
    yield b
    b.stop()


@dataclass
class RtspServer:
    """rtsp-server-perl plus an FFmpeg that publishes ``clip`` (looped, in real time) as ``/<name>``."""

    clip: Path
    name: str = "cam"
    client_port: int = field(default_factory=free_port)
    source_port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.client_port}/{self.name}"

    def start(self) -> None:
        server = subprocess.Popen(
            [_need("rtsp-server-perl", "rtsp-server-perl"), "--clientport", str(self.client_port), "--serverport",
             str(self.source_port), "--client_listen_address", "127.0.0.1", "--source_listen_address", "127.0.0.1",
             "--rtp_start_port", str(20000 + self.client_port % 20000), "--loglevel", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs = [server]
        wait_port(self.source_port, timeout=60.0)  # rtsp-server-perl loads slowly on a busy machine
        self.procs.append(subprocess.Popen(
            [ffmpeg(), "-v", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip), "-an", "-c", "copy",
             "-f", "rtsp", f"rtsp://127.0.0.1:{self.source_port}/{self.name}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)  # the publisher's ANNOUNCE has reached the server

    def stop(self) -> None:
        for p in reversed(self.procs):
            stop(p)
        self.procs = []


@pytest.fixture
def rtsp_server(shared_media: Path) -> Iterator[RtspServer]:
    s = RtspServer(shared_media / "surveillance" / "intel_one-by-one-person-detection.mp4")
    yield s
    s.stop()


def vidlens(*args: str, data_dir: Path, timeout: float = 240, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "vidlens", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"vidlens {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def start_vidlens(*args: str, data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "vidlens", *args, "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def events(data_dir: Path, *extra: str) -> list[dict[str, Any]]:
    return json.loads(vidlens("watch", "events", "--json", *extra, data_dir=data_dir).stdout)["events"]
