"""Finding registered digital humans in media: where their face is seen and their voice heard.

One decode reads the file (``vidlens.media.decode``; frames nothing refers to are skipped, and so is
the deblocking filter unless ``skip_deblocking`` is off): the picture goes to the faces, the sound, at
the speaker model's 16 kHz, to the voices. Faces: frames are sampled (``scan_fps``), every face of at
least ``min_face_px`` is compared with every registered face sample (a face that stays on screen is
embedded once every ``face_reembed_s``: ``vidlens.humans.face_tracks``); a face whose best
similarity to a human passes ``face_threshold`` is a sighting, and sightings of one human less than
three sample periods apart make one moment. A moment needs two sightings unless the media is a still
image, so one look-alike frame is not reported. Voices: Silero VAD runs on the sound as it is decoded;
each utterance (a speech span) is embedded once as Resemblyzer's 1.6 s partials, and each window of
``voice_window_s`` (half overlapping) is the mean of the partials inside it, compared with every
registered voice; passing windows of one human that touch make one moment. Silence is never embedded.
Each moment carries its best score and whether the human's consent covers the use and territory the
caller states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidlens.humans.embedders import RATE, Embedders
from vidlens.humans.face_tracks import FaceTracks
from vidlens.humans.matching import FaceMatcher
from vidlens.humans.registry import Human, HumanRegistry
from vidlens.humans.samples import is_still
from vidlens.media.decode import AudioChunk, AudioSampling, ConsumerDone, Decoder, Sampling
from vidlens.media.probe import probe
from vidlens.media.source import Source
from vidlens.types import FrameSample, Video

if TYPE_CHECKING:
    from vidlens.models.vad import SileroVad
    from vidlens.vectors import VectorIndex

SCAN_MAX_SIDE = 640
MIN_FACE_HITS = 2
MIN_WINDOW_S = 1.5
MAX_AUDIO_S = 3 * 3600
Moments = list[tuple[float, float, float]]


@dataclass(frozen=True, slots=True)
class Match:
    human: Human
    kind: str  # face | voice
    start: float
    end: float
    score: float
    authorised: bool

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form: ``human`` is the human's id."""
        return {"human": self.human.id, "kind": self.kind, "start": round(self.start, 3), "end": round(self.end, 3),
                "score": round(self.score, 4), "authorised": self.authorised}


def moments(hits: Moments, gap: float, min_hits: int) -> Moments:
    """Join ``(start, end, score)`` hits less than ``gap`` apart into ``(start, end, best score)``."""
    out: list[list[float]] = []
    counts: list[int] = []
    for s, e, score in sorted(hits):
        if out and s - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], e)
            out[-1][2] = max(out[-1][2], score)
            counts[-1] += 1
        else:
            out.append([s, e, score])
            counts.append(1)
    return [(s, e, sc) for (s, e, sc), n in zip(out, counts, strict=True) if n >= min_hits]


class FaceSightings:
    """A decode consumer: the faces of each sampled frame matched against ``matcher``'s people;
    ``finish()`` gives ``{ref: [(start, end, best score), ...]}``."""

    def __init__(self, video: Video, emb: Embedders, matcher: FaceMatcher, fps: float, min_face_px: int,
                 progress: Callable[[float], None] | None = None, detect_side: int | None = None,
                 reembed_s: float = 0.0) -> None:
        self.still = is_still(video)
        self.matcher, self.min_face_px, self.detect_side = matcher, min_face_px, detect_side
        self.tracks = FaceTracks(emb, reembed_s)
        self.period = 1.0 / fps
        self.sampling = Sampling(fps=None if self.still else fps, max_side=SCAN_MAX_SIDE, pix_fmt="bgr24")
        self.end_of_media = max(video.duration_s, self.period)
        self.progress = progress
        self.sightings: dict[str, Moments] = {}

    def push(self, fs: FrameSample) -> None:
        faces = self.tracks.find(fs.image, fs.t, self.min_face_px, self.detect_side)
        if faces:
            best: dict[str, float] = {}
            for hits in self.matcher.match_many(np.stack([f.embedding for f in faces])):
                for h in hits:
                    best[h.ref] = max(best.get(h.ref, -1.0), h.score)
            for ref, score in best.items():
                self.sightings.setdefault(ref, []).append((fs.t, min(fs.t + self.period, self.end_of_media), score))
        if self.progress is not None:
            self.progress(min(1.0, fs.t / self.end_of_media))
        if self.still:
            raise ConsumerDone

    def finish(self) -> dict[str, Moments]:
        out = {}
        for ref, hits in self.sightings.items():
            kept = moments(hits, 2 * self.period + 1e-6, 1 if self.still else MIN_FACE_HITS)
            if kept:
                out[ref] = kept
        return out


class Speech:
    """A decode consumer: the sound at 16 kHz with Silero's speech probabilities, computed as it comes;
    ``finish()`` gives ``(samples, speech spans)``."""

    def __init__(self, vad: SileroVad) -> None:
        self.vad = vad
        vad.reset()
        self.parts: list[np.ndarray] = []
        self.probs: list[np.ndarray] = []
        self.size = 0

    def push(self, chunk: AudioChunk) -> None:
        self.parts.append(chunk.samples)
        self.probs.append(self.vad.feed(chunk.samples))
        self.size += chunk.samples.size
        if self.size >= MAX_AUDIO_S * RATE:
            raise ConsumerDone

    def finish(self) -> tuple[np.ndarray, list[tuple[float, float]]]:
        from vidlens.models.vad import speech_spans

        wav = np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)
        if wav.size == 0 or float(np.max(np.abs(wav))) < 1e-4:  # digital silence: no speech
            return wav, []
        probs = np.concatenate([*self.probs, self.vad.finish()])
        return wav, speech_spans(probs, wav.size / RATE)


def _raise_failed(result: Any) -> Any:  # noqa: ANN401 - a consumer's result
    if isinstance(result, BaseException):
        raise result
    return result


def face_moments(video: Video, emb: Embedders, matcher: FaceMatcher, fps: float, min_face_px: int,
                 progress: Callable[[float], None] | None = None, detect_side: int | None = None,
                 reembed_s: float = 0.0, skip_deblocking: bool = False) -> dict[str, Moments]:
    """``{ref: [(start, end, best score), ...]}``: where each of ``matcher``'s people is seen in ``video``,
    sampled ``fps`` times a second (a still image: once)."""
    faces = FaceSightings(video, emb, matcher, fps, min_face_px, progress, detect_side, reembed_s)
    dec = Decoder(Source(video.uri), video=video, skip_nonref=not faces.still,
                  skip_loop_filter=skip_deblocking and not faces.still)
    dec.add_video(faces.sampling, faces)
    return _raise_failed(dec.run()[0])  # type: ignore[no-any-return]


def voice_windows(spans: list[tuple[float, float]], win: float) -> list[list[tuple[float, float]]]:
    """Per speech span, its windows of ``win`` seconds, half overlapping (spans under ``MIN_WINDOW_S``: none)."""
    out = []
    for s, e in spans:
        windows: list[tuple[float, float]] = []
        if e - s >= MIN_WINDOW_S:
            t = s
            while True:
                windows.append((t, min(t + win, e)))
                if t + win >= e:
                    break
                t = min(t + win / 2, e - MIN_WINDOW_S)
        out.append(windows)
    return out


def window_vectors(emb: Embedders, wav: np.ndarray, spans: list[tuple[float, float]],
                   win: float) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Every window and its speaker embedding: each span embedded once (its partials), each window the mean
    of the partials whose middle lies in it."""
    from vidlens.models.speaker import HOP, PARTIAL_FRAMES, mean_unit

    half = PARTIAL_FRAMES * HOP / RATE / 2
    windows, vectors = [], []
    for (s, e), span_windows in zip(spans, voice_windows(spans, win), strict=True):
        if not span_windows:
            continue
        starts, partials = emb.speaker.partials(wav[int(s * RATE):int(e * RATE)])
        middles = s + starts + half
        for a, b in span_windows:
            inside = (middles >= a - 1e-6) & (middles <= b + 1e-6)
            if not inside.any():  # a window shorter than one partial: the partial nearest its middle
                inside = np.abs(middles - (a + b) / 2) == np.min(np.abs(middles - (a + b) / 2))
            windows.append((a, b))
            vectors.append(mean_unit(partials[inside]))
    return windows, (np.stack(vectors) if vectors else np.zeros((0, 256), np.float32))


def voice_moments(index: VectorIndex, threshold: float, windows: list[tuple[float, float]],
                  vectors: np.ndarray) -> dict[str, Moments]:
    """``{human: [(start, end, best score), ...]}``: passing windows of one human that touch, joined."""
    heard: dict[str, Moments] = {}
    if not windows:
        return heard
    for (a, b), hits in zip(windows, index.query_many(vectors, 1.0 - threshold), strict=True):
        best: dict[str, float] = {}
        for h in hits:
            best[str(h.payload["human"])] = max(best.get(str(h.payload["human"]), -1.0), h.score)
        for human, score in best.items():
            heard.setdefault(human, []).append((a, b, score))
    return {human: moments(hits, 0.0, 1) for human, hits in heard.items()}


class Scanner:
    def __init__(self, registry: HumanRegistry) -> None:
        self.registry = registry
        self.settings = registry.settings
        self.emb = registry.embedders

    def scan(self, path: str | Path, *, use: str | None = None, territory: str | None = None,
             progress: Callable[[float], None] | None = None) -> list[Match]:
        """Every moment a registered human is seen or heard in ``path``, in time order."""
        video = probe(path, require_video=False)
        s = self.settings
        faces = (FaceSightings(video, self.emb, self.registry.face_matcher(), s.scan_fps, s.min_face_px, progress,
                               s.detect_side, s.face_reembed_s)
                 if video.width and len(self.registry.index("face")) else None)
        voices = self.registry.index("voice") if video.has_audio else None
        speech = Speech(self.emb.vad_stream()) if voices is not None and len(voices) else None
        found: dict[tuple[str, str], Moments] = {}
        if faces is not None or speech is not None:
            sparse = faces is not None and not faces.still
            dec = Decoder(Source(video.uri), video=video, skip_nonref=sparse,
                          skip_loop_filter=sparse and s.skip_deblocking)
            if faces is not None:
                dec.add_video(faces.sampling, faces)
            if speech is not None:
                dec.add_audio(AudioSampling(RATE), speech)
            results = iter(dec.run())
            if faces is not None:
                for human, kept in _raise_failed(next(results)).items():
                    found[(human, "face")] = kept
            if speech is not None:
                assert voices is not None
                wav, spans = _raise_failed(next(results))
                windows, vectors = window_vectors(self.emb, wav, spans, s.voice_window_s)
                for human, kept in voice_moments(voices, s.voice_threshold, windows, vectors).items():
                    found[(human, "voice")] = kept
        people: dict[str, Human] = {}
        out: list[Match] = []
        for (human_id, kind), hits in found.items():
            human = people.get(human_id) or people.setdefault(human_id, self.registry.get(human_id))
            for start, end, score in hits:
                out.append(Match(human, kind, start, end, score, human.authorised(use, territory)))
        return sorted(out, key=lambda m: (m.start, m.kind, m.human.id))
