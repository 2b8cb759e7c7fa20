"""Run ``vidlens serve`` as a child process on a free loopback port (for tests, benchmarks, scripts).

The child is the real command line, so whatever drives it exercises the same process
model as production: uvicorn, the API, the UI and the background worker thread.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vidlens.errors import VidLensError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def admin_password(self) -> str | None:
        """The password printed once when the server created the first admin user."""
        m = re.search(r"created user admin with password (\S+)", self.log())
        return m.group(1) if m else None


@contextmanager
def running_server(
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 60.0,
    extra_args: list[str] | None = None,
) -> Iterator[ServerProcess]:
    """Start ``vidlens serve`` on 127.0.0.1:<free port>, wait until healthy, stop it (SIGINT) after."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data_dir / f"serve-{port}.log"
    child_env = {**os.environ, **(env or {}), "COLUMNS": "500", "NO_COLOR": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vidlens",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *(extra_args or []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", data_dir, log_path, proc)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise VidLensError(f"vidlens serve exited with {proc.returncode}: {server.log()[-2000:]}")
            try:
                with urllib.request.urlopen(server.url + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise VidLensError(
                    f"vidlens serve did not answer within {timeout_s:.0f} s: {server.log()[-2000:]}"
                )
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
