"""Live-stream matching: registered works and digital humans found in a stream while it plays.

``LiveMatcher.run(url)`` reads any live source of the decode layer (``vidlens.media``:
``rtmp://0.0.0.0:1935/live/key`` with the ``listen`` option waits for a publisher such as
``ffmpeg -re ... -f flv rtmp://...``; ``rtsp://``; ``srt://``), through one ``Decoder`` that samples the
picture for both matchers. Every ``hop_s`` of stream time it fingerprints the last ``window_s`` of picture (protect's
visual fingerprinter, the same codes as a file) and asks protect's ``Matcher``; once a second it looks
for faces (a face that stays on screen embedded once every ``face_reembed_s``: ``vidlens.humans.face_tracks``)
and asks the registered faces' ``FaceMatcher``. The sound, when the stream has one, goes to
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from vidlens.humans.face_tracks import FaceTracks
from vidlens.types import FrameSample

if TYPE_CHECKING:
    from vidlens.humans.embedders import Embedders
    from vidlens.humans.matching import FaceMatcher
    from vidlens.media.decode import Decoder
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
        self._base_t = 0.0  # stream time at the start of this connection

    def _alert(self, kind: str, ref: str, stream_t: float, score: float, arrived: float, by: str) -> None:
        """Report ``ref`` once, whichever of picture, sound, face or voice found it first."""
        with self._lock:
            if (kind, ref) in self._alerted:
                return
            self._alerted.add((kind, ref))
        self.on_alert(LiveAlert(kind, ref, self._base_t + stream_t, score, time.monotonic() - arrived, by))

    def _add_sound(self, dec: Decoder) -> None:
        """Hand the stream's sound to its consumers: works' audio fingerprints, registered voices."""
        from vidlens.humans.live_sound import LiveVoices, SoundCopies
        from vidlens.media.decode import AudioSampling

        if self.works is not None and len(self.works.indexes["audio"].get()):  # built now, not mid-stream
            copies = SoundCopies(self.works, self._alert, window_s=self.window_s, hop_s=self.hop_s)
            dec.add_audio(AudioSampling(rate=copies.rate, chunk_s=SOUND_CHUNK_S), copies)
        if self.voices is not None and len(self.voices):
            assert self.emb is not None
            voices = LiveVoices(self.emb, self.voices, self.emb.settings.voice_threshold, self._alert,
                                window_s=self.emb.settings.voice_window_s)
            dec.add_audio(AudioSampling(rate=voices.rate, chunk_s=SOUND_CHUNK_S), voices)

    def run(self, url: str, *, options: Mapping[str, str] | None = None, stop: threading.Event | None = None,
            open_timeout_s: float = 60.0, base_t: float = 0.0) -> str | None:
        """Match until the stream ends or ``stop`` is set; the reason it ended, if the source gave one.

        A publisher hanging up ends the run; a stream that never gave a picture raises ``MediaError``.
        Reconnecting is the caller's (``vidlens.cli.live_service``): each connection's times start at
        ``base_t``, and a work or human alerted on an earlier connection is not alerted again.
        """
        from vidlens.errors import MediaError, SourceError
        from vidlens.media.decode import Collector, Decoder, Sampling, pull
        from vidlens.media.source import open_source
        from vidlens.protect.fingerprint import fingerprinter

        self._base_t = base_t
        visual = fingerprinter("visual")
        sampling = visual.sampling()  # type: ignore[attr-defined]
        dec = Decoder(open_source(url, timeout_s=30.0, open_timeout_s=open_timeout_s, options=dict(options or {})),
                      threads=1)
        got = Collector()  # stream 0: the fingerprint's small gray frames; stream 1: a picture a second for faces
        faces = (Sampling(fps=1.0 / FACE_EVERY_S, max_side=FACE_SIDE, pix_fmt="bgr24"),) if self.faces else ()
        dec.add_video((sampling, *faces), got)
        window: deque[tuple[FrameSample, float]] = deque()
        last_match = -1e9
        face_hits: dict[str, list[tuple[float, float, float]]] = {}
        tracks = FaceTracks(self.emb, self.emb.settings.face_reembed_s) if self.faces and self.emb else None
        self._add_sound(dec)
        dec.open()  # a source that cannot be opened raises its SourceError from here
        seen = False
        samples = pull(dec, got)
        try:
            for s in samples:
                seen = True
                # the monotonic moment its packet arrived (the decode queue sits in between)
                arrived = time.monotonic() - max(0.0, time.time() - (s.received or time.time()))
                if stop is not None and stop.is_set():
                    return None
                t = s.t
                if s.stream == 1:
                    assert tracks is not None
                    self._match_faces(s.image, t, arrived, face_hits, tracks)
                    continue
                window.append((FrameSample("live", s.index, round(t * 1000), Fraction(1, 1000), s.image, "gray"),
                               arrived))
                while window and window[0][0].t < t - self.window_s:
                    window.popleft()
                if self.works is not None and t - last_match >= self.hop_s and len(window) > 2:
                    last_match = t
                    self._match_works(visual, list(window))
        except SourceError as exc:  # the publisher left (or the stream stalled): the stream has ended
            if not seen:
                raise MediaError(f"the live stream gave no picture: {exc.message}") from None
            return exc.message
        finally:
            samples.close()
        return None

    def _match_works(self, visual: Any, window: list[tuple[FrameSample, float]]) -> None:
        start = window[0][0].t
        fp = visual.from_frames((s for s, _ in window), window[-1][0].t - start)
        assert self.works is not None
        for m in self.works.match_fingerprints({"visual": fp}):
            begin = start + m.segment.query_start_s
            arrived = next(a for s, a in window if s.t >= begin - 1e-6)
            self._alert("work", m.work.id, begin, m.segment.score, arrived, "picture")

    def _match_faces(self, bgr: np.ndarray, t: float, arrived: float,
                     hits: dict[str, list[tuple[float, float, float]]], tracks: FaceTracks) -> None:
        assert self.faces is not None and self.emb is not None
        h, w = bgr.shape[:2]
        if max(h, w) > FACE_SIDE:
            import cv2

            k = max(h, w) / FACE_SIDE
            bgr = cv2.resize(bgr, (round(w / k), round(h / k)), interpolation=cv2.INTER_AREA)
        found = tracks.find(bgr, t, self.emb.settings.min_face_px, self.emb.settings.detect_side)
        seen = {hit.ref: hit.score for f, row in zip(found, self.faces.match_many(
            np.stack([f.embedding for f in found])) if found else [], strict=False) for hit in row[:1]}
        for ref, score in seen.items():
            recent = [x for x in hits.get(ref, []) if t - x[0] <= 3 * FACE_EVERY_S]
            hits[ref] = recent + [(t, arrived, score)]
            if len(hits[ref]) >= MIN_FACE_HITS:
                first_t, first_arrived, _ = hits[ref][0]
                self._alert("human", ref, first_t, max(s for *_, s in hits[ref]), first_arrived, "face")
