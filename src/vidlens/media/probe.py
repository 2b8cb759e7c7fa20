"""Probe a media file with PyAV into a ``Video``.

Probing also decodes the first video frame: a header can look fine while the
stream is garbage, and we would rather say so at ingest than half way through a job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.logging

from vidlens.errors import CorruptMediaError, MediaLimitError, UnsupportedMediaError
from vidlens.hashing import sha256_file
from vidlens.media.ffmpeg import diagnose
from vidlens.types import StreamInfo, Video

# libav logs to nowhere in-process. PyAV's Python log callback deadlocks with frame-threaded
# decoding (PyAV #751, #909); on failure ``diagnose`` asks the FFmpeg CLI for the log instead.
av.logging.set_level(None)
av.logging.set_libav_level(-8)  # AV_LOG_QUIET

MAX_PIXELS = 8192 * 8192
MAX_SIDE = 16384


def _looks_like_text(path: str) -> bool:
    """True for files whose first bytes are printable text (a misnamed document, not media)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * max(1, len(text))


def check_file(path: str | Path) -> None:
    """Refuse what cannot be a media file before libav sees it: missing, a directory, empty."""
    p = str(path)
    if not os.path.exists(p):
        raise UnsupportedMediaError(f"no such file: {Path(p).name}", path=p)
    if os.path.isdir(p):
        raise UnsupportedMediaError(f"expected a media file, got a directory: {Path(p).name}", path=p)
    if os.path.getsize(p) == 0:
        raise CorruptMediaError(f"{Path(p).name}: expected a media file, got an empty (0-byte) file", path=p)


def open_container(path: str | Path) -> av.container.InputContainer:
    """Open for reading, turning libav failures into clear one-line errors."""
    p = str(path)
    check_file(p)
    try:
        return av.open(p, metadata_errors="replace")
    except av.error.InvalidDataError as exc:
        log = diagnose(p)
        if log and not _looks_like_text(p):  # a demuxer took the file and choked on it: damaged, not foreign
            last = log.splitlines()[-1].split("] ", 1)[-1]
            raise CorruptMediaError(f"{Path(p).name}: damaged or truncated media ({last})",
                                    path=p, log_tail=log) from None
        raise UnsupportedMediaError(
            f"{Path(p).name}: expected an audio/video container, but libav found no format it can read",
            path=p, log_tail=log or str(exc)) from None
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"{Path(p).name}: cannot open: {exc.strerror or exc}", path=p,
                                log_tail=diagnose(p)) from None


def probe(path: str | Path, *, require_video: bool = True, sha256: str | None = None) -> Video:
    """Read a file's streams and timing, decode its first frame, and hash its content."""
    p = str(path)
    name = Path(p).name
    container = open_container(p)
    with container:
        vstreams = list(container.streams.video)
        astreams = list(container.streams.audio)
        if require_video and not vstreams:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            raise UnsupportedMediaError(f"{name}: expected a video stream, found {kinds}", path=p)
        if vstreams and vstreams[0].codec_context is None:
            # libav recognised the container (an SVG, another image pipe) but has no decoder for it
            raise UnsupportedMediaError(
                f"{name}: expected an audio/video file, but libav has no decoder for its "
                f"'{container.format.name}' content", path=p)
        streams = tuple(_stream_info(s) for s in container.streams)
        tags = {str(k): str(v) for k, v in (container.metadata or {}).items()}
        if not vstreams:
            tb = Fraction(1, 1_000_000)
            dur = int(container.duration or 0)
            return Video(id=sha256 or sha256_file(p), sha256=sha256 or sha256_file(p), uri=os.path.abspath(p),
                         size_bytes=os.path.getsize(p), container=container.format.name, time_base=tb,
                         duration=dur, fps=None, width=0, height=0, rotation=0, frame_count=None,
                         has_audio=bool(astreams), streams=streams, tags=tags)
        vs = vstreams[0]
        cc = vs.codec_context
        width, height = int(cc.width or 0), int(cc.height or 0)
        if width <= 0 or height <= 0:
            raise CorruptMediaError(f"{name}: video stream reports no picture size ({width}x{height})",
                                    path=p, log_tail=diagnose(p))
        if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
            raise MediaLimitError(
                f"{name}: picture size {width}x{height} exceeds the limit of {MAX_SIDE} px a side "
                f"and {MAX_PIXELS} pixels", path=p)
        tb = Fraction(vs.time_base) if vs.time_base else Fraction(1, 1_000_000)
        first = None
        try:
            for frame in container.decode(vs):
                first = frame
                break
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(f"{name}: the video stream does not decode: {exc.strerror or exc}",
                                    path=p, log_tail=diagnose(p)) from None
        if first is None:
            raise CorruptMediaError(f"{name}: the video stream holds no decodable frame", path=p,
                                    log_tail=diagnose(p))
        if vs.duration:
            duration = int(vs.duration)
        elif container.duration:
            duration = int(Fraction(container.duration, 1_000_000) / tb)
        else:
            duration = 0
        avg = Fraction(vs.average_rate) if vs.average_rate else None
        base = Fraction(vs.base_rate) if vs.base_rate else None
        fps = avg or base or (Fraction(vs.guessed_rate) if vs.guessed_rate else None)
        vfr = bool(avg and base and abs(float(avg) - float(base)) / float(base) > 0.01)
        digest = sha256 or sha256_file(p)
        return Video(
            id=digest, sha256=digest, uri=os.path.abspath(p), size_bytes=os.path.getsize(p),
            container=container.format.name, time_base=tb, duration=duration, fps=fps,
            width=width, height=height, rotation=int(getattr(first, "rotation", 0) or 0) % 360,
            frame_count=int(vs.frames) or None, has_audio=bool(astreams), variable_frame_rate=vfr,
            streams=streams, tags=tags,
        )


@dataclass(frozen=True, slots=True)
class PictureFacts:
    """What encoding decisions need beyond ``probe``: the container's tags, and the first video stream's colour
    labels, scan type and pixel shape from its codec and first frame (libav's values: numbers or names, as the
    PyAV build reports them). The video fields are None for a file without a video stream."""

    tags: dict[str, str]
    codec_colour: tuple[int, int, int, int] | None  # the codec's range, matrix, primaries, transfer
    color_primaries: Any  # the first frame's, else the codec's
    color_trc: Any
    interlaced: bool
    pix_fmt: str | None
    sample_aspect: Fraction
    audio_rate: int | None
    audio_channels: int | None


def picture_facts(path: str | Path) -> PictureFacts:
    """Read ``PictureFacts`` (one frame decoded); a damaged file raises ``CorruptMediaError``."""
    p = str(path)
    with open_container(p) as container:
        tags = {str(k): str(v) for k, v in (container.metadata or {}).items()}
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = audio.codec_context.sample_rate if audio is not None else None
        channels = audio.codec_context.channels if audio is not None else None
        if not container.streams.video:
            return PictureFacts(tags, None, None, None, False, None, Fraction(1), rate, channels)
        vs = container.streams.video[0]
        cc = vs.codec_context
        try:
            frame = next(container.decode(vs), None)
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(f"{Path(p).name}: the video stream does not decode: {exc.strerror or exc}",
                                    path=p) from None
        if frame is None:
            raise CorruptMediaError(f"{Path(p).name}: the video stream holds no decodable frame", path=p)
        field_order = str(getattr(cc, "field_order", "") or "").lower()
        sar = Fraction(vs.sample_aspect_ratio) if vs.sample_aspect_ratio else Fraction(1)
        return PictureFacts(
            tags=tags,
            codec_colour=(int(cc.color_range), int(cc.colorspace), int(cc.color_primaries), int(cc.color_trc)),
            color_primaries=frame.color_primaries if frame.color_primaries else cc.color_primaries,
            color_trc=frame.color_trc if frame.color_trc else cc.color_trc,
            interlaced=bool(frame.interlaced_frame) or field_order in {"tt", "bb", "tb", "bt"},
            pix_fmt=frame.format.name, sample_aspect=sar if sar > 0 else Fraction(1),
            audio_rate=rate, audio_channels=channels)


def _stream_info(s: av.stream.Stream) -> StreamInfo:
    cc = s.codec_context
    common = dict(index=s.index, kind=s.type, codec=(cc.name if cc else "unknown") or "unknown",
                  time_base=Fraction(s.time_base) if s.time_base else Fraction(1, 1_000_000),
                  language=s.language)
    if cc is None:
        return StreamInfo(**common)
    if s.type == "video":
        return StreamInfo(**common, width=cc.width, height=cc.height,
                          pix_fmt=cc.pix_fmt if cc.pix_fmt else None)
    if s.type == "audio":
        return StreamInfo(**common, sample_rate=cc.sample_rate, channels=cc.channels)
    return StreamInfo(**common)
