"""The FFmpeg binary and a runner that keeps its log tail.

The binary comes from the ``imageio-ffmpeg`` wheel (a full static build: x264/x265,
libvpx, AV1, libvmaf, SRT, chromaprint), so no system FFmpeg is needed. A user can
point ``VIDLENS_FFMPEG`` at their own build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from vidlens.errors import FFmpegError, MediaError

LOG_TAIL_LINES = 30


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary: ``VIDLENS_FFMPEG``, else the packaged one, else ``ffmpeg`` on PATH."""
    override = os.environ.get("VIDLENS_FFMPEG")
    if override:
        if not Path(override).is_file():
            raise MediaError(f"VIDLENS_FFMPEG points at '{override}', which is not a file")
        return override
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # pragma: no cover - only without the wheel
        found = shutil.which("ffmpeg")
        if found:
            return found
        raise MediaError("no FFmpeg binary: install imageio-ffmpeg or set VIDLENS_FFMPEG") from exc


def tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


_BOILERPLATE = ("Error opening input", "Exiting with exit code", "Error while decoding stream", "Conversion failed")


def diagnose(path: str | Path, *, timeout: float = 60.0) -> str:
    """FFmpeg's own account of what is wrong with a file: its error lines, addresses stripped.

    Used after PyAV has failed, instead of PyAV's log capture: routing libav's log through
    Python deadlocks with frame-threaded decoding (PyAV issues #751, #909), so VidLens keeps
    libav quiet in-process and asks the CLI once, only when something went wrong.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", str(path),
           "-map", "0:v:0?", "-f", "null", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr or b""
    else:
        err = out.stderr
    lines = []
    for line in err.decode("utf-8", "replace").splitlines():
        line = re.sub(r"^\[(\S+) @ 0x[0-9a-f]+\]", r"[\1]", line.strip())
        if line and not any(b in line for b in _BOILERPLATE) and not line.startswith("Error opening input file"):
            lines.append(line)
    return tail("\n".join(dict.fromkeys(lines)))


def _cause(log_text: str) -> str:
    """The last line of the log that says what went wrong (not FFmpeg's closing "Conversion failed!")."""
    lines = [line for line in log_text.splitlines() if line.strip()]
    telling = [line for line in lines if not any(b in line for b in _BOILERPLATE)]
    return (telling or lines or ["no output"])[-1]


def run_ffmpeg(
    args: Sequence[str],
    *,
    on_progress: Callable[[dict[str, str]], None] | None = None,
    path: str | None = None,
    timeout: float | None = None,
) -> str:
    """Run ``ffmpeg ARGS`` and return its stderr log tail.

    With ``on_progress``, FFmpeg's ``-progress pipe:1`` key=value blocks are parsed
    and delivered as they arrive. A non-zero exit raises ``FFmpegError`` carrying the
    exact command and the last lines of the log.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
    if on_progress is not None:
        cmd += ["-progress", "pipe:1", "-nostats"]
    cmd += list(args)
    log: deque[str] = deque(maxlen=200)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if on_progress else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    import threading

    def drain_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line.rstrip("\n"))

    t = threading.Thread(target=drain_stderr, daemon=True)
    t.start()
    if on_progress is not None:
        assert proc.stdout is not None
        block: dict[str, str] = {}
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if not key:
                continue
            block[key] = value
            if key == "progress":
                on_progress(block)
                block = {}
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        t.join(timeout=5)
        raise FFmpegError(f"ffmpeg timed out after {timeout}s", command=cmd, returncode=-9,
                          log_tail=tail("\n".join(log)), path=path) from None
    t.join(timeout=5)
    log_text = tail("\n".join(log))
    if rc != 0:
        last = _cause(log_text)
        raise FFmpegError(f"ffmpeg failed (exit {rc}): {last}", command=cmd, returncode=rc,
                          log_tail=log_text, path=path)
    return log_text


@contextmanager
def raw_frames_encoder(args: Sequence[str], *, what: str, path: str | None = None
                       ) -> Iterator[Callable[[bytes | memoryview], int]]:
    """``write`` for raw frames into ``ffmpeg ARGS`` (whose input is ``-i -``), for frames made in Python.

    Leaving the block closes FFmpeg's input and waits for it; a non-zero exit raises ``MediaError``
    saying that ``what`` failed, with its log's last line. FFmpeg stopping early (a broken pipe) ends
    the writing, and its exit status then says why.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        yield proc.stdin.write
    except BrokenPipeError:
        pass
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace")
        rc = proc.wait()
    if rc != 0:
        raise MediaError(f"{what} failed: {err.strip().splitlines()[-1] if err.strip() else rc}",
                         path=path, log_tail=err[-2000:])
