"""Live ingest to a low-latency HLS ladder, one supervised FFmpeg process per stream.

FFmpeg itself is the ingest server: it listens for an RTMP or SRT push, or pulls
RTSP, and writes 1-second fMP4 segments for every rung in one process. The
supervisor restarts it when it exits (publisher gone, garbage on the wire), when
its output stops advancing (a stalled publisher that keeps the socket open), or
when the decoder keeps reporting corrupt data, and records why each time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vidlens.deliver.ladder import LADDER
from vidlens.deliver.player import install_player
from vidlens.errors import UsageError
from vidlens.media.ffmpeg import ffmpeg_exe, tail

GARBAGE_PATTERNS = re.compile(
    r"error while decoding|Invalid data found|non-existing PPS|corrupt|"
    r"decode_slice_header error|missing picture",
    re.IGNORECASE,
)


class LiveOptions(BaseModel):
    """One live stream: where it comes from, and the ladder it is transcoded to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    protocol: Literal["rtmp", "srt", "rtsp"] = "rtmp"
    port: int | None = Field(default=None, ge=1, le=65535)
    host: str = "127.0.0.1"
    url: str | None = None  # RTSP pull URL
    stream_key: str = Field(default="stream", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    segment_seconds: float = Field(default=1.0, ge=0.5, le=6)
    list_size: int = Field(default=6, ge=3, le=60)
    fps: int = Field(default=30, ge=1, le=60)
    max_height: int = Field(default=720, ge=144, le=2160)
    rungs: int = Field(default=3, ge=1, le=6)
    speed: Literal["ultrafast", "superfast", "veryfast", "faster", "fast"] = "veryfast"
    audio_bitrate_kbps: int = Field(default=96, ge=32, le=320)
    stall_timeout_s: float = Field(default=5.0, gt=0.5, le=120)
    restart_delay_s: float = Field(default=0.5, ge=0, le=60)
    garbage_errors: int = Field(default=50, ge=1)

    @model_validator(mode="after")
    def _source(self) -> LiveOptions:
        if self.protocol == "rtsp" and not (self.url and self.url.startswith(("rtsp://", "rtsps://"))):
            raise ValueError("an RTSP pull needs url='rtsp://...'")
        if self.protocol in ("rtmp", "srt") and self.port is None:
            raise ValueError(f"an {self.protocol.upper()} listener needs a port")
        return self

    @property
    def ingest_url(self) -> str:
        """Where a publisher pushes (RTMP/SRT) or where we pull from (RTSP)."""
        if self.protocol == "rtmp":
            return f"rtmp://{self.host}:{self.port}/live/{self.stream_key}"
        if self.protocol == "srt":
            return f"srt://{self.host}:{self.port}"
        return str(self.url)

    def heights(self) -> list[int]:
        return [h for h, _ in LADDER if h <= self.max_height][: self.rungs] or [self.max_height]


# FFmpeg's hls muxer when var_stream_map names an audio stream the push does not have.
NO_AUDIO = "Unable to map stream at a:"


def live_command(opts: LiveOptions, outdir: Path, audio: bool = True) -> list[str]:
    """The FFmpeg command: ingest, decode once, split, encode each rung, segment to HLS.

    ``audio=False`` for a push found to carry no audio: the variant map may not name a stream
    that never arrives, and which streams a push carries is only known once it has connected.
    """
    if opts.protocol == "rtmp":
        inp = ["-listen", "1", "-i", opts.ingest_url]
    elif opts.protocol == "srt":
        inp = ["-i", f"{opts.ingest_url}?mode=listener&latency=120000"]
    else:
        inp = [
            "-rtsp_transport",
            "tcp",
            "-timeout",
            str(int(opts.stall_timeout_s * 1e6)),
            "-i",
            opts.ingest_url,
        ]
    heights = opts.heights()
    n = len(heights)
    gop = max(1, round(opts.fps * opts.segment_seconds))
    graph = [f"[0:v]fps={opts.fps},split={n}" + "".join(f"[s{i}]" for i in range(n))]
    # Size unknown until the push arrives: keep its aspect, never upscale, even width.
    graph += [f"[s{i}]scale=-2:'min({h},ih)',setsar=1,format=yuv420p[v{i}]" for i, h in enumerate(heights)]
    args = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-progress",
        "pipe:1",
        "-nostats",
        "-fflags",
        "+genpts+discardcorrupt",
        "-analyzeduration",
        "1000000",
        "-probesize",
        "1000000",
        *inp,
        "-filter_complex",
        ";".join(graph),
    ]
    for i in range(n):
        args += ["-map", f"[v{i}]"]
    if audio:
        args += [
            "-map",
            "0:a:0?",
            "-c:a",
            "aac",
            "-b:a",
            f"{opts.audio_bitrate_kbps}k",
            "-ac",
            "2",
            "-ar",
            "48000",
        ]
    for i, h in enumerate(heights):
        kb = next((k for hh, k in LADDER if hh == h), 800)
        args += [
            f"-c:v:{i}",
            "libx264",
            f"-preset:v:{i}",
            opts.speed,
            f"-tune:v:{i}",
            "zerolatency",
            f"-b:v:{i}",
            f"{kb}k",
            f"-maxrate:v:{i}",
            f"{int(kb * 1.1)}k",
            f"-bufsize:v:{i}",
            f"{kb}k",
            f"-g:v:{i}",
            str(gop),
            f"-keyint_min:v:{i}",
            str(gop),
            f"-sc_threshold:v:{i}",
            "0",
        ]
    vmap = [f"v:{i},name:{h}p" + (",agroup:audio" if audio else "") for i, h in enumerate(heights)]
    if audio:
        vmap.insert(0, "a:0,agroup:audio,name:audio,default:yes")
    args += [
        "-force_key_frames:v",
        f"expr:gte(t,n_forced*{opts.segment_seconds:g})",
        "-map_metadata",
        "0",
        "-f",
        "hls",
        "-hls_time",
        f"{opts.segment_seconds:g}",
        "-hls_list_size",
        str(opts.list_size),
        "-hls_flags",
        ("delete_segments+independent_segments+temp_file+append_list+discont_start+program_date_time"),
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        "init.mp4",
        "-hls_segment_options",
        "movflags=+use_metadata_tags",
        "-master_pl_name",
        "master.m3u8",
        "-var_stream_map",
        " ".join(vmap),
        "-hls_segment_filename",
        str(outdir / "%v" / "seg_%06d.m4s"),
        str(outdir / "%v" / "index.m3u8"),
    ]
    return args


@dataclass
class LiveEvent:
    at: float
    kind: str  # started | exited | stalled | garbage | video-only | stopped
    detail: str = ""
    log_tail: str = ""


@dataclass
class LiveStatus:
    name: str
    state: str  # starting | waiting | live | restarting | stopped
    ingest_url: str
    outdir: str
    pid: int | None
    restarts: int
    last_output_age_s: float | None
    events: list[LiveEvent] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class StreamSupervisor:
    """Keeps one live transcode running; restarts and reports when it fails or stalls."""

    def __init__(self, opts: LiveOptions, outdir: str | Path) -> None:
        self.opts = opts
        self.outdir = Path(outdir).absolute()
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._log: deque[str] = deque(maxlen=200)
        self._garbage = 0
        self._audio = True  # until a push turns out to have none
        self._no_audio = False
        self._last_out_us = -1
        self._last_advance: float | None = None
        self._events: list[LiveEvent] = []
        self._restarts = 0
        self._state = "starting"
        self._watchdog: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.outdir.mkdir(parents=True, exist_ok=True)
        install_player(self.outdir)
        self._spawn()
        self._watchdog = threading.Thread(target=self._watch, name=f"live-{self.opts.name}", daemon=True)
        self._watchdog.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._kill(graceful=True)
        if self._watchdog is not None:
            self._watchdog.join(timeout)
        self._state = "stopped"
        self._event("stopped")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def status(self) -> LiveStatus:
        age = None if self._last_advance is None else round(time.monotonic() - self._last_advance, 3)
        return LiveStatus(
            self.opts.name,
            self._state,
            self.opts.ingest_url,
            str(self.outdir),
            self.pid,
            self._restarts,
            age,
            list(self._events[-20:]),
        )

    # -- internals ---------------------------------------------------------------------------
    def _event(self, kind: str, detail: str = "", log_tail: str = "") -> None:
        with self._lock:
            self._events.append(LiveEvent(round(time.time(), 3), kind, detail, log_tail))

    def _spawn(self) -> None:
        self._log.clear()
        self._garbage = 0
        self._no_audio = False
        self._last_out_us = -1
        self._last_advance = None
        self._proc = subprocess.Popen(
            live_command(self.opts, self.outdir, audio=self._audio),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._state = "waiting"
        self._event("started", f"pid {self._proc.pid} listening on {self.opts.ingest_url}")
        proc = self._proc
        threading.Thread(target=self._read_progress, args=(proc,), daemon=True).start()
        threading.Thread(target=self._read_log, args=(proc,), daemon=True).start()

    def _read_progress(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit() and proc is self._proc:
                us = int(value)
                if us > self._last_out_us:
                    self._last_out_us = us
                    self._last_advance = time.monotonic()
                    self._state = "live"

    def _read_log(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self._log.append(line.rstrip("\n"))
            if proc is not self._proc:
                continue
            if GARBAGE_PATTERNS.search(line):
                self._garbage += 1
            elif NO_AUDIO in line:
                self._no_audio = True

    def _kill(self, graceful: bool) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGINT if graceful else signal.SIGKILL)
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            proc = self._proc
            if proc is None:
                continue
            rc = proc.poll()
            reason = None
            if rc is not None:
                reason = ("exited", f"ffmpeg exited with code {rc}")
            elif (
                self._last_advance is not None
                and time.monotonic() - self._last_advance > self.opts.stall_timeout_s
            ):
                reason = ("stalled", f"no new media for {self.opts.stall_timeout_s:g} s")
            elif self._garbage >= self.opts.garbage_errors:
                reason = ("garbage", f"{self._garbage} decode errors")
            if reason is None:
                continue
            if rc is None:
                self._kill(graceful=False)
            time.sleep(0.1)  # let the log reader drain the last lines
            self._event(reason[0], reason[1], tail("\n".join(self._log), 12))
            if self._no_audio and self._audio:
                self._audio = False
                self._event("video-only", "the push carries no audio: the ladder continues without it")
            if self._stop.is_set():
                break
            self._state = "restarting"
            self._restarts += 1
            if self._stop.wait(self.opts.restart_delay_s):
                break
            self._spawn()


# -- state files for ``vidlens live start|stop|status`` -------------------------------------------


def state_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "live"


def write_state(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(path)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_forever(opts: LiveOptions, outdir: Path, state_file: Path) -> None:
    """Run a supervisor until SIGTERM/SIGINT, mirroring its status into ``state_file``."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sup = StreamSupervisor(opts, outdir)
    sup.start()
    try:
        while not stop.wait(0.5):
            write_state(
                state_file,
                {"supervisor_pid": os.getpid(), "options": opts.model_dump(), **sup.status().to_dict()},
            )
    finally:
        sup.stop()
        write_state(
            state_file, {"supervisor_pid": None, "options": opts.model_dump(), **sup.status().to_dict()}
        )


def main(argv: list[str] | None = None) -> None:
    """``python -m vidlens.deliver.live OPTIONS_JSON OUTDIR STATE_FILE``, what ``vidlens live start`` runs."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3:
        raise UsageError("usage: python -m vidlens.deliver.live OPTIONS_JSON OUTDIR STATE_FILE")
    run_forever(LiveOptions.model_validate_json(args[0]), Path(args[1]), Path(args[2]))


if __name__ == "__main__":
    main()
