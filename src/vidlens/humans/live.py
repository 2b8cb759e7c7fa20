"""Live-stream matching: registered works and digital humans found in a stream while it plays.

``LiveMatcher.run(url)`` reads any stream PyAV opens (``rtmp://0.0.0.0:1935/live/key`` with the
``listen`` option waits for a publisher such as ``ffmpeg -re ... -f flv rtmp://...``; ``rtsp://``;
``srt://``). Every ``hop_s`` of stream time it fingerprints the last ``window_s`` of picture (protect's
visual fingerprinter, the same codes as a file) and asks protect's ``Matcher``; once a second it looks
for faces and asks the registered faces' ``FaceMatcher``. The sound, when the stream has one, goes to
``vidlens.humans.live_sound``: registered works' audio fingerprints (``works``) and registered voices
(``voices``). Each work or human is alerted once, by whichever of picture, sound, face or voice finds it
first (``by``), through ``on_alert``: delivering alerts (MQTT, webhooks) is the Watch capability's
(``vidlens humans live``). ``latency_s`` of an alert is the wall time from the arrival of the first frame
(or sound) of the matched stretch to the alert.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from vidlens.media.decode import AudioChunk
from vidlens.types import FrameSample

if TYPE_CHECKING:
    from vidlens.humans.embedders import Embedders
    from vidlens.humans.matching import FaceMatcher
    from vidlens.protect.matcher import Matcher
    from vidlens.vectors import VectorIndex

FACE_EVERY_S = 1.0
FACE_SIDE = 640
MIN_FACE_HITS = 2
SOUND_CHUNK_S = 0.25


@dataclass(frozen=True, slots=True)
class LiveAlert:
    kind: str  # work | human
    ref: str  # work or human id
    stream_t: float  # seconds into the stream where the matched stretch starts
    score: float
    latency_s: float
    by: str = "picture"  # picture | sound (a work); face | voice (a human)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "by": self.by, "stream_t": round(self.stream_t, 3),
                "score": round(self.score, 4), "latency_s": round(self.latency_s, 3)}


class _SoundFeed:
    """Hands the stream's audio frames to the sound consumers as ``AudioChunk``s at each one's rate
    (mono, ``SOUND_CHUNK_S`` each; times on the stream's clock from its first audio frame)."""

    def __init__(self, consumers: list[tuple[int, Any]]) -> None:
        import av

        self.consumers = consumers
        self.resamplers = {rate: av.AudioResampler(format="flt", layout="mono", rate=rate) for rate, _ in consumers}
        self.pending: dict[int, list[np.ndarray]] = {rate: [] for rate, _ in consumers}
        self.emitted: dict[int, int] = dict.fromkeys(self.resamplers, 0)
        self.t0: float | None = None

    def push(self, frame: Any) -> None:  # noqa: ANN401 - av.AudioFrame
        if self.t0 is None:
            self.t0 = float(frame.time or 0.0)
        for rate, resampler in self.resamplers.items():
            self.pending[rate].extend(o.to_ndarray().reshape(-1) for o in resampler.resample(frame))
            buf = np.concatenate(self.pending[rate]) if self.pending[rate] else np.zeros(0, np.float32)
            size = int(rate * SOUND_CHUNK_S)
            whole = buf.size // size * size
            self.pending[rate] = [buf[whole:]]
            for i in range(0, whole, size):
                chunk = AudioChunk(np.ascontiguousarray(buf[i:i + size]), rate,
                                   self.t0 + self.emitted[rate] / rate)
                self.emitted[rate] += size
                for r, consumer in self.consumers:
                    if r == rate:
                        consumer.push(chunk)


def _frames(container: Any, sound: _SoundFeed | None = None) -> Iterator[Any]:
    """The stream's video frames (its audio frames go to ``sound``); a publisher hanging up ends the stream
    (libavformat reports it as an I/O error), a stream that never gave a frame is an error."""
    import av

    from vidlens.errors import MediaError

    if not container.streams.video:
        raise MediaError("the live stream has no video")
    video = container.streams.video[0]
    audio = container.streams.audio[0] if sound is not None and container.streams.audio else None
    seen = False
    try:
        for packet in container.demux(*(s for s in (video, audio) if s is not None)):
            if packet.stream is audio:
                try:
                    for frame in packet.decode():
                        sound.push(frame)  # type: ignore[union-attr]
                except av.error.InvalidDataError:
                    continue  # one damaged audio packet: the picture goes on
                continue
            for frame in packet.decode():
                seen = True
                yield frame
    except OSError as exc:  # EIO, EPIPE, ECONNRESET: libavformat's ways of saying the publisher left
        if not seen:
            raise MediaError(f"the live stream gave no picture: {exc.strerror or exc}") from None


class LiveMatcher:
    def __init__(self, on_alert: Callable[[LiveAlert], None], *, works: Matcher | None = None,
                 faces: FaceMatcher | None = None, voices: VectorIndex | None = None,
                 embedders: Embedders | None = None, window_s: float = 6.0, hop_s: float = 1.0) -> None:
        if (faces is not None or voices is not None) and embedders is None:
            raise ValueError("face and voice matching need the embedders that made the registered samples")
        self.on_alert = on_alert
        self.works, self.faces, self.voices, self.emb = works, faces, voices, embedders
        self.window_s, self.hop_s = window_s, hop_s
        self._alerted: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _alert(self, kind: str, ref: str, stream_t: float, score: float, arrived: float, by: str) -> None:
        """Report ``ref`` once, whichever of picture, sound, face or voice found it first."""
        with self._lock:
            if (kind, ref) in self._alerted:
                return
            self._alerted.add((kind, ref))
        self.on_alert(LiveAlert(kind, ref, stream_t, score, time.monotonic() - arrived, by))

    def _sound(self) -> _SoundFeed | None:
        """The consumers of the stream's sound: works' audio fingerprints, registered voices."""
        from vidlens.humans.live_sound import LiveVoices, SoundCopies

        consumers: list[tuple[int, Any]] = []
        if self.works is not None and len(self.works.indexes["audio"].get()):  # built now, not mid-stream
            copies = SoundCopies(self.works, self._alert, window_s=self.window_s, hop_s=self.hop_s)
            consumers.append((copies.rate, copies))
        if self.voices is not None and len(self.voices):
            assert self.emb is not None
            voices = LiveVoices(self.emb, self.voices, self.emb.settings.voice_threshold, self._alert,
                                window_s=self.emb.settings.voice_window_s)
            consumers.append((voices.rate, voices))
        return _SoundFeed(consumers) if consumers else None

    def run(self, url: str, *, options: Mapping[str, str] | None = None, stop: threading.Event | None = None,
            open_timeout_s: float = 60.0) -> None:
        """Match until the stream ends or ``stop`` is set."""
        import av
        import cv2

        from vidlens.protect.fingerprint import fingerprinter

        visual = fingerprinter("visual")
        sampling = visual.sampling()  # type: ignore[attr-defined]
        period = 1.0 / float(sampling.fps)
        window: deque[tuple[FrameSample, float]] = deque()
        last_sample = last_match = last_face = -1e9
        face_hits: dict[str, list[tuple[float, float, float]]] = {}
        sound = self._sound()
        with av.open(url, options=dict(options or {}), timeout=(open_timeout_s, 30.0)) as container:
            for index, frame in enumerate(_frames(container, sound)):
                arrived = time.monotonic()
                if stop is not None and stop.is_set():
                    return
                t = float(frame.time or 0.0)
                if t - last_sample >= period - 1e-6:
                    last_sample = t
                    gray = frame.to_ndarray(format="gray")
                    k = max(gray.shape) / sampling.max_side
                    if k > 1:
                        gray = cv2.resize(gray, (round(gray.shape[1] / k), round(gray.shape[0] / k)),
                                          interpolation=cv2.INTER_AREA)
                    window.append((FrameSample("live", index, round(t * 1000), Fraction(1, 1000), gray, "gray"),
                                   arrived))
                    while window and window[0][0].t < t - self.window_s:
                        window.popleft()
                if self.works is not None and t - last_match >= self.hop_s and len(window) > 2:
                    last_match = t
                    self._match_works(visual, list(window))
                if self.faces is not None and t - last_face >= FACE_EVERY_S:
                    last_face = t
                    self._match_faces(frame.to_ndarray(format="bgr24"), t, arrived, face_hits)

    def _match_works(self, visual: Any, window: list[tuple[FrameSample, float]]) -> None:
        start = window[0][0].t
        fp = visual.from_frames((s for s, _ in window), window[-1][0].t - start)
        assert self.works is not None
        for m in self.works.match_fingerprints({"visual": fp}):
            begin = start + m.segment.query_start_s
            arrived = next(a for s, a in window if s.t >= begin - 1e-6)
            self._alert("work", m.work.id, begin, m.segment.score, arrived, "picture")

    def _match_faces(self, bgr: np.ndarray, t: float, arrived: float,
                     hits: dict[str, list[tuple[float, float, float]]]) -> None:
        assert self.faces is not None and self.emb is not None
        h, w = bgr.shape[:2]
        if max(h, w) > FACE_SIDE:
            import cv2

            k = max(h, w) / FACE_SIDE
            bgr = cv2.resize(bgr, (round(w / k), round(h / k)), interpolation=cv2.INTER_AREA)
        found = self.emb.find_faces(bgr, self.emb.settings.min_face_px, self.emb.settings.detect_side)
        seen = {hit.ref: hit.score for f, row in zip(found, self.faces.match_many(
            np.stack([f.embedding for f in found])) if found else [], strict=False) for hit in row[:1]}
        for ref, score in seen.items():
            recent = [x for x in hits.get(ref, []) if t - x[0] <= 3 * FACE_EVERY_S]
            hits[ref] = recent + [(t, arrived, score)]
            if len(hits[ref]) >= MIN_FACE_HITS:
                first_t, first_arrived, _ = hits[ref][0]
                self._alert("human", ref, first_t, max(s for *_, s in hits[ref]), first_arrived, "face")
