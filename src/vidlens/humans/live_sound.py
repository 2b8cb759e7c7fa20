"""Live sound matching: a stream's sound against registered works' audio fingerprints and registered voices.

Two consumers of the decoded sound (the decode layer's ``AudioChunk``s, pushed as the stream plays):

- ``SoundCopies`` takes the sound at the audio fingerprint's 8 kHz; every ``hop_s`` of stream time it
  fingerprints the last ``window_s`` (protect's audio fingerprinter, the same landmarks as a file) and
  asks protect's ``Matcher``, so a copy whose picture was changed is still found by its sound.
- ``LiveVoices`` takes 16 kHz; Silero VAD runs on each chunk with its state carried across chunks, and
  while someone speaks, every ``hop_s`` of new speech the last ``window_s`` of it is embedded (the
  scan's speaker encoder) and compared with the registered voices. A human is reported after
  ``MIN_VOICE_HITS`` passing windows within ``HIT_GAP_S``: one window's false-accept rate (docs/humans.md)
  is too high to alert on.

Both report through ``alert(kind, ref, stream_t, score, arrived, by)``: ``arrived`` is the wall
(monotonic) time the chunk holding ``stream_t`` was pushed, so a latency is measured from the sound's
arrival.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from vidlens.media.decode import AudioChunk

if TYPE_CHECKING:
    from vidlens.humans.embedders import Embedders
    from vidlens.protect.matcher import Matcher
    from vidlens.vectors import VectorIndex

Alert = Callable[[str, str, float, float, float, str], None]  # kind, ref, stream_t, score, arrived, by
VAD_ON, VAD_OFF = 0.5, 0.35  # Silero's hysteresis, as vidlens.models.vad.speech_spans
END_OF_SPEECH_S = 0.5
MIN_SPEECH_S = 1.5
MIN_VOICE_HITS = 2
HIT_GAP_S = 6.0


class _Arrivals:
    """When each stretch of the stream arrived: the wall time of the chunk holding a stream time."""

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self.items: deque[tuple[float, float]] = deque()  # (stream start of a chunk, wall time it arrived)

    def add(self, start_s: float, arrived: float) -> None:
        self.items.append((start_s, arrived))
        while len(self.items) > 1 and self.items[1][0] < start_s - self.keep_s:
            self.items.popleft()

    def at(self, t: float) -> float:
        found = self.items[0][1]
        for start, arrived in self.items:
            if start > t + 1e-6:
                break
            found = arrived
        return found


class SoundCopies:
    """Registered works heard in the stream (audio fingerprints), checked every ``hop_s``."""

    def __init__(self, works: Matcher, alert: Alert, *, window_s: float = 6.0, hop_s: float = 1.0) -> None:
        from vidlens.protect.audio import SAMPLE_RATE
        from vidlens.protect.fingerprint import fingerprinter

        self.works, self.alert = works, alert
        self.rate = SAMPLE_RATE
        self.window_s, self.hop_s = window_s, hop_s
        self.audio = fingerprinter("audio")
        self.buf = np.zeros(0, np.float32)
        self.buf_start = 0.0
        self.last_match = -1e9
        self.arrivals = _Arrivals(window_s + 1.0)

    def push(self, chunk: AudioChunk) -> None:
        self.arrivals.add(chunk.start_s, time.monotonic())
        if not self.buf.size:
            self.buf_start = chunk.start_s
        self.buf = np.concatenate([self.buf, chunk.samples])
        extra = self.buf.size - int(self.window_s * self.rate)
        if extra > 0:
            self.buf, self.buf_start = self.buf[extra:], self.buf_start + extra / self.rate
        now = self.buf_start + self.buf.size / self.rate
        if now - self.last_match >= self.hop_s and self.buf.size >= 2 * self.rate:
            self.last_match = now
            fp = self.audio.from_samples(self.buf, self.buf.size / self.rate)  # type: ignore[attr-defined]
            for m in self.works.match_fingerprints({"audio": fp}):
                begin = self.buf_start + m.segment.query_start_s
                self.alert("work", m.work.id, begin, m.segment.score, self.arrivals.at(begin), "sound")

    def finish(self) -> None:
        return None


class LiveVoices:
    """Registered humans heard in the stream: voiced stretches embedded as they come."""

    def __init__(self, emb: Embedders, voices: VectorIndex, threshold: float, alert: Alert, *,
                 window_s: float = 3.0, hop_s: float = 1.5) -> None:
        from vidlens.models.vad import RATE, WINDOW

        self.emb, self.voices, self.threshold, self.alert = emb, voices, threshold, alert
        self.rate, self.step = RATE, WINDOW
        self.window_s, self.hop_s = window_s, hop_s
        self.vad = emb.vad_stream()
        self.raw = np.zeros(0, np.float32)  # samples the VAD has not scored yet
        self.raw_start = 0.0
        self.started = False
        self.speech: list[np.ndarray] = []  # the current utterance's last window_s, 32 ms pieces
        self.silent_s = 0.0
        self.new_s = 0.0
        self.hits: dict[str, list[tuple[float, float, float]]] = {}  # human -> (stream_t, arrived, score)
        self.arrivals = _Arrivals(window_s + 30.0)

    def push(self, chunk: AudioChunk) -> None:
        self.arrivals.add(chunk.start_s, time.monotonic())
        if not self.started:
            self.started, self.raw_start = True, chunk.start_s
        self.raw = np.concatenate([self.raw, chunk.samples])
        probs = self.vad.feed(chunk.samples)
        piece_s = self.step / self.rate
        for i, p in enumerate(probs):
            piece = self.raw[i * self.step:(i + 1) * self.step]
            t = self.raw_start + i * piece_s
            self._take(piece, t, float(p), piece_s)
        used = probs.size * self.step
        self.raw, self.raw_start = self.raw[used:], self.raw_start + used / self.rate

    def _take(self, piece: np.ndarray, t: float, p: float, piece_s: float) -> None:
        speaking = bool(self.speech)
        if not speaking and p < VAD_ON:
            return
        if not speaking:
            self.silent_s, self.new_s = 0.0, 0.0
        keep = round(self.window_s / piece_s)
        self.speech = [*self.speech[-(keep - 1):], piece]  # the utterance's last window_s
        self.silent_s = self.silent_s + piece_s if p < VAD_OFF else 0.0
        self.new_s += piece_s
        if self.silent_s >= END_OF_SPEECH_S:  # the utterance ended
            self.speech = []
            return
        have_s = len(self.speech) * piece_s
        if have_s >= MIN_SPEECH_S and self.new_s >= self.hop_s:
            self.new_s = 0.0
            self._match(np.concatenate(self.speech), t + piece_s - have_s)

    def _match(self, wav: np.ndarray, start: float) -> None:
        if not len(self.voices):
            return
        vector = self.emb.voice(wav)
        best: dict[str, float] = {}
        for h in self.voices.query_many(vector[None, :], 1.0 - self.threshold)[0]:
            human = str(h.payload["human"])
            best[human] = max(best.get(human, -1.0), float(h.score))
        arrived = self.arrivals.at(start)
        for human, score in best.items():
            recent = [x for x in self.hits.get(human, []) if start - x[0] <= HIT_GAP_S]
            self.hits[human] = recent + [(start, arrived, score)]
            if len(self.hits[human]) >= MIN_VOICE_HITS:
                first_t, first_arrived, _ = self.hits[human][0]
                self.alert("human", human, first_t, max(s for *_, s in self.hits[human]), first_arrived, "voice")

    def finish(self) -> None:
        return None
