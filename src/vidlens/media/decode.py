"""One decode loop over any ``Source``, fanned out to incremental consumers.

A thread demuxes and decodes the source once (video and audio) into a small bounded queue (in batches),
PySceneDetect style, so decoding overlaps the work done on each frame and memory stays flat.
The caller's thread takes each decoded frame, converts it once per (size, format) that some
consumer asked for, and ``push``es it to every consumer whose ``Sampling`` wants it; audio is
resampled to each ``AudioSampling`` (mono, a rate) and pushed in chunks; the packet tap pushes
the compressed packets themselves (``PacketSample``) to consumers that copy a stream without
re-encoding it (recordings, clips) or read packets only (keyframe positions, content hashes), so
nothing else opens a second demux of the same source. At the end every consumer's ``finish()``
gives its result. ``FrameFanout`` runs iterator-style consumers (analyzers) on their own threads
on top of this; ``iter_frames``/``iter_audio``/``iter_packets`` are single-consumer views.

One timestamp policy for everything read: a frame's time is its PTS on the stream's own clock
(seconds = pts × time_base); a missing or non-increasing PTS is replaced by the previous one
plus one frame at the stream's rate, so times are strictly increasing; a live source's clock is
rebased so its first frame is at 0. Audio chunks are contiguous: sample ``i`` is ``i / rate``
seconds after the first one kept.

Pixel conversion, not the decoder, is the first bottleneck (full-size RGB costs
more than decoding H.264). So ``gray`` and ``yuv`` at a small size are taken
straight from the decoder's 8-bit planes by strided sampling, with no swscale
call at all; other requests go through one ``reformat`` at the target size.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Literal, Protocol, TypeVar

import av
import numpy as np

from vidlens.errors import CorruptMediaError, MediaError, SourceError, UsageError
from vidlens.hashing import sha256_bytes
from vidlens.media.ffmpeg import diagnose
from vidlens.media.probe import open_container
from vidlens.media.source import Source
from vidlens.types import FrameSample, Video

PixFmt = Literal["gray", "yuv", "rgb24", "bgr24", "yuv420p"]
_FAST_PLANAR = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}
# Packed RGB layouts (GIF decodes to bgra): bytes per pixel and where R, G, B sit in a pixel.
_FAST_PACKED = {"rgb24": (3, (0, 1, 2)), "bgr24": (3, (2, 1, 0)), "rgba": (4, (0, 1, 2)), "bgra": (4, (2, 1, 0)),
                "argb": (4, (1, 2, 3)), "abgr": (4, (3, 2, 1)), "rgb0": (4, (0, 1, 2)), "bgr0": (4, (2, 1, 0)),
                "0rgb": (4, (1, 2, 3)), "0bgr": (4, (3, 2, 1))}
# RGB -> BT.601 limited-range Y, U, V (swscale's default for RGB to YUV), offsets added after
_RGB_TO_YUV = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]],
                       np.float32) / 255.0
_YUV_OFFSET = np.array([16.0, 128.0, 128.0], np.float32)
_END = object()
_VIDEO, _AUDIO, _PACKET = "video", "audio", "packet"
HANDOFF_BATCH = 16  # most items the decode thread queues for the caller's thread at once (a live source: 1)
PacketStreams = Literal["video", "audio", "all"]
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Sampling:
    """How a consumer wants its frames.

    ``fps=None`` means every decoded frame. ``max_side`` bounds the longer side
    (aspect kept, never upscaled). ``gray`` is an (H, W) uint8 array, ``yuv`` an
    (H, W, 3) uint8 array of Y, U, V at the same grid, ``rgb24``/``bgr24`` (H, W, 3), ``yuv420p``
    the planar 4:2:0 layout (H * 3/2, W) at even sides, ready to pipe to an encoder.
    ``upright`` applies the container's rotation (display orientation). ``origin`` (seconds, with
    ``fps``) is when the first frame was due: a range of a file read with the time of the file's
    first frame takes the frames a read of the whole file would take (its clock keeps that phase).
    """

    fps: float | None = None
    max_side: int | None = None
    pix_fmt: PixFmt = "rgb24"
    upright: bool = True
    origin: float | None = None

    def __post_init__(self) -> None:
        if self.fps is not None and not (0 < self.fps <= 1000):
            raise UsageError(f"sampling fps must be in (0, 1000], got {self.fps}")
        if self.max_side is not None and self.max_side < 8:
            raise UsageError(f"sampling max_side must be >= 8, got {self.max_side}")
        if self.pix_fmt not in ("gray", "yuv", "rgb24", "bgr24", "yuv420p"):
            raise UsageError(f"sampling pix_fmt must be gray, yuv, rgb24, bgr24 or yuv420p, got {self.pix_fmt!r}")


def target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, int(round(width * scale)) // 2 * 2), max(2, int(round(height * scale)) // 2 * 2)


def _plane(frame: av.VideoFrame, i: int) -> np.ndarray:
    return _as_array(frame.planes[i])


def _as_array(p: av.video.plane.VideoPlane) -> np.ndarray:
    return np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]


def _stride_for(width: int, height: int, max_side: int | None) -> int:
    if not max_side:
        return 1
    return max(1, math.ceil(max(width, height) / max_side))


class _Converter:
    """Converts one decoded frame for one (size, format) key, caching per frame.

    The plan (which planes, which sample grid) is fixed on the first frame of a key: the
    key holds the source size and format, so every later frame has the same layout. One
    ``VideoReformatter`` is kept per key, so swscale sets its filters up once, not per frame.
    """

    def __init__(self, sampling: Sampling, frame: av.VideoFrame) -> None:
        width, height = frame.width, frame.height
        name = frame.format.name
        self.source = (width, height, name)
        self.sampling = sampling
        self.stride = _stride_for(width, height, sampling.max_side)
        self.size = target_size(width, height, sampling.max_side)
        if sampling.pix_fmt == "yuv420p":  # planar 4:2:0 needs even sides
            self.size = (max(2, self.size[0] - self.size[0] % 2), max(2, self.size[1] - self.size[1] % 2))
        self._fast = sampling.pix_fmt in ("gray", "yuv") and name in _FAST_PLANAR
        self._packed = _FAST_PACKED.get(name) if sampling.pix_fmt in ("gray", "yuv") else None
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._chroma: Callable[[np.ndarray], np.ndarray] | None = None
        if self._fast and sampling.pix_fmt == "yuv" and name != "gray":
            self._chroma = self._chroma_sampler(frame)

    def _chroma_sampler(self, frame: av.VideoFrame) -> Callable[[np.ndarray], np.ndarray]:
        """Take a chroma plane at the luma sample grid: a strided view where the grid allows, else a gather."""
        k, name = self.stride, self.source[2]
        if name == "nv12":
            sy = sx = 2
        else:
            sx = 2 if name.startswith(("yuv420", "yuvj420", "yuv422", "yuvj422")) else 1
            sy = 2 if name.startswith(("yuv420", "yuvj420")) else 1
        planes = frame.planes
        y = _as_array(planes[0])[::k, ::k]
        c = _as_array(planes[1])
        c = c[:, 0::2] if name == "nv12" else c
        if k % sx == 0 and k % sy == 0 and c[:: k // sy, :: k // sx].shape == y.shape:
            ry, rx = k // sy, k // sx
            return lambda plane: plane[::ry, ::rx]
        rows = np.minimum((np.arange(y.shape[0]) * k) // sy, c.shape[0] - 1)[:, None]
        cols = np.minimum((np.arange(y.shape[1]) * k) // sx, c.shape[1] - 1)[None, :]
        return lambda plane: plane[rows, cols]

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        fmt = self.sampling.pix_fmt
        if self._fast:
            k = self.stride
            planes = frame.planes
            y = _as_array(planes[0])[::k, ::k]
            if fmt == "gray":
                return np.ascontiguousarray(y)
            out = np.empty((*y.shape, 3), np.uint8)
            out[..., 0] = y
            if self._chroma is None:  # a grey source
                out[..., 1:] = 128
            elif self.source[2] == "nv12":
                uv = _as_array(planes[1])
                out[..., 1] = self._chroma(uv[:, 0::2])
                out[..., 2] = self._chroma(uv[:, 1::2])
            else:
                out[..., 1] = self._chroma(_as_array(planes[1]))
                out[..., 2] = self._chroma(_as_array(planes[2]))
            return out
        if self._packed is not None:
            return self._from_packed(frame)
        w, h = self.size
        reformat = self._reformatter.reformat
        if fmt == "gray":
            return reformat(frame, width=w, height=h, format="gray").to_ndarray()
        if fmt == "yuv":
            f = reformat(frame, width=w, height=h, format="yuv444p")
            return np.stack([_plane(f, i) for i in range(3)], axis=-1)
        return reformat(frame, width=w, height=h, format=fmt).to_ndarray()

    def _from_packed(self, frame: av.VideoFrame) -> np.ndarray:
        """A packed RGB frame on the same strided grid as the planar path, converted to YUV (or Y) there: the
        few sampled pixels are converted instead of swscale converting and filtering the whole frame, which
        cost a GIF more than its decoding."""
        assert self._packed is not None
        k, (bpp, order) = self.stride, self._packed
        p = frame.planes[0]
        px = np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : frame.width * bpp]
        rgb = px.reshape(p.height, frame.width, bpp)[::k, ::k][..., list(order)].astype(np.float32)
        yuv = np.clip(rgb @ _RGB_TO_YUV.T + _YUV_OFFSET + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(yuv[..., 0]) if self.sampling.pix_fmt == "gray" else yuv


def _orient(img: np.ndarray, rotation: int) -> np.ndarray:
    # FFmpeg's display-matrix rotation is counter-clockwise degrees.
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k=turns)) if turns else img


class _Clock:
    """Decides which frames a rate-limited sampling takes (by timestamp, so VFR works)."""

    def __init__(self, fps: float | None, origin: float | None = None) -> None:
        self.fps = fps
        self.next_due = -math.inf
        self.origin = origin

    def due(self, t: float) -> bool:
        if self.fps is None:
            return True
        if self.next_due == -math.inf and self.origin is not None:  # the first due time at or after t
            period = 1.0 / self.fps
            self.next_due = self.origin + max(0, math.ceil((t - self.origin) / period - 1e-6)) * period
        if t + 1e-9 >= self.next_due:
            period = 1.0 / self.fps
            self.next_due = (self.next_due + period) if self.next_due > -math.inf else t + period
            if self.next_due <= t:  # fell behind after a timestamp jump
                self.next_due = t + period
            return True
        return False




@dataclass(frozen=True, slots=True)
class AudioSampling:
    """How a consumer wants the sound: mono float32 at ``rate`` Hz, pushed in chunks of ``chunk_s`` seconds."""

    rate: int = 16000
    chunk_s: float = 30.0

    def __post_init__(self) -> None:
        if self.rate < 1000 or self.rate > 192000:
            raise UsageError(f"audio rate must be in [1000, 192000] Hz, got {self.rate}")
        if self.chunk_s <= 0:
            raise UsageError(f"audio chunk_s must be > 0, got {self.chunk_s}")


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Contiguous mono samples; ``start_s`` is the time of ``samples[0]`` on the stream's clock."""

    samples: np.ndarray
    rate: int
    start_s: float


@dataclass(frozen=True, slots=True)
class PacketSample:
    """One compressed packet as demuxed, never decoded for this consumer: for stream copies and packet reads.

    ``packet`` is PyAV's: ``packet.stream`` is its input stream (a template for an output stream, valid
    until the decode ends). Every packet consumer gets the same object, and muxing it re-times it into
    the output's time base, so read ``t`` and ``keyframe`` here. ``t`` is pts × time base on the
    container's own clock, the one a muxer writes (a live source's frames are rebased to start at 0,
    its packets are not: see ``Decoder.clock_origin_s``); None without a pts. ``received`` is the wall
    clock (``time.time()``) when it was read.
    """

    packet: av.Packet
    kind: str  # the stream's type: video, audio, subtitle, data ...
    t: float | None
    keyframe: bool
    received: float


class Consumer(Protocol):
    """What the decode feeds: ``push`` each item as it comes, ``finish()`` once at the end for the result.

    ``push`` may raise ``ConsumerDone`` when it wants no more (``finish()`` is still called); any other
    exception from ``push`` becomes the consumer's result. A consumer with an ``abort(error)`` method
    has it called instead of ``finish()`` when the decode itself fails.
    """

    def push(self, item: Any) -> None: ...

    def finish(self) -> Any: ...


class ConsumerDone(Exception):
    """Raised by a consumer's ``push`` when it has all it wants."""


class Timeline:
    """The one timestamp policy (see the module docstring) for one stream, in its time-base ticks."""

    def __init__(self, nominal: int, *, rebase: bool = False) -> None:
        self.nominal = max(1, nominal)
        self.rebase = rebase
        self.origin: int | None = None
        self.last: int | None = None

    def __call__(self, pts: int | None) -> int:
        if pts is not None and self.rebase:
            if self.origin is None:
                self.origin = pts
            pts -= self.origin
        if pts is None:
            pts = 0 if self.last is None else self.last + self.nominal
        elif self.last is not None and pts <= self.last:
            pts = self.last + self.nominal
        self.last = pts
        return pts


def _nominal_ticks(stream: av.video.stream.VideoStream, tb: Fraction) -> int:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return int(round(1 / (Fraction(rate) * tb))) if rate and tb else 1


def describe(source: Source, container: av.container.InputContainer) -> Video:
    """A ``Video`` from an opened container, for a live source (nothing to probe or hash) or a file
    read without ``probe``: its id names the source, it is not a content hash."""
    vs = container.streams.video[0] if container.streams.video else None
    tb = Fraction(vs.time_base) if vs is not None and vs.time_base else Fraction(1, 1000)
    rate = (vs.average_rate or vs.guessed_rate) if vs is not None else None
    cc = vs.codec_context if vs is not None else None
    where = source.name if source.live else source.uri
    ident = ("live-" if source.live else "path-") + sha256_bytes(where.encode())[:32]
    duration = 0  # in ``tb`` ticks, as the container states it (a live source has none)
    if not source.live and vs is not None and vs.duration:
        duration = int(vs.duration)
    elif not source.live and container.duration:
        duration = int(Fraction(container.duration, 1_000_000) / tb)
    frames = int(vs.frames or 0) if vs is not None and not source.live else 0
    return Video(id=ident, sha256=ident, uri=where, size_bytes=0, container=container.format.name,
                 time_base=tb, duration=duration, fps=Fraction(rate) if rate else None,
                 width=int(cc.width or 0) if cc else 0, height=int(cc.height or 0) if cc else 0, rotation=0,
                 frame_count=frames or None, has_audio=bool(container.streams.audio))


class _Feed:
    __slots__ = ("consumer", "samplings", "clocks", "audio", "packets", "tap", "done", "result", "pending", "have",
                 "emitted", "skip", "limit", "t0")

    def __init__(self, consumer: Consumer, samplings: tuple[Sampling, ...] = (),
                 audio: AudioSampling | None = None, packets: tuple[PacketStreams, ...] = ()) -> None:
        self.consumer = consumer
        self.samplings = samplings
        self.clocks = [_Clock(s.fps, s.origin) for s in samplings]
        self.audio = audio
        self.packets = packets
        self.tap: frozenset[int] = frozenset()  # the stream indices whose packets it gets, once the source is open
        self.done = False
        self.result: Any = None
        self.pending: list[np.ndarray] = []
        self.have = self.emitted = self.skip = 0
        self.limit: int | None = None
        self.t0 = 0.0


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Handoff:
    """The decode thread's items for the caller's thread, queued in batches: a batch goes with each video
    frame, or at ``size`` items. Each hand-off wakes the caller's thread and passes the GIL back and forth,
    which cost more CPU than the work on an audio frame or a packet (a third of a sound-only decode's: the
    scan's decode section of docs/benchmarks.md). A frame is never held back for later items, and a live
    source hands each item over at once, so nothing waits longer than it did."""

    __slots__ = ("put", "size", "items")

    def __init__(self, put: Callable[[list[Any]], None], size: int) -> None:
        self.put, self.size = put, max(1, size)
        self.items: list[Any] = []

    def add(self, item: Any, *, now: bool = False) -> None:
        self.items.append(item)
        if now or len(self.items) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.items:
            items, self.items = self.items, []
            self.put(items)


class Decoder:
    """The one decode loop: open ``source`` once, decode on a thread, push to every consumer.

    >>> dec = Decoder(open_source("clip.mp4"))
    >>> dec.add_video(Sampling(fps=2, max_side=256, pix_fmt="rgb24"), thumbs)
    >>> dec.add_audio(AudioSampling(rate=16000), speech)
    >>> dec.add_packets(recorder)                 # the video stream's packets, for a stream copy
    >>> thumbs_result, speech_result, recorder_result = dec.run()

    ``video`` describes the source (a probed file); without it the opened container is described
    (``describe``), which is how a live source gets one. ``stop`` ends the decode early without an
    error (a live source runs until it is set). ``on_frame(index, t)`` follows every decoded frame.
    ``skip_nonref`` drops frames nothing refers to (most B-frames); ``skip_loop_filter`` leaves out the
    H.264/HEVC deblocking filter (less decode work, slightly blockier pictures that drift until the
    next keyframe): both for consumers that search a few downscaled frames a second.
    A live source that stalls past its timeout, disconnects or ends raises ``SourceError``; one
    damaged packet of a live stream after the first frame is skipped, as a player would.
    """

    def __init__(self, source: Source, *, video: Video | None = None, threads: int = 2, queue_size: int = 8,
                 skip_nonref: bool = False, stop: threading.Event | None = None,
                 on_frame: Callable[[int, float], None] | None = None, skip_loop_filter: bool = False) -> None:
        self.source = source
        self.video = video
        self.threads = threads
        self.queue_size = queue_size
        self.skip_nonref = skip_nonref
        self.skip_loop_filter = skip_loop_filter
        self.stop_event = stop or threading.Event()
        self.on_frame = on_frame
        self.frames_decoded = 0
        self.has_audio: bool | None = None
        self._feeds: list[_Feed] = []
        self._container: av.container.InputContainer | None = None
        self._closing = threading.Event()
        self._resamplers: dict[int, av.AudioResampler] = {}
        self._converters: dict[tuple[Any, ...], _Converter] = {}
        self._origin: Fraction = Fraction(0)  # seconds of the container's clock at frame time 0

    def add_video(self, sampling: Sampling | Sequence[Sampling], consumer: Consumer) -> None:
        """Feed ``consumer`` ``FrameSample``s; with several samplings each sample's ``stream`` says which."""
        samplings = (sampling,) if isinstance(sampling, Sampling) else tuple(sampling)
        if not samplings:
            raise UsageError("a video consumer must ask for at least one sampling")
        self._feeds.append(_Feed(consumer, samplings=samplings))

    def add_audio(self, sampling: AudioSampling, consumer: Consumer) -> None:
        """Feed ``consumer`` ``AudioChunk``s (nothing at all when the source has no audio stream)."""
        self._feeds.append(_Feed(consumer, audio=sampling))

    def add_packets(self, consumer: Consumer, streams: Sequence[PacketStreams] = ("video",)) -> None:
        """Feed ``consumer`` ``PacketSample``s, in demux order, from the same demux the frames come from.

        ``streams``: ``video`` (the stream frames are decoded from), ``audio`` (the first audio stream),
        ``all`` (every stream in the container). The demuxer's empty end-of-stream packets are not passed.
        A range's packets run from the keyframe its start seeks to, to the first packet at or after its end.
        """
        if not streams or any(s not in ("video", "audio", "all") for s in streams):
            raise UsageError(f"packet streams must be video, audio or all, got {list(streams)}")
        self._feeds.append(_Feed(consumer, packets=tuple(streams)))

    @property
    def clock_origin_s(self) -> float:
        """Seconds on the container's own clock at which frame time 0 lies (a live source's first frame; 0 for a file)."""
        return float(self._origin)

    def stop(self) -> None:
        self.stop_event.set()

    def open(self) -> Video:
        """Open the source now (a live one may take until its timeout) and return its description."""
        if self._container is None:
            self._container = self.source.open()
            self.has_audio = bool(self._container.streams.audio)
            if self.video is None:
                self.video = describe(self.source, self._container)
        assert self.video is not None
        return self.video

    def _tap(self, choice: tuple[PacketStreams, ...]) -> frozenset[int]:
        container = self._container
        assert container is not None
        found: set[int] = set()
        for c in choice:
            if c == "all":
                found |= {s.index for s in container.streams}
            elif c == "video" and container.streams.video:
                found.add(container.streams.video[0].index)
            elif c == "audio" and container.streams.audio:
                found.add(container.streams.audio[0].index)
        if "video" in choice and not container.streams.video:
            raise UsageError(f"{self.source.name} has no video stream")
        return frozenset(found)

    def _close_container(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.close()

    def run(self) -> list[Any]:
        """Decode to the end (or until stopped); each consumer's result, in the order they were added."""
        for _ in self.pump():
            pass
        return [f.result for f in self._feeds]

    def pump(self) -> Iterator[None]:
        """Like ``run``, a step per decoded frame: a caller takes what its consumers got in between."""
        if not self._feeds:
            raise UsageError("a decode needs at least one consumer")
        self.open()
        try:
            for f in self._feeds:
                f.tap = self._tap(f.packets)
        except BaseException:
            self._close_container()
            raise
        out: queue.Queue[Any] = queue.Queue(maxsize=self.queue_size)
        worker = threading.Thread(target=self._produce, args=(out,), name="vidlens-decode", daemon=True)
        worker.start()
        error: BaseException | None = None
        try:
            wanted = True
            while wanted:
                batch = out.get()
                if batch is _END:
                    break
                if isinstance(batch, _Failed):
                    error = batch.error
                    break
                for kind, payload, pts, tb, received in batch:
                    if kind is _VIDEO:
                        self._dispatch_video(payload, pts, tb, received)
                    elif kind is _AUDIO:
                        self._dispatch_audio(payload, pts, tb)
                    else:
                        self._dispatch_packet(payload)
                    yield
                    if all(f.done for f in self._feeds):
                        wanted = False
                        break
        finally:
            self._closing.set()
            self.stop_event.set()
            while worker.is_alive():  # the producer may be blocked on a full queue: make room until it ends
                try:
                    out.get_nowait()
                except queue.Empty:
                    worker.join(0.05)
            self._close_container()  # here, not in the decode thread: packets handed out still name its streams
        if error is not None:
            for f in self._feeds:
                abort = getattr(f.consumer, "abort", None)
                if abort is not None:
                    abort(error)
            raise error
        self._flush_audio()
        for f in self._feeds:
            if not f.done:
                f.done = True
                try:
                    f.result = f.consumer.finish()
                except Exception as exc:  # the consumer's failure is its result, not the decode's
                    f.result = exc
        yield

    # -- the decode thread -------------------------------------------------------------------------
    def _put(self, out: queue.Queue[Any], item: Any) -> None:
        while not self._closing.is_set():
            try:
                out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _produce(self, out: queue.Queue[Any]) -> None:
        container = self._container
        assert container is not None
        handoff = _Handoff(lambda items: self._put(out, items), 1 if self.source.live else HANDOFF_BATCH)
        try:
            try:
                self._decode(container, handoff)
            finally:
                handoff.flush()  # what was decoded before an end or a failure still reaches the consumers
                self._settle(container)
            self._put(out, _END)
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._put(out, _Failed(exc))

    def _settle(self, container: av.container.InputContainer) -> None:
        """Let a frame-threaded decoder hand back the frames it holds before its container closes:
        closing one left mid-stream (a range's end, a stop) can deadlock in libav's frame threads."""
        if self.threads <= 1 or not container.streams.video or not any(f.samplings for f in self._feeds):
            return
        try:
            for _ in container.streams.video[0].decode(None):
                pass
        except (av.error.FFmpegError, ValueError):
            pass  # nothing held, or a decoder that already failed: closing is safe either way

    def _decode(self, container: av.container.InputContainer, out: _Handoff) -> None:
        src, name = self.source, self.source.name
        want_video = any(f.samplings for f in self._feeds)
        want_audio = any(f.audio for f in self._feeds)
        tap = frozenset().union(*(f.tap for f in self._feeds))
        vs = container.streams.video[0] if want_video and container.streams.video else None
        aus = container.streams.audio[0] if want_audio and container.streams.audio else None
        if want_video and vs is None:
            raise UsageError(f"{name} has no video stream")
        streams = [s for s in container.streams if s is vs or s is aus or s.index in tap]
        if not streams:
            return
        vtb = Fraction(vs.time_base) if vs is not None and vs.time_base else Fraction(1, 1000)
        if vs is not None:
            if self.threads > 1:
                vs.thread_type = "AUTO"
            vs.codec_context.thread_count = self.threads
            if self.skip_nonref:
                vs.codec_context.skip_frame = "NONREF"
            if self.skip_loop_filter:
                vs.codec_context.options = {**vs.codec_context.options, "skip_loop_filter": "all"}
        if aus is not None:
            aus.thread_type = "AUTO"
        atb = Fraction(aus.time_base) if aus is not None and aus.time_base else Fraction(1, 1000)
        if src.start:
            lead = vs or aus or (container.streams.video[0] if container.streams.video else streams[0])
            tb = Fraction(lead.time_base) if lead.time_base else Fraction(1, 1000)
            try:
                container.seek(int(src.start / tb), stream=lead, backward=True, any_frame=False)
            except av.error.FFmpegError as exc:
                raise CorruptMediaError(f"{name}: seeking to {src.start:.3f} s failed: {exc.strerror or exc}",
                                        path=src.uri) from None
        vclock = Timeline(_nominal_ticks(vs, vtb) if vs is not None else 1, rebase=src.live)
        first_v = math.ceil(src.start / vtb - 1e-6) if src.start else None
        last_v = src.end / vtb if src.end is not None else None
        video_done, audio_done, packets_done = vs is None, aus is None, not tap
        frames = 0
        try:
            for packet in container.demux(streams):
                if self.stop_event.is_set():
                    return
                received = time.time()
                if packet.stream is vs and not video_done:
                    try:
                        decoded = packet.decode()
                    except av.error.InvalidDataError as exc:
                        if not src.live:
                            raise
                        if frames == 0:
                            raise SourceError(f"{name}: the stream does not decode as video (garbage or an "
                                              f"unsupported codec): {exc.strerror or exc}",
                                              details={"source": name}) from None
                        decoded = []  # one damaged packet of a live stream: skipped, as a player would
                    for frame in decoded:
                        pts = vclock(frame.pts)
                        if first_v is not None and pts < first_v:
                            continue
                        if last_v is not None and pts >= last_v:
                            video_done = True
                            break
                        if frames == 0 and vclock.origin is not None:
                            self._origin = vclock.origin * vtb
                        frames += 1
                        out.add((_VIDEO, frame, pts, vtb, received), now=True)
                elif packet.stream is aus and not audio_done:
                    audio_done = self._decode_audio(packet, atb, out)
                if not packets_done and packet.stream.index in tap and packet.size:
                    t = float(packet.pts * packet.time_base) if packet.pts is not None else None
                    if src.end is not None and t is not None and t >= src.end:
                        packets_done = True
                    else:
                        sample = PacketSample(packet, packet.stream.type, t, bool(packet.is_keyframe), received)
                        out.add((_PACKET, sample, None, None, received))
                if video_done and audio_done and packets_done:
                    return
        except av.error.FFmpegError as exc:
            if src.live:
                raise SourceError(f"{name}: the live source stalled or disconnected after {frames} frames: "
                                  f"{exc.strerror or exc}", details={"source": name, "frames": frames}) from None
            what = "video does not decode" if frames == 0 else f"decoding failed after {frames} frames"
            raise CorruptMediaError(f"{name}: {what}: {exc.strerror or exc}", path=src.uri,
                                    log_tail=diagnose(src.uri) if src.data is None else "") from None
        if src.live and not self.stop_event.is_set():
            raise SourceError(f"{name}: the live source ended (disconnected) after {frames} frames",
                              details={"source": name, "frames": frames})
        if vs is not None and frames == 0 and src.start is None and src.end is None:
            raise MediaError(f"{name}: no frame decoded", path=src.uri)

    def _decode_audio(self, packet: av.Packet, atb: Fraction, out: _Handoff) -> bool:
        """Decode one audio packet onto the queue; True once the range's end is reached."""
        src = self.source
        try:
            decoded = packet.decode()
        except av.error.InvalidDataError:
            return False  # one damaged audio packet: skip it, a burst still ends the track cleanly
        except av.error.FFmpegError as exc:
            if src.live:
                raise
            raise CorruptMediaError(f"{src.name}: audio cannot be decoded: {exc.strerror or exc}",
                                    path=src.uri) from None
        for frame in decoded:
            if src.end is not None and frame.pts is not None and frame.pts * atb >= src.end:
                return True
            out.add((_AUDIO, frame, frame.pts, atb, None))
        return False

    # -- the caller's thread -----------------------------------------------------------------------
    def _push(self, feed: _Feed, item: Any) -> None:
        try:
            feed.consumer.push(item)
        except ConsumerDone:
            feed.done = True
            try:
                feed.result = feed.consumer.finish()
            except Exception as exc:
                feed.result = exc
        except Exception as exc:  # the consumer failed: it gets no more, the others go on
            feed.done, feed.result = True, exc

    def _dispatch_packet(self, sample: PacketSample) -> None:
        for feed in self._feeds:
            if not feed.done and sample.packet.stream_index in feed.tap:
                self._push(feed, sample)

    def _dispatch_video(self, frame: av.VideoFrame, pts: int, tb: Fraction, received: float) -> None:
        video = self.video
        assert video is not None
        t = float(pts * tb)
        index = self.frames_decoded
        cache: dict[tuple[Any, ...], np.ndarray] = {}
        for feed in self._feeds:
            if feed.done or not feed.samplings:
                continue
            for stream_no, (s, clock) in enumerate(zip(feed.samplings, feed.clocks)):
                if not clock.due(t):
                    continue
                key = (s.max_side, s.pix_fmt, s.upright, frame.width, frame.height, frame.format.name)
                img = cache.get(key)
                if img is None:
                    conv = self._converters.get(key)
                    if conv is None:
                        conv = self._converters[key] = _Converter(s, frame)
                    img = conv(frame)
                    if s.upright and video.rotation:
                        img = _orient(img, video.rotation)
                    cache[key] = img
                self._push(feed, FrameSample(video.id, index, int(pts), tb, img, s.pix_fmt, stream=stream_no,
                                             received=received))
                if feed.done:
                    break
        self.frames_decoded = index + 1
        if self.on_frame is not None:
            self.on_frame(index + 1, t)

    def _dispatch_audio(self, frame: av.AudioFrame, pts: int | None, tb: Fraction) -> None:
        feeds = [f for f in self._feeds if f.audio is not None and not f.done]
        if not feeds:
            return
        if not self._resamplers:  # the first audio frame fixes where each feed's samples start
            first = 0.0 if pts is None or self.source.live else float(pts * tb)
            for f in feeds:
                assert f.audio is not None
                f.t0 = max(first, self.source.start or first)
                f.skip = int(round((f.t0 - first) * f.audio.rate))
                end = self.source.end
                f.limit = None if end is None else int(round((end - f.t0) * f.audio.rate))
        converted: dict[int, list[np.ndarray]] = {}
        for f in feeds:
            assert f.audio is not None
            rate = f.audio.rate
            if rate not in converted:
                if rate not in self._resamplers:
                    self._resamplers[rate] = av.AudioResampler(format="flt", layout="mono", rate=rate)
                converted[rate] = [o.to_ndarray().reshape(-1) for o in self._resamplers[rate].resample(frame)]
            for part in converted[rate]:
                self._take(f, part, final=False)

    def _flush_audio(self) -> None:
        for rate, resampler in self._resamplers.items():
            tail = [o.to_ndarray().reshape(-1) for o in resampler.resample(None)]
            for f in self._feeds:
                if f.audio is not None and f.audio.rate == rate and not f.done:
                    for part in tail:
                        self._take(f, part, final=False)
        for f in self._feeds:
            if f.audio is not None and not f.done:
                self._take(f, np.zeros(0, np.float32), final=True)

    def _take(self, f: _Feed, samples: np.ndarray, *, final: bool) -> None:
        """Add resampled samples to a feed (after its range trim) and push every whole chunk."""
        assert f.audio is not None
        if f.skip:
            drop = min(f.skip, samples.size)
            samples, f.skip = samples[drop:], f.skip - drop
        if f.limit is not None:
            room = max(0, f.limit - f.emitted - f.have)
            samples = samples[:room]
        if samples.size:
            f.pending.append(samples)
            f.have += samples.size
        target = max(1, int(f.audio.rate * f.audio.chunk_s))
        while f.have >= target or (final and f.have):
            buf = np.concatenate(f.pending) if len(f.pending) > 1 else f.pending[0]
            n = min(target, buf.size)
            chunk = np.ascontiguousarray(buf[:n], dtype=np.float32)
            rest = buf[n:]
            f.pending, f.have = ([rest] if rest.size else []), rest.size
            self._push(f, AudioChunk(chunk, f.audio.rate, f.t0 + f.emitted / f.audio.rate))
            f.emitted += n
            if f.done:
                return


class Collector:
    """A consumer that keeps what it is pushed in ``items`` (single-consumer views take them as they come)."""

    def __init__(self) -> None:
        self.items: deque[Any] = deque()

    def push(self, item: Any) -> None:
        self.items.append(item)

    def finish(self) -> None:
        return None


def pull(dec: Decoder, buf: Collector) -> Iterator[Any]:
    """What ``buf`` collects from ``dec``, yielded in this thread as the decode goes (closing it stops the decode)."""
    steps = dec.pump()
    try:
        for _ in steps:
            while buf.items:
                yield buf.items.popleft()
    finally:
        steps.close()  # a reader that stopped early stops the decode thread now, not at garbage collection


def iter_frames(video: Video, sampling: Sampling, *, threads: int = 2, skip_nonref: bool = False,
                source: Source | None = None, spans: Sequence[tuple[float, float]] | None = None
                ) -> Iterator[FrameSample]:
    """Single-consumer view: yield frames of a probed video as ``sampling`` asks, in this thread.

    ``skip_nonref`` lets the decoder drop frames nothing refers to (most B-frames), so less is
    decoded, for consumers that sample a few frames a second and can take a neighbouring frame.
    ``source`` reads a range of the file (``open_source(path, start=, end=)``) instead of all of it.
    ``spans`` (seconds from the stream's start, in order) decodes only those stretches, each a range
    read from the keyframe before it (a seek): for consumers that need a few parts of a long file.
    Frame indices are then counted from the frame rate, as a whole decode would number them.
    """
    if spans is not None:
        return _iter_spans(video, sampling, spans, threads=threads, skip_nonref=skip_nonref)
    dec = Decoder(source or Source(video.uri), video=video, threads=threads, skip_nonref=skip_nonref)
    buf = Collector()
    dec.add_video(sampling, buf)
    return pull(dec, buf)


def _stream_origin(video: Video) -> float:
    """Seconds on the video stream's clock of the stream's start (a spans' zero)."""
    with open_container(video.uri) as container:
        vs = container.streams.video[0] if container.streams.video else None
        if vs is None or vs.start_time is None or not vs.time_base:
            return 0.0
        return float(vs.start_time * Fraction(vs.time_base))


def _iter_spans(video: Video, sampling: Sampling, spans: Sequence[tuple[float, float]], *, threads: int,
                skip_nonref: bool) -> Iterator[FrameSample]:
    origin = _stream_origin(video)
    fps = float(video.fps or 1)
    for lo, hi in spans:
        if hi <= lo:
            continue
        dec = Decoder(Source(video.uri, start=origin + max(0.0, lo), end=origin + hi), video=video,
                      threads=threads, skip_nonref=skip_nonref)
        buf = Collector()
        dec.add_video(sampling, buf)
        frames = pull(dec, buf)
        try:
            for s in frames:
                index = round((float(s.pts * s.time_base) - origin) * fps)
                yield FrameSample(s.video_id, index, s.pts, s.time_base, s.image, s.pix_fmt, stream=s.stream)
        finally:
            frames.close()


def read_frames(source: Source, sampling: Sampling, *, threads: int = 2) -> Iterator[FrameSample]:
    """Single-consumer view of any source, probed or not (a reader that needs no content hash, a live URL)."""
    dec = Decoder(source, threads=threads)
    buf = Collector()
    dec.add_video(sampling, buf)
    return pull(dec, buf)


def iter_audio_chunks(source: Source, sampling: AudioSampling) -> Iterator[AudioChunk]:
    """Single-consumer view of the sound: ``AudioChunk``s in this thread (none without an audio stream)."""
    dec = Decoder(source)
    buf = Collector()
    dec.add_audio(sampling, buf)
    return pull(dec, buf)


def iter_packets(source: Source, streams: Sequence[PacketStreams] = ("video",)) -> Iterator[PacketSample]:
    """Single-consumer view of the packet tap: ``PacketSample``s in this thread, nothing decoded."""
    dec = Decoder(source)
    buf = Collector()
    dec.add_packets(buf, streams)
    return pull(dec, buf)


def frame_at(video: Video, pts: int, sampling: Sampling) -> FrameSample | None:
    """The first frame at or after ``pts`` (stream time base), found by seeking.

    For the rare frame a streaming pass did not keep (e.g. a keyframe for a
    shot shorter than the candidate interval); ``sampling.fps`` is ignored.
    Decodes on one thread: closing a frame-threaded decoder that was left
    mid-stream can deadlock in PyAV (it froze whole processes), and a few
    frames from one keyframe gain nothing from threads.
    """
    start = float(Fraction(int(pts)) * video.time_base)
    dec = Decoder(Source(video.uri, start=start or None), video=video, threads=1)
    buf = Collector()
    dec.add_video(replace(sampling, fps=None), buf)
    frames = pull(dec, buf)
    try:
        s = next(frames, None)
    finally:
        frames.close()
    return None if s is None else FrameSample(s.video_id, -1, s.pts, s.time_base, s.image, s.pix_fmt)


class _ThreadedConsumer:
    """Runs an iterator-style ``fn(items)`` on its own thread, fed through a bounded queue.

    A slow consumer fills its queue and so slows the decode (back-pressure) instead of growing memory.
    Fed by a video and an audio feed at once, it gets frames and sound in decode order in one queue,
    so neither waits on the other. ``finish`` only marks the end: ``join`` waits for the result, so
    every consumer's end-of-stream work runs at once.
    """

    def __init__(self, name: str, fn: Callable[[Iterator[Any]], Any], queue_size: int) -> None:
        self.name = name
        self.fn = fn
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.alive = True
        self.closed = False
        self.result: Any = None
        self.thread = threading.Thread(target=self._run, name=f"vidlens-{name}", daemon=True)

    def _items(self) -> Iterator[FrameSample]:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def _run(self) -> None:
        try:
            self.result = self.fn(self._items())
        except BaseException as exc:  # the consumer's own failure is its result
            self.result = exc
        finally:
            self.alive = False
            try:  # drain, so nothing waits on a queue no one reads
                while True:
                    self.queue.get_nowait()
            except queue.Empty:
                pass

    def push(self, item: Any) -> None:
        while True:
            if not self.alive or self.closed:
                raise ConsumerDone
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        self._close(_END)

    def abort(self, error: BaseException) -> None:
        self._close(_Failed(error))

    def join(self) -> Any:
        """The consumer's result (or the exception it raised), once its thread has ended."""
        self.thread.join()
        return self.result

    def _close(self, marker: Any) -> None:
        if self.closed:  # fed by two feeds: the first end counts
            return
        self.closed = True
        while self.alive:
            try:
                self.queue.put(marker, timeout=0.1)
                return
            except queue.Full:
                continue


class FrameFanout:
    """Decode ``video`` (or ``source``) once; run each subscribed iterator-style consumer on its own thread.

    >>> fan = FrameFanout(video)
    >>> fan.subscribe("shots", Sampling(max_side=64, pix_fmt="yuv"), detect_shots)
    >>> fan.subscribe("speech", None, transcribe, audio=AudioSampling(16000))   # sound only
    >>> results = fan.run()        # {"shots": <return value or the exception it raised>, "speech": ...}
    """

    def __init__(self, video: Video | None, *, queue_size: int = 16, threads: int = 2,
                 on_frame: Callable[[int, float], None] | None = None, source: Source | None = None) -> None:
        if video is None and source is None:
            raise UsageError("FrameFanout needs a probed video or a source")
        self.video = video
        self.source = source
        self.queue_size = queue_size
        self.threads = threads
        self.on_frame = on_frame
        self._subscribed: dict[str, tuple[tuple[Sampling, ...], AudioSampling | None, Callable[[Iterator[Any]], Any]]] = {}
        self._stop = threading.Event()
        self._decoder: Decoder | None = None
        self.frames_decoded = 0

    def open(self) -> Video:
        """Open the source now and describe it: a live source's analyzers need its ``Video`` to subscribe."""
        if self._decoder is None:
            assert self.source is not None or self.video is not None
            source = self.source or Source(self.video.uri)  # type: ignore[union-attr]
            self._decoder = Decoder(source, video=self.video, threads=self.threads, stop=self._stop)
        self.video = self._decoder.open()
        return self.video

    @property
    def names(self) -> list[str]:
        """The subscribed consumers, in order."""
        return list(self._subscribed)

    def subscribe(self, name: str, sampling: Sampling | Sequence[Sampling] | None,
                  fn: Callable[[Iterator[Any]], R], *, audio: AudioSampling | None = None) -> None:
        """Add a consumer. With several samplings, each sample's ``stream`` says which one it serves.

        With ``audio``, ``fn``'s iterator also carries ``AudioChunk``s, in decode order among the frames
        (none when the source has no sound); ``sampling=None`` with ``audio`` subscribes to sound only.
        """
        if name in self._subscribed:
            raise UsageError(f"consumer '{name}' subscribed twice")
        samplings = () if sampling is None else (sampling,) if isinstance(sampling, Sampling) else tuple(sampling)
        if not samplings and audio is None:
            raise UsageError(f"consumer '{name}' asked for neither frames nor sound")
        self._subscribed[name] = (samplings, audio, fn)

    def run(self) -> dict[str, Any]:
        """Decode, feed all consumers, and return each one's result (or the exception it raised).

        A media error in the decoder is re-raised here after every consumer has stopped.
        """
        if not self._subscribed:
            raise UsageError("FrameFanout.run() needs at least one consumer")
        if self._decoder is None:
            self.open()
        dec = self._decoder
        assert dec is not None
        dec.on_frame = self.on_frame
        consumers = [_ThreadedConsumer(name, fn, self.queue_size)
                     for name, (_, _, fn) in self._subscribed.items()]
        for c, (samplings, audio, _) in zip(consumers, self._subscribed.values()):
            if samplings:
                dec.add_video(samplings, c)
            if audio is not None:
                dec.add_audio(audio, c)
            c.thread.start()
        try:
            dec.run()
        except BaseException as exc:
            for c in consumers:  # a source that failed to open never reached them
                c.abort(exc)
                c.join()
            raise
        finally:
            self.frames_decoded = dec.frames_decoded
        return {name: c.join() for name, c in zip(self._subscribed, consumers)}

    def stop(self) -> None:
        """Ask the decoder to stop early (e.g. the job was cancelled, or a live source is to be closed)."""
        self._stop.set()


def run_consumers(video: Video,
                  consumers: Mapping[str, tuple[Sampling | Sequence[Sampling], Callable[[Iterator[FrameSample]], Any]]],
                  **kwargs: Any) -> dict[str, Any]:
    """Functional form of ``FrameFanout``: ``{name: (sampling, fn)}`` → ``{name: result}``."""
    fan = FrameFanout(video, **kwargs)
    for name, (sampling, fn) in consumers.items():
        fan.subscribe(name, sampling, fn)
    return fan.run()
