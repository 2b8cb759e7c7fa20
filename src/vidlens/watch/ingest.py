"""All stream opening and decoding of Watch, behind one function: ``read_stream``.

One connection per camera, through the decode layer (``vidlens.media``: a ``Source`` and one
``Decoder``), feeds both the detector (frames sampled at the detection rate, as BGR arrays) and,
through the decoder's packet tap, the rolling recording (the camera's own video packets copied,
never re-encoded, into FFmpeg's segment muxer: MPEG-TS pieces of ``segment_s`` seconds and a CSV
list of the finished ones, so a half-written piece is never listed). A recording that cannot be
written (a full disk) does not stop the camera: the piece in progress is deleted, ``Recording.report``
is told why, and recording starts again at a keyframe once writing works (tried every
``RETRY_S``), continuing the numbering with a new list. Nothing else in ``vidlens.watch`` opens or
decodes media.

A failure to connect, a stream that stops sending for ``read_timeout_s``, or data that does not
decode raises ``IngestError`` with a one-line reason; reconnecting is the caller's business.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidlens.errors import MediaError, SourceError, UsageError, VidLensError

if TYPE_CHECKING:
    from vidlens.media.decode import PacketSample

RETRY_S = 2.0  # a recording that could not be written is tried again this often

class IngestError(VidLensError):
    """The stream could not be opened or stopped delivering."""


@dataclass(frozen=True, slots=True)
class Frame:
    t: float  # seconds since the start of this connection's stream (first video frame)
    image: np.ndarray  # BGR, the stream's own size (which may change mid-stream)
    received: float  # wall clock (time.time()) when its packet arrived: alert latency is measured from it


@dataclass(frozen=True)
class Recording:
    """Where one connection's segments go: ``dir/seg%06d.ts`` and ``dir/segments*.csv``."""

    dir: Path
    segment_s: float
    report: Callable[[str | None], None] | None = None  # told why recording stopped, and None when it resumes


def is_file(source: str) -> bool:
    return "://" not in source


def read_stream(source: str, *, fps: float, listen: bool = False, realtime: bool = True,
                recording: Recording | None = None, open_timeout_s: float = 10.0,
                read_timeout_s: float = 5.0, rtsp_transport: str = "tcp") -> Iterator[Frame]:
    """Frames of ``source`` at about ``fps`` a second until the stream ends (a file's end).

    ``realtime`` paces a local file at its own speed, as a camera would deliver it (False: as fast
    as it decodes). ``listen`` waits up to ``open_timeout_s`` for a pushed stream. Times go on
    across a restart of the stream's clock (the decode layer's one timestamp policy).
    """
    from vidlens.media.decode import Collector, Decoder, Sampling, pull
    from vidlens.media.source import open_source

    rtsp = source.lower().startswith(("rtsp://", "rtsps://"))
    try:
        src = open_source(source, listen=listen, timeout_s=read_timeout_s, open_timeout_s=open_timeout_s,
                          options={"rtsp_transport": rtsp_transport} if rtsp else None)
    except (MediaError, UsageError) as exc:
        raise IngestError(f"cannot open {_safe(source)}: {exc.message}") from None
    # live: one thread, for the least delay and CPU per camera; a file read as fast as it decodes: two
    dec = Decoder(src, threads=1 if realtime else 2)
    frames = Collector()
    dec.add_video(Sampling(fps=fps, pix_fmt="bgr24"), frames)
    recorder = _Recorder(recording) if recording is not None else None
    if recorder is not None:
        dec.add_packets(recorder)
    try:
        dec.open()
    except SourceError as exc:
        raise IngestError(exc.message) from None
    except MediaError as exc:
        raise IngestError(f"{_safe(source)}: the stream does not decode as video ({exc.message})") from None
    samples = pull(dec, frames)
    pace = realtime and is_file(source)
    first: float | None = None
    start_wall = time.monotonic()
    try:
        for s in samples:
            if first is None:
                first = s.t
                if recorder is not None:  # the recording's clock, at this connection's time 0
                    recorder.started(dec.clock_origin_s + first)
            t = s.t - first
            if pace:
                wait = t - (time.monotonic() - start_wall)
                if wait > 0:
                    time.sleep(wait)
            yield Frame(t, s.image, s.received if s.received is not None else time.time())
    except (MediaError, UsageError) as exc:
        raise IngestError(exc.message) from None
    finally:
        samples.close()
        if recorder is not None:
            recorder.finish()  # a decode that failed or was left early: the segment in progress is closed


class _Recorder:
    """A packet-tap consumer: copies the camera's video packets into FFmpeg's segment muxer."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.out: Any = None
        self.stream: Any = None
        self.first_pts_s: float | None = None
        self.has_start = False
        self.opened = 0  # segment lists opened: segments.csv, then segments-1.csv ... after each failure
        self.next_seg = 0
        self.failed: str | None = None  # why the recording stopped (None: it runs)
        self.retry_at = 0.0
        try:
            rec.dir.mkdir(parents=True, exist_ok=True)  # start.json is written at the first frame, before its packet
        except OSError as exc:
            self._fail(exc)

    def started(self, first_pts_s: float) -> None:
        self.first_pts_s = first_pts_s
        self._write_start()

    def _write_start(self) -> bool:
        if not self.has_start and self.first_pts_s is not None:
            path = self.rec.dir / "start.json"
            try:
                self.rec.dir.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"first_pts_s": self.first_pts_s}))
                self.has_start = True
            except OSError as exc:
                path.unlink(missing_ok=True)
                self._fail(exc)
        return self.has_start

    def push(self, item: PacketSample) -> None:
        from vidlens.media.decode import ConsumerDone

        packet = item.packet
        if packet.pts is None:
            return
        if self.failed is not None:  # try again at a keyframe, now and then
            if not item.keyframe or time.monotonic() < self.retry_at or not self._write_start():
                return
        if self.out is None:
            try:
                self.out, self.stream = _open_recording(packet.stream, self.rec, self.opened, self.next_seg)
            except OSError as exc:
                self._fail(exc)
                return
            if self.out is None:
                raise ConsumerDone  # the codec cannot be copied into MPEG-TS: watch without recording
            self.opened += 1
        try:
            _mux(self.out, self.stream, packet)
        except OSError as exc:
            self._fail(exc)
            return
        if self.failed is not None:
            self.failed = None
            if self.rec.report is not None:
                self.rec.report(None)

    def _fail(self, exc: OSError) -> None:
        """Writing failed: close, delete the piece in progress, report once, retry later."""
        self.finish()
        pieces = sorted(self.rec.dir.glob("seg*.ts")) if self.rec.dir.is_dir() else []
        if pieces:
            self.next_seg = max(self.next_seg, int(pieces[-1].stem[3:]) + 1)
            pieces[-1].unlink(missing_ok=True)  # half-written: never listed, never cut into a clip
        self.retry_at = time.monotonic() + RETRY_S
        if self.failed is None:
            self.failed = f"{self.rec.dir}: {_reason(exc)}"
            if self.rec.report is not None:
                self.rec.report(self.failed)

    def finish(self) -> None:
        import av

        out, self.out = self.out, None
        if out is not None:
            try:
                out.close()
            except (av.error.FFmpegError, OSError):
                pass


def _open_recording(stream, rec: Recording, opened: int = 0, start_number: int = 0):  # noqa: ANN001, ANN202
    """The segment muxer; the ``opened``-th reopening writes its own list and goes on from ``start_number``."""
    import av

    listing = rec.dir / ("segments.csv" if not opened else f"segments-{opened}.csv")
    out = av.open(str(rec.dir / "seg%06d.ts"), "w", format="segment", options={
        "segment_time": f"{rec.segment_s:g}", "segment_format": "mpegts", "segment_start_number": str(start_number),
        "segment_list": str(listing), "segment_list_type": "csv", "break_non_keyframes": "0"})
    try:
        out_stream = out.add_stream_from_template(stream)
    except OSError:
        out.close()
        raise
    except (AttributeError, ValueError, av.error.FFmpegError):
        out.close()
        return None, None
    return out, out_stream


def _mux(out, out_stream, packet) -> None:  # noqa: ANN001
    """Raises OSError where writing fails (a full disk)."""
    import av

    packet.stream = out_stream
    try:
        out.mux(packet)
    except OSError:
        raise
    except av.error.FFmpegError:
        pass  # a packet the muxer refuses (a timestamp going backwards) is left out of the recording only


def segments(rec_dir: Path) -> list[tuple[Path, float, float]]:
    """The finished segments of one connection's recording: (file, start, end) in stream seconds."""
    try:
        first = json.loads((rec_dir / "start.json").read_text())["first_pts_s"]
        listings = sorted(rec_dir.glob("segments*.csv"), key=lambda f: (len(f.name), f.name))
        lines = [line for listing in listings for line in listing.read_text().splitlines()]
    except (OSError, ValueError, KeyError):
        return []
    out = []
    for line in lines:
        name, _, rest = line.partition(",")
        start, _, end = rest.partition(",")
        try:
            out.append((rec_dir / name, float(start) - first, float(end) - first))
        except ValueError:
            continue
    return out


def cut_clip(parts: list[tuple[Path, float]], start_s: float, end_s: float, dest: Path) -> None:
    """Copy the packets of ``parts`` (consecutive segments of one connection, each with its start in
    stream seconds) from the last keyframe at or before ``start_s`` to ``end_s`` into an MP4 at ``dest``.

    No re-encoding: the clip starts on a keyframe, so it may begin up to one keyframe interval early.
    Written under a temporary name beside ``dest`` and renamed when complete.
    """
    import av

    from vidlens.media.decode import iter_packets
    from vidlens.media.source import open_source

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    written = 0
    try:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            ostream = None
            gop: list = []  # packets since the last keyframe, until start_s is reached
            base = None
            for path, seg_start in parts:
                packets = iter_packets(open_source(path))  # the decode layer's packet tap: nothing decoded
                offset = None
                try:
                    for sample in packets:
                        packet = sample.packet
                        if sample.t is None or packet.dts is None:
                            continue
                        if ostream is None:
                            ostream = out.add_stream_from_template(packet.stream)
                        if offset is None:  # a segment starts on a keyframe: its first packet is at seg_start
                            offset = sample.t - seg_start
                        t = sample.t - offset
                        if t > end_s:
                            break
                        if base is None:
                            if sample.keyframe:
                                gop = []
                            gop.append(packet)
                            if t < start_s or not gop[0].is_keyframe:
                                continue
                            base = gop[0].dts
                            todo, gop = gop, []
                        else:
                            todo = [packet]
                        for p in todo:
                            p.pts, p.dts = p.pts - base, p.dts - base
                            p.stream = ostream
                            out.mux(p)
                            written += 1
                finally:
                    packets.close()
        if written == 0:
            raise IngestError(f"clip {dest.name}: the recording holds no keyframe in {start_s:.1f}-{end_s:.1f} s")
        tmp.replace(dest)
    except MediaError as exc:
        raise IngestError(f"clip {dest.name} could not be cut: {exc.message}") from None
    except av.error.FFmpegError as exc:
        raise IngestError(f"clip {dest.name} could not be cut: {_reason(exc)}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _safe(source: str) -> str:
    """The source without a password (rtsp://user:pass@host -> rtsp://user:***@host)."""
    if "://" in source and "@" in source.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = source.split("://", 1)
        creds, host = rest.split("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return source


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:200] or type(exc).__name__
