"""Live ingest to a low-latency HLS ladder, one supervised FFmpeg process per stream.

FFmpeg itself is the ingest server: it listens for an RTMP, SRT or RTSP (ANNOUNCE/RECORD)
push, or pulls RTSP from a camera or server, and writes 1-second fMP4 segments for every
rung in one process. The supervisor restarts it when it exits (publisher gone, garbage on
the wire, a peer that connects and sends nothing), when its output stops advancing (a
stalled publisher that keeps the socket open), or when the decoder keeps reporting corrupt
data, and records why each time. Until a stream is stopped on purpose its playlists never
say it has ended: a publisher dropping out is an interruption, not the end of the stream.
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
    port: int | None = Field(default=None, ge=1, le=65535)  # listen for a push here
    host: str = "127.0.0.1"
    url: str | None = None  # or pull from here (RTSP)
    rtsp_transport: Literal["tcp", "udp"] = "tcp"  # how a pull's RTP packets travel (a camera may offer one only)
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
    max_restart_delay_s: float = Field(default=30.0, ge=0, le=600)
    garbage_errors: int = Field(default=50, ge=1)

    @model_validator(mode="after")
    def _source(self) -> LiveOptions:
        if self.url is not None:
            if self.protocol != "rtsp":
                raise ValueError(f"{self.protocol.upper()} is ingested by listening: give a port, not a url")
            if self.port is not None:
                raise ValueError("give a port to listen for an RTSP push or a url to pull, not both")
            if not self.url.startswith(("rtsp://", "rtsps://")):
                raise ValueError("an RTSP pull needs url='rtsp://...'")
        elif self.port is None:
            raise ValueError(f"an {self.protocol.upper()} listener needs a port")
        return self

    @property
    def listens(self) -> bool:
        """True when VidLens waits for a publisher; False when it pulls from ``url``."""
        return self.url is None

    @property
    def ingest_url(self) -> str:
        """Where a publisher pushes, or where VidLens pulls from."""
        if not self.listens:
            return str(self.url)
        if self.protocol == "srt":
            return f"srt://{self.host}:{self.port}"
        return f"{self.protocol}://{self.host}:{self.port}/live/{self.stream_key}"

    def heights(self) -> list[int]:
        return [h for h, _ in LADDER if h <= self.max_height][: self.rungs] or [self.max_height]


# FFmpeg's hls muxer when var_stream_map names an audio stream the push does not have.
NO_AUDIO = "Unable to map stream at a:"
# FFmpeg's RTSP listener multiplies its wait by 1000 and rejects the default "forever" (-1):
# wait a week instead, then the supervisor simply listens again.
RTSP_LISTEN_S = 7 * 24 * 3600
ENDLIST = "#EXT-X-ENDLIST"


def ingest_args(opts: LiveOptions) -> list[str]:
    """FFmpeg input options: listen for a push, or pull, with an I/O timeout of the stall timeout.

    A peer that connects and then sends nothing would otherwise hold the only listening
    socket for ever; the timeout turns it into an exit the supervisor reports. FFmpeg's RTSP
    listener ignores it until the publisher has announced itself: see ``_silent_peer``.
    """
    io_timeout = str(int(opts.stall_timeout_s * 1e6))
    if opts.protocol == "rtmp":
        return ["-rw_timeout", io_timeout, "-listen", "1", "-i", opts.ingest_url]
    if opts.protocol == "srt":
        return ["-rw_timeout", io_timeout, "-i", f"{opts.ingest_url}?mode=listener&latency=120000"]
    if opts.listens:  # RTSP ANNOUNCE/RECORD push; the publisher picks TCP or UDP transport
        return [
            "-rtsp_flags",
            "listen",
            "-listen_timeout",
            str(RTSP_LISTEN_S),
            "-timeout",
            io_timeout,
            "-i",
            opts.ingest_url,
        ]
    return ["-rtsp_transport", opts.rtsp_transport, "-timeout", io_timeout, "-i", opts.ingest_url]


def live_command(opts: LiveOptions, outdir: Path, audio: bool = True) -> list[str]:
    """The FFmpeg command: ingest, decode once, split, encode each rung, segment to HLS.

    ``audio=False`` for a push found to carry no audio: the variant map may not name a stream
    that never arrives, and which streams a push carries is only known once it has connected.
    """
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
        *ingest_args(opts),
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
        (
            "delete_segments+independent_segments+temp_file+append_list+discont_start+program_date_time"
            "+omit_endlist"
        ),
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
    # started | exited (before any media) | disconnected (after media) | stalled | garbage |
    # video-only | stopped
    kind: str
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
    waiting_s: float | None  # how long it has been waiting for media (None unless waiting)
    last_error: str | None  # FFmpeg's reason for the last failed or ended run, one line
    events: list[LiveEvent] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# FFmpeg log lines that name why a run ended; boilerplate that follows them is skipped.
_REASON = re.compile(
    r"error|fail|refused|invalid|unable|timed? ?out|not found|denied|unauthori", re.IGNORECASE
)
_NOT_A_REASON = re.compile(
    r"^(Error opening input files?|Exiting with exit code|Conversion failed)", re.IGNORECASE
)


def failure_reason(log_lines: list[str]) -> str | None:
    """The first line of FFmpeg's log that says what went wrong, without context addresses."""
    for line in log_lines:
        line = re.sub(r"\[(\S+) @ 0x[0-9a-f]+\] ", r"[\1] ", line.strip())
        if _REASON.search(line) and not _NOT_A_REASON.match(line) and not GARBAGE_PATTERNS.search(line):
            return line[:300]
    return None


def tcp_peers(port: int) -> int | None:
    """Established TCP connections on local ``port`` (Linux ``/proc/net``); None where unreadable."""
    found, readable = 0, False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            cols = row.split()
            if len(cols) > 3 and cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                found += 1
    return found if readable else None


def end_playlists(outdir: Path) -> list[Path]:
    """Mark every media playlist of a stopped stream as ended (FFmpeg runs with ``omit_endlist``)."""
    ended = []
    for playlist in sorted(outdir.glob("*/index.m3u8")):
        text = playlist.read_text()
        if ENDLIST not in text:
            tmp = playlist.with_suffix(".m3u8.tmp")
            tmp.write_text(text.rstrip("\n") + "\n" + ENDLIST + "\n")
            tmp.replace(playlist)
        ended.append(playlist)
    return ended


def retry_delay(opts: LiveOptions, failures: int) -> float:
    """Wait before the next run: doubled for each run in a row that ended before any media."""
    return min(opts.restart_delay_s * 2 ** max(0, failures - 1), opts.max_restart_delay_s)


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
        self._spawned_at = time.monotonic()
        self._peer_since: float | None = None  # an RTSP publisher connected, no media yet
        self._failures = 0  # runs in a row that ended before any media: backs the retries off
        self._last_error: str | None = None
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
        """Stop on purpose: FFmpeg finishes its last segment, then the playlists say the stream ended."""
        self._stop.set()
        self._kill(graceful=True)
        if self._watchdog is not None:
            self._watchdog.join(timeout)
        end_playlists(self.outdir)
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
        now = time.monotonic()
        age = None if self._last_advance is None else round(now - self._last_advance, 3)
        waiting = round(now - self._spawned_at, 3) if self._state == "waiting" else None
        return LiveStatus(
            self.opts.name,
            self._state,
            self.opts.ingest_url,
            str(self.outdir),
            self.pid,
            self._restarts,
            age,
            waiting,
            self._last_error,
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
        for leftover in self.outdir.glob("*/*.tmp"):  # a killed run's unfinished segment or playlist
            leftover.unlink(missing_ok=True)
        self._proc = subprocess.Popen(
            live_command(self.opts, self.outdir, audio=self._audio),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._spawned_at = time.monotonic()
        self._peer_since = None
        self._state = "waiting"
        verb = "listening on" if self.opts.listens else "pulling"
        self._event("started", f"pid {self._proc.pid} {verb} {self.opts.ingest_url}")
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

    def _why(self, rc: int | None) -> tuple[str, str] | None:
        """Why the current run must end now, as (event kind, detail); None while it is healthy."""
        had_media = self._last_advance is not None
        if rc is not None:
            media = f"after {self._last_out_us / 1e6:.1f} s of media" if had_media else "before any media"
            return ("disconnected" if had_media else "exited", f"ffmpeg exited with code {rc} {media}")
        if had_media and time.monotonic() - self._last_advance > self.opts.stall_timeout_s:
            return ("stalled", f"no new media for {self.opts.stall_timeout_s:g} s")
        if self._garbage >= self.opts.garbage_errors:
            return ("garbage", f"{self._garbage} decode errors")
        if self._silent_peer():
            return ("stalled", f"a publisher connected but sent no media for {self.opts.stall_timeout_s:g} s")
        return None

    def _silent_peer(self) -> bool:
        """An RTSP publisher has held the connection for the stall timeout without sending media.

        FFmpeg's RTSP listener has no I/O timeout of its own (RTMP and SRT get ``-rw_timeout``), so
        a peer that connects and says nothing would keep the only listening socket for ever.
        """
        if self._last_advance is not None or not (self.opts.protocol == "rtsp" and self.opts.listens):
            return False
        if not tcp_peers(int(self.opts.port or 0)):
            self._peer_since = None
            return False
        now = time.monotonic()
        if self._peer_since is None:
            self._peer_since = now
        return now - self._peer_since > self.opts.stall_timeout_s

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            proc = self._proc
            if proc is None:
                continue
            rc = proc.poll()
            reason = self._why(rc)
            if reason is None:
                continue
            if rc is None:
                self._kill(graceful=False)
            time.sleep(0.1)  # let the log reader drain the last lines
            log = list(self._log)
            self._last_error = failure_reason(log) or reason[1]
            went_live = self._last_advance is not None
            self._failures = 0 if went_live or self._no_audio else self._failures + 1
            delay = retry_delay(self.opts, self._failures)
            retry = "" if self._stop.is_set() else f"; retrying in {delay:g} s"
            self._event(reason[0], reason[1] + retry, tail("\n".join(log), 12))
            if self._no_audio and self._audio:
                self._audio = False
                self._event("video-only", "the push carries no audio: the ladder continues without it")
            if self._stop.is_set():
                break
            self._state = "restarting"
            self._restarts += 1
            if self._stop.wait(delay):
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
