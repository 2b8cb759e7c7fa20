"""Finding registered digital humans in media: where their face is seen and their voice heard.

Faces: frames are sampled (``scan_fps``), every face of at least ``min_face_px`` is embedded and
compared with every registered face sample; a face whose best similarity to a human passes
``face_threshold`` is a sighting, and sightings of one human less than three sample periods
apart make one moment. A moment needs two sightings unless the media is a still image, so one
look-alike frame is not reported. Voices: the speech (Silero VAD) is cut into windows of
``voice_window_s`` (half overlapping), each embedded and compared with every registered voice;
passing windows of one human that touch make one moment. Each moment carries its best score and
whether the human's consent covers the use and territory the caller states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.humans.embedders import RATE, Embedders
from vidlens.humans.matching import FaceMatcher
from vidlens.humans.registry import Human, HumanRegistry
from vidlens.humans.samples import is_still
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe
from vidlens.types import Video

SCAN_MAX_SIDE = 640
MIN_FACE_HITS = 2
MIN_WINDOW_S = 1.5


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


def moments(hits: list[tuple[float, float, float]], gap: float, min_hits: int) -> list[tuple[float, float, float]]:
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


def face_moments(video: Video, emb: Embedders, matcher: FaceMatcher, fps: float, min_face_px: int,
                 progress: Callable[[float], None] | None = None,
                 detect_side: int | None = None) -> dict[str, list[tuple[float, float, float]]]:
    """``{ref: [(start, end, best score), ...]}``: where each of ``matcher``'s people is seen in ``video``,
    sampled ``fps`` times a second (a still image: once)."""
    still = is_still(video)
    period = 1.0 / fps
    sightings: dict[str, list[tuple[float, float, float]]] = {}
    end_of_media = max(video.duration_s, period)
    for fs in iter_frames(video, Sampling(fps=None if still else fps, max_side=SCAN_MAX_SIDE, pix_fmt="bgr24"),
                          skip_nonref=not still):
        faces = emb.find_faces(fs.image, min_face_px, detect_side)
        if faces:
            best: dict[str, float] = {}
            for hits in matcher.match_many(np.stack([f.embedding for f in faces])):
                for h in hits:
                    best[h.ref] = max(best.get(h.ref, -1.0), h.score)
            for ref, score in best.items():
                sightings.setdefault(ref, []).append((fs.t, min(fs.t + period, end_of_media), score))
        if progress is not None:
            progress(min(1.0, fs.t / end_of_media))
        if still:
            break
    out = {}
    for ref, hits in sightings.items():
        kept = moments(hits, 2 * period + 1e-6, 1 if still else MIN_FACE_HITS)
        if kept:
            out[ref] = kept
    return out


class Scanner:
    def __init__(self, registry: HumanRegistry) -> None:
        self.registry = registry
        self.settings = registry.settings
        self.emb = registry.embedders

    def scan(self, path: str | Path, *, use: str | None = None, territory: str | None = None,
             progress: Callable[[float], None] | None = None) -> list[Match]:
        """Every moment a registered human is seen or heard in ``path``, in time order."""
        video = probe(path, require_video=False)
        found: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        if video.width and len(self.registry.index("face")):
            self._faces(video, found, progress)
        if video.has_audio and len(self.registry.index("voice")):
            self._voices(video.uri, found)
        people: dict[str, Human] = {}
        out: list[Match] = []
        for (human_id, kind), hits in found.items():
            human = people.get(human_id) or people.setdefault(human_id, self.registry.get(human_id))
            for s, e, score in hits:
                out.append(Match(human, kind, s, e, score, human.authorised(use, territory)))
        return sorted(out, key=lambda m: (m.start, m.kind, m.human.id))

    def _faces(self, video: Any, found: dict[tuple[str, str], list[tuple[float, float, float]]],
               progress: Callable[[float], None] | None) -> None:
        s = self.settings
        for human, kept in face_moments(video, self.emb, self.registry.face_matcher(), s.scan_fps, s.min_face_px,
                                        progress, s.detect_side).items():
            found[(human, "face")] = kept

    def _voices(self, uri: str, found: dict[tuple[str, str], list[tuple[float, float, float]]]) -> None:
        index = self.registry.index("voice")
        wav = self.emb.audio(uri)
        win = self.settings.voice_window_s
        windows: list[tuple[float, float]] = []
        for s, e in self.emb.speech_spans(wav):
            if e - s < MIN_WINDOW_S:
                continue
            t = s
            while True:
                windows.append((t, min(t + win, e)))
                if t + win >= e:
                    break
                t = min(t + win / 2, e - MIN_WINDOW_S)
        if not windows:
            return
        vectors = np.stack([self.emb.voice(wav[int(a * RATE):int(b * RATE)]) for a, b in windows])
        heard: dict[str, list[tuple[float, float, float]]] = {}
        for (a, b), hits in zip(windows, index.query_many(vectors, 1.0 - self.settings.voice_threshold),
                                strict=True):
            best: dict[str, float] = {}
            for h in hits:
                best[str(h.payload["human"])] = max(best.get(str(h.payload["human"]), -1.0), h.score)
            for human, score in best.items():
                heard.setdefault(human, []).append((a, b, score))
        for human, hits in heard.items():
            found[(human, "voice")] = moments(hits, 0.0, 1)
