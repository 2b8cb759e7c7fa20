"""Decode once, fan out.

One thread decodes the video a single time. Every consumer declares a ``Sampling``
(rate, size, pixel format) and receives ``FrameSample``s through its own bounded
queue, in its own thread, so a slow consumer applies back-pressure instead of
letting memory grow. Consumers that ask for the same (size, format) share one
pixel conversion.

Pixel conversion, not the decoder, is the first bottleneck (full-size RGB costs
more than decoding H.264). So ``gray`` and ``yuv`` at a small size are taken
straight from the decoder's 8-bit planes by strided sampling, with no swscale
call at all; other requests go through one ``reformat`` at the target size.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, TypeVar

import av
import numpy as np

from vidlens.errors import CorruptMediaError, MediaError, UsageError
from vidlens.media.ffmpeg import diagnose
from vidlens.media.probe import open_container
from vidlens.types import FrameSample, Video

PixFmt = Literal["gray", "yuv", "rgb24", "bgr24"]
_FAST_PLANAR = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}
_END = object()
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Sampling:
    """How a consumer wants its frames.

    ``fps=None`` means every decoded frame. ``max_side`` bounds the longer side
    (aspect kept, never upscaled). ``gray`` is an (H, W) uint8 array, ``yuv`` an
    (H, W, 3) uint8 array of Y, U, V at the same grid, ``rgb24``/``bgr24`` (H, W, 3).
    ``upright`` applies the container's rotation (display orientation).
    """

    fps: float | None = None
    max_side: int | None = None
    pix_fmt: PixFmt = "rgb24"
    upright: bool = True

    def __post_init__(self) -> None:
        if self.fps is not None and not (0 < self.fps <= 1000):
            raise UsageError(f"sampling fps must be in (0, 1000], got {self.fps}")
        if self.max_side is not None and self.max_side < 8:
            raise UsageError(f"sampling max_side must be >= 8, got {self.max_side}")
        if self.pix_fmt not in ("gray", "yuv", "rgb24", "bgr24"):
            raise UsageError(f"sampling pix_fmt must be gray, yuv, rgb24 or bgr24, got {self.pix_fmt!r}")


def target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, int(round(width * scale)) // 2 * 2), max(2, int(round(height * scale)) // 2 * 2)


def _plane(frame: av.VideoFrame, i: int) -> np.ndarray:
    p = frame.planes[i]
    return np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]


def _stride_for(width: int, height: int, max_side: int | None) -> int:
    if not max_side:
        return 1
    return max(1, math.ceil(max(width, height) / max_side))


class _Converter:
    """Converts one decoded frame for one (size, format) key, caching per frame."""

    def __init__(self, sampling: Sampling, frame: av.VideoFrame) -> None:
        width, height = frame.width, frame.height
        self.source = (width, height, frame.format.name)
        self.sampling = sampling
        self.stride = _stride_for(width, height, sampling.max_side)
        self.size = target_size(width, height, sampling.max_side)
        self._chroma_index: tuple[np.ndarray, np.ndarray] | None = None  # fixed per (format, size)

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        fmt = self.sampling.pix_fmt
        if fmt in ("gray", "yuv") and frame.format.name in _FAST_PLANAR:
            k = self.stride
            y = _plane(frame, 0)[::k, ::k]
            if fmt == "gray":
                return np.ascontiguousarray(y)
            return self._yuv_fast(frame, y, k)
        w, h = self.size
        if fmt == "gray":
            return frame.reformat(width=w, height=h, format="gray").to_ndarray()
        if fmt == "yuv":
            f = frame.reformat(width=w, height=h, format="yuv444p")
            return np.stack([_plane(f, i) for i in range(3)], axis=-1)
        img = frame.reformat(width=w, height=h, format=fmt).to_ndarray()
        return img

    def _yuv_fast(self, frame: av.VideoFrame, y: np.ndarray, k: int) -> np.ndarray:
        name = frame.format.name
        if name == "gray":
            c = np.full_like(y, 128)
            return np.stack([y, c, c], axis=-1)
        if name == "nv12":
            uv = _plane(frame, 1)
            u, v = uv[:, 0::2], uv[:, 1::2]
            sy, sx = 2, 2
        else:
            u, v = _plane(frame, 1), _plane(frame, 2)
            sx = 2 if name.startswith(("yuv420", "yuvj420", "yuv422", "yuvj422")) else 1
            sy = 2 if name.startswith(("yuv420", "yuvj420")) else 1
        if self._chroma_index is None:
            rows = np.minimum((np.arange(y.shape[0]) * k) // sy, u.shape[0] - 1)
            cols = np.minimum((np.arange(y.shape[1]) * k) // sx, u.shape[1] - 1)
            self._chroma_index = (rows[:, None], cols[None, :])
        out = np.empty((*y.shape, 3), np.uint8)
        out[..., 0] = y
        out[..., 1] = u[self._chroma_index]
        out[..., 2] = v[self._chroma_index]
        return out


def _orient(img: np.ndarray, rotation: int) -> np.ndarray:
    # FFmpeg's display-matrix rotation is counter-clockwise degrees.
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k=turns)) if turns else img


class _Clock:
    """Decides which frames a rate-limited sampling takes (by timestamp, so VFR works)."""

    def __init__(self, fps: float | None) -> None:
        self.fps = fps
        self.next_due = -math.inf

    def due(self, t: float) -> bool:
        if self.fps is None:
            return True
        if t + 1e-9 >= self.next_due:
            period = 1.0 / self.fps
            self.next_due = (self.next_due + period) if self.next_due > -math.inf else t + period
            if self.next_due <= t:  # fell behind after a timestamp jump
                self.next_due = t + period
            return True
        return False


class _Consumer:
    def __init__(self, name: str, samplings: tuple[Sampling, ...], queue_size: int) -> None:
        self.name = name
        self.samplings = samplings
        self.clocks = [_Clock(s.fps) for s in samplings]
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.alive = True


class FrameFanout:
    """Decode ``video`` once and feed every subscribed consumer.

    >>> fan = FrameFanout(video)
    >>> fan.subscribe("shots", Sampling(max_side=64, pix_fmt="yuv"), detect_shots)
    >>> results = fan.run()        # {"shots": <return value or the exception it raised>}
    """

    def __init__(self, video: Video, *, queue_size: int = 16, threads: int = 2,
                 on_frame: Callable[[int, float], None] | None = None) -> None:
        self.video = video
        self.queue_size = queue_size
        self.threads = threads
        self.on_frame = on_frame
        self._consumers: list[tuple[_Consumer, Callable[[Iterator[FrameSample]], Any]]] = []
        self._stop = threading.Event()
        self.frames_decoded = 0

    def subscribe(self, name: str, sampling: Sampling | Sequence[Sampling],
                  fn: Callable[[Iterator[FrameSample]], R]) -> None:
        """Add a consumer. With several samplings, each sample's ``stream`` says which one it serves."""
        if any(c.name == name for c, _ in self._consumers):
            raise UsageError(f"consumer '{name}' subscribed twice")
        samplings = (sampling,) if isinstance(sampling, Sampling) else tuple(sampling)
        if not samplings:
            raise UsageError(f"consumer '{name}' asked for no sampling")
        self._consumers.append((_Consumer(name, samplings, self.queue_size), fn))

    def run(self) -> dict[str, Any]:
        """Decode, feed all consumers, and return each one's result (or the exception it raised).

        A media error in the decoder is re-raised here after every consumer has stopped.
        """
        if not self._consumers:
            raise UsageError("FrameFanout.run() needs at least one consumer")
        results: dict[str, Any] = {}
        workers = []
        for consumer, fn in self._consumers:
            t = threading.Thread(target=self._consume, args=(consumer, fn, results),
                                 name=f"vidlens-{consumer.name}", daemon=True)
            t.start()
            workers.append(t)
        decode_error: BaseException | None = None
        try:
            self._decode()
        except BaseException as exc:  # re-raised below once consumers are stopped
            decode_error = exc
        finally:
            for consumer, _ in self._consumers:
                self._put(consumer, _END if decode_error is None else _Failed(decode_error))
            for t in workers:
                t.join()
        if decode_error is not None:
            raise decode_error
        return results

    def stop(self) -> None:
        """Ask the decoder to stop early (e.g. the job was cancelled)."""
        self._stop.set()

    # -- internals -------------------------------------------------------------
    def _put(self, consumer: _Consumer, item: Any) -> None:
        while True:
            if not consumer.alive and item is not _END and not isinstance(item, _Failed):
                return
            try:
                consumer.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if not consumer.alive:
                    # consumer died: drain so the end marker fits
                    try:
                        while True:
                            consumer.queue.get_nowait()
                    except queue.Empty:
                        pass

    def _consume(self, consumer: _Consumer, fn: Callable[[Iterator[FrameSample]], Any],
                 results: dict[str, Any]) -> None:
        def frames() -> Iterator[FrameSample]:
            while True:
                item = consumer.queue.get()
                if item is _END:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item

        it = frames()
        try:
            results[consumer.name] = fn(it)
        except BaseException as exc:
            results[consumer.name] = exc
        finally:
            consumer.alive = False
            # drain whatever is left so the decoder never blocks on us
            try:
                while True:
                    consumer.queue.get_nowait()
            except queue.Empty:
                pass

    def _decode(self) -> None:
        v = self.video
        container = open_container(v.uri)
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = self.threads
            tb = Fraction(stream.time_base) if stream.time_base else v.time_base
            nominal = int(round(1 / (v.fps * tb))) if v.fps and tb else 1
            converters: dict[tuple[Any, ...], _Converter] = {}
            last_pts: int | None = None
            index = 0
            try:
                for frame in container.decode(stream):
                    if self._stop.is_set():
                        break
                    pts = frame.pts
                    if pts is None:
                        pts = frame.dts if frame.dts is not None else (
                            0 if last_pts is None else last_pts + nominal)
                    elif last_pts is not None and pts <= last_pts and frame.dts is None:
                        pts = last_pts + nominal
                    last_pts = pts
                    t = float(pts * tb)
                    cache: dict[tuple[Any, ...], np.ndarray] = {}
                    for consumer, _fn in self._consumers:
                        if not consumer.alive:
                            continue
                        for stream_no, (s, clock) in enumerate(zip(consumer.samplings, consumer.clocks)):
                            if not clock.due(t):
                                continue
                            key = (s.max_side, s.pix_fmt, s.upright, frame.width, frame.height,
                                   frame.format.name)
                            if key not in converters:
                                converters[key] = _Converter(s, frame)
                            img = cache.get(key)
                            if img is None:
                                img = converters[key](frame)
                                if s.upright and v.rotation:
                                    img = _orient(img, v.rotation)
                                cache[key] = img
                            self._put(consumer, FrameSample(v.id, index, int(pts), tb, img, s.pix_fmt,
                                                            stream=stream_no))
                    index += 1
                    self.frames_decoded = index
                    if self.on_frame is not None:
                        self.on_frame(index, t)
                    if not any(c.alive for c, _ in self._consumers):
                        break
            except av.error.FFmpegError as exc:
                if index == 0:
                    raise CorruptMediaError(f"{Path(v.uri).name}: video does not decode: {exc.strerror or exc}",
                                            path=v.uri, log_tail=diagnose(v.uri))
                raise CorruptMediaError(
                    f"{Path(v.uri).name}: decoding failed after {index} frames: {exc.strerror or exc}",
                    path=v.uri, log_tail=diagnose(v.uri)) from None
            if index == 0:
                raise MediaError(f"{Path(v.uri).name}: no frame decoded", path=v.uri)


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def iter_frames(video: Video, sampling: Sampling, *, threads: int = 2,
                skip_nonref: bool = False, spans: Sequence[tuple[float, float]] | None = None
                ) -> Iterator[FrameSample]:
    """Single-consumer convenience: yield frames as ``sampling`` asks, in this thread.

    ``skip_nonref`` lets the decoder drop frames nothing refers to (most B-frames), so less is
    decoded, for consumers that sample a few frames a second and can take a neighbouring frame.
    ``spans`` (seconds from the stream's start, in order) decodes only those stretches, each from the
    keyframe before it (a seek): for consumers that need a few parts of a long file. Frame indices are then
    counted from the frame rate, not from the decode order.
    """
    container = open_container(video.uri)
    conv: _Converter | None = None
    clock = _Clock(sampling.fps)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        if skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        tb = Fraction(stream.time_base) if stream.time_base else video.time_base
        nominal = int(round(1 / (video.fps * tb))) if video.fps and tb else 1
        origin = stream.start_time or 0
        last_pts: int | None = None
        index = -1
        try:
            for lo, hi in spans if spans is not None else [(None, None)]:
                if lo is not None:
                    container.seek(origin + int(lo / tb), stream=stream, backward=True, any_frame=False)
                for frame in container.decode(stream):
                    pts = frame.pts if frame.pts is not None else (0 if last_pts is None else last_pts + nominal)
                    last_pts = pts
                    index += 1
                    t = float((pts - origin) * tb)
                    if lo is not None:
                        if t < lo:
                            continue
                        if t >= hi:
                            break
                        index = round(t * float(video.fps or 1))
                    if not clock.due(float(pts * tb)):
                        continue
                    if conv is None or conv.source != (frame.width, frame.height, frame.format.name):
                        conv = _Converter(sampling, frame)
                    img = conv(frame)
                    if sampling.upright and video.rotation:
                        img = _orient(img, video.rotation)
                    yield FrameSample(video.id, index, int(pts), tb, img, sampling.pix_fmt)
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(f"{Path(video.uri).name}: decoding failed: {exc.strerror or exc}",
                                    path=video.uri) from None


def frame_at(video: Video, pts: int, sampling: Sampling) -> FrameSample | None:
    """The first frame at or after ``pts`` (stream time base), found by seeking.

    For the rare frame a streaming pass did not keep (e.g. a keyframe for a
    shot shorter than the candidate interval); ``sampling.fps`` is ignored.
    Decodes on one thread: closing a frame-threaded decoder that was left
    mid-stream can deadlock in PyAV (it froze whole processes), and a few
    frames from one keyframe gain nothing from threads.
    """
    container = open_container(video.uri)
    with container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        tb = Fraction(stream.time_base) if stream.time_base else video.time_base
        try:
            container.seek(int(pts), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts is None or frame.pts < pts:
                    continue
                img = _Converter(sampling, frame)(frame)
                if sampling.upright and video.rotation:
                    img = _orient(img, video.rotation)
                return FrameSample(video.id, -1, int(frame.pts), tb, img, sampling.pix_fmt)
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(f"{Path(video.uri).name}: seeking to pts {pts} failed: {exc.strerror or exc}",
                                    path=video.uri) from None
    return None


def run_consumers(video: Video,
                  consumers: Mapping[str, tuple[Sampling | Sequence[Sampling], Callable[[Iterator[FrameSample]], Any]]],
                  **kwargs: Any) -> dict[str, Any]:
    """Functional form of ``FrameFanout``: ``{name: (sampling, fn)}`` → ``{name: result}``."""
    fan = FrameFanout(video, **kwargs)
    for name, (sampling, fn) in consumers.items():
        fan.subscribe(name, sampling, fn)
    return fan.run()
