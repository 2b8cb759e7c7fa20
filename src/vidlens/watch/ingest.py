"""All stream opening and decoding of Watch, behind one function: ``read_stream``.

One connection per camera feeds both the detector (frames sampled at the detection rate, as
BGR arrays) and the rolling recording (the camera's own video packets copied, never re-encoded,
into FFmpeg's segment muxer: MPEG-TS pieces of ``segment_s`` seconds and a CSV list of the
finished ones, so a half-written piece is never listed). Nothing else in ``vidlens.watch`` opens
or decodes media, so this module alone changes when a general decode layer takes over.

A failure to connect, a stream that stops sending for ``read_timeout_s``, or data that does not
decode raises ``IngestError`` with a one-line reason; reconnecting is the caller's business.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.errors import VidLensError


JUMP_BACK_S = 0.5  # decoded times going back more than this are a restart of the stream's clock


class IngestError(VidLensError):
    """The stream could not be opened or stopped delivering."""


@dataclass(frozen=True, slots=True)
class Frame:
    t: float  # seconds since the start of this connection's stream (first video packet)
    image: np.ndarray  # BGR, the stream's own size (which may change mid-stream)
    received: float  # wall clock (time.time()) when its packet arrived: alert latency is measured from it


@dataclass(frozen=True)
class Recording:
    """Where one connection's segments go: ``dir/seg%06d.ts`` and ``dir/segments.csv``."""

    dir: Path
    segment_s: float


def is_file(source: str) -> bool:
    return "://" not in source


def _options(source: str, listen: bool, read_timeout_s: float, rtsp_transport: str) -> dict[str, str]:
    us = str(int(read_timeout_s * 1e6))
    s = source.lower()
    if s.startswith(("rtsp://", "rtsps://")):
        return {"rtsp_transport": rtsp_transport, "timeout": us}
    if listen:
        return {"listen": "1"} if s.startswith("rtmp://") else {"mode": "listener"}
    if s.startswith(("http://", "https://")):
        return {"reconnect": "0", "rw_timeout": us}
    return {}


def read_stream(source: str, *, fps: float, listen: bool = False, realtime: bool = True,
                recording: Recording | None = None, open_timeout_s: float = 10.0,
                read_timeout_s: float = 5.0, rtsp_transport: str = "tcp") -> Iterator[Frame]:
    """Frames of ``source`` at about ``fps`` a second until the stream ends (a file's end).

    ``realtime`` paces a local file at its own speed, as a camera would deliver it (False: as fast
    as it decodes). ``listen`` waits up to ``open_timeout_s`` for a pushed stream.
    """
    import av

    began = time.monotonic()
    try:
        container = av.open(source, options=_options(source, listen, read_timeout_s, rtsp_transport),
                            timeout=(open_timeout_s, read_timeout_s))
    except (av.error.FFmpegError, OSError) as exc:
        waited = time.monotonic() - began
        if waited >= min(open_timeout_s, read_timeout_s) - 0.5:  # FFmpeg reports a silent peer in many ways
            raise IngestError(f"cannot open {_safe(source)}: no answer within {waited:.0f} s "
                              f"({_reason(exc)})") from None
        raise IngestError(f"cannot open {_safe(source)}: {_reason(exc)}") from None
    try:
        if not container.streams.video:
            raise IngestError(f"{_safe(source)} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if not realtime else "SLICE"
        yield from _frames(container, stream, fps, realtime and is_file(source), recording)
    except av.error.FFmpegError as exc:
        raise IngestError(f"{_safe(source)}: {_reason(exc)}") from exc
    finally:
        container.close()


def _frames(container, stream, fps: float, pace: bool, recording: Recording | None) -> Iterator[Frame]:  # noqa: ANN001
    import av

    out, out_stream = _open_recording(container, stream, recording) if recording else (None, None)
    first: float | None = None
    shift = 0.0  # added to the stream's times after they jumped back
    last_t = 0.0
    next_t = 0.0
    start_wall = time.monotonic()
    period = 1.0 / fps
    decoded = 0
    try:
        for packet in container.demux(stream):
            received = time.time()
            if packet.dts is None:
                continue  # the demuxer's flush packet
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                if decoded == 0:
                    raise IngestError("the stream does not decode as video (garbage or an unsupported codec)") \
                        from None
                frames = []  # one damaged packet of a live stream: skip it, as a player would
            if out is not None and packet.pts is not None:
                _mux(out, out_stream, packet)  # after decoding: muxing moves the packet to the output stream
            for frame in frames:
                decoded += 1
                if frame.time is None:
                    continue
                if first is None:
                    first = frame.time
                    if recording is not None:
                        (recording.dir / "start.json").write_text(json.dumps({"first_pts_s": first}))
                t = frame.time - first + shift
                if t < last_t - JUMP_BACK_S:  # timestamps start over (a spliced or restarted stream): go on from here
                    shift += last_t + period - t
                    t = last_t + period
                last_t = t
                if t + 1e-6 < next_t:
                    continue
                next_t = max(next_t + period, t)  # a gap in the stream is not made up by a burst
                if pace:
                    wait = t - (time.monotonic() - start_wall)
                    if wait > 0:
                        time.sleep(wait)
                yield Frame(t, frame.to_ndarray(format="bgr24"), received)
    finally:
        if out is not None:
            try:
                out.close()
            except av.error.FFmpegError:
                pass


def _open_recording(container, stream, rec: Recording):  # noqa: ANN001, ANN202
    import av

    rec.dir.mkdir(parents=True, exist_ok=True)
    out = av.open(str(rec.dir / "seg%06d.ts"), "w", format="segment", options={
        "segment_time": f"{rec.segment_s:g}", "segment_format": "mpegts",
        "segment_list": str(rec.dir / "segments.csv"), "segment_list_type": "csv", "break_non_keyframes": "0"})
    try:
        out_stream = out.add_stream_from_template(stream)
    except (AttributeError, ValueError, av.error.FFmpegError):
        out.close()
        return None, None
    return out, out_stream


def _mux(out, out_stream, packet) -> None:  # noqa: ANN001
    import av

    packet.stream = out_stream
    try:
        out.mux(packet)
    except av.error.FFmpegError:
        pass  # a packet the muxer refuses (a timestamp going backwards) is left out of the recording only


def segments(rec_dir: Path) -> list[tuple[Path, float, float]]:
    """The finished segments of one connection's recording: (file, start, end) in stream seconds."""
    listing = rec_dir / "segments.csv"
    try:
        lines = listing.read_text().splitlines()
        first = json.loads((rec_dir / "start.json").read_text())["first_pts_s"]
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

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    written = 0
    try:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            ostream = None
            gop: list = []  # packets since the last keyframe, until start_s is reached
            base = None
            for path, seg_start in parts:
                with av.open(str(path)) as src:
                    stream = src.streams.video[0]
                    if ostream is None:
                        ostream = out.add_stream_from_template(stream)
                    offset = None
                    for packet in src.demux(stream):
                        if packet.pts is None or packet.dts is None:
                            continue
                        if offset is None:  # a segment starts on a keyframe: its first packet is at seg_start
                            offset = float(packet.pts * packet.time_base) - seg_start
                        t = float(packet.pts * packet.time_base) - offset
                        if t > end_s:
                            break
                        if base is None:
                            if packet.is_keyframe:
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
        if written == 0:
            raise IngestError(f"clip {dest.name}: the recording holds no keyframe in {start_s:.1f}-{end_s:.1f} s")
        tmp.replace(dest)
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
