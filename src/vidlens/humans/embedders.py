"""The two models a digital human is known by: SFace for the face, Resemblyzer for the voice.

One ``Embedders`` is shared by registration and scanning so both embed with the same models and
the same settings. Each embedding is tagged with a model id (the model file's digest), and only
embeddings of one model are ever compared: a user's own model never meets vectors of another.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from vidlens.hashing import sha256_file_cached
from vidlens.humans.settings import HumansSettings
from vidlens.media.audio import iter_audio
from vidlens.models.faces import Face

RATE = 16000
MAX_AUDIO_S = 3 * 3600


@dataclass(frozen=True, slots=True)
class FoundFace:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the searched frame's pixels
    size: float
    score: float
    embedding: np.ndarray  # unit 128-d


class Embedders:
    def __init__(self, settings: HumansSettings) -> None:
        self.settings = settings

    @cached_property
    def faces(self):  # noqa: ANN202 - vidlens.models.faces.FaceModels
        from vidlens.models.faces import FaceModels

        s = self.settings
        return FaceModels(s.detector_model, s.recognizer_model, confidence=0.7).load()

    @cached_property
    def speaker(self):  # noqa: ANN202 - vidlens.models.speaker.SpeakerEncoder
        from vidlens.models.speaker import SpeakerEncoder

        return SpeakerEncoder(self.settings.voice_model).load()

    @cached_property
    def vad(self):  # noqa: ANN202 - vidlens.models.vad.SileroVad
        from vidlens.models.vad import SileroVad

        return SileroVad()

    def vad_stream(self):  # noqa: ANN201 - vidlens.models.vad.SileroVad
        """A VAD with its own stream state (the model session is shared), for one file or live stream."""
        from vidlens.models.vad import SileroVad

        return SileroVad()

    @cached_property
    def face_model_id(self) -> str:
        return "face:" + sha256_file_cached(Path(self.faces.rec_path))[:16]

    @cached_property
    def voice_model_id(self) -> str:
        return "voice:" + sha256_file_cached(Path(self.speaker.path))[:16]

    def find_faces(self, bgr: np.ndarray, min_px: float, detect_side: int | None = None) -> list[FoundFace]:
        """Every face of at least ``min_px`` a side in a BGR frame, largest first, with its embedding."""
        return [self.embed_face(bgr, f) for f in self.detect_faces(bgr, min_px, detect_side)]

    def detect_faces(self, bgr: np.ndarray, min_px: float, detect_side: int | None = None) -> list[Face]:
        """Every face of at least ``min_px`` a side in a BGR frame, largest first, not yet embedded.

        ``detect_side``: look for faces in a copy whose longer side is at most this (a quarter of the
        detector's work at half the size); boxes and landmarks are in the full frame's pixels."""
        found = [f for f in self._detect(bgr, detect_side) if f.size >= min_px]
        found.sort(key=lambda f: -f.size)
        return found

    def embed_face(self, bgr: np.ndarray, face: Face) -> FoundFace:
        """``face`` of ``bgr`` with its SFace embedding, taken from the full frame."""
        return FoundFace(box_of(face), face.size, face.score, self.faces.embed(bgr, face))

    def _detect(self, bgr: np.ndarray, detect_side: int | None) -> list[Face]:
        h, w = bgr.shape[:2]
        if detect_side is None or max(h, w) <= detect_side:
            return self.faces.detect(bgr)
        import cv2

        k = max(h, w) / detect_side
        small = cv2.resize(bgr, (round(w / k), round(h / k)), interpolation=cv2.INTER_AREA)
        out = []
        for f in self.faces.detect(small):
            raw = f.raw.copy()
            raw[:14] *= k  # box and landmarks, back in the full frame's pixels
            out.append(Face(np.minimum(f.xyxy * k, [w, h, w, h]).astype(np.float32), f.landmarks * k, f.score, raw))
        return out

    def audio(self, path: str | Path) -> np.ndarray:
        """The whole first audio track, 16 kHz mono (empty when there is none)."""
        chunks, total = [], 0
        for chunk in iter_audio(path, RATE):
            chunks.append(chunk)
            total += chunk.size
            if total >= MAX_AUDIO_S * RATE:
                break
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)

    def speech_spans(self, wav: np.ndarray) -> list[tuple[float, float]]:
        from vidlens.models.vad import speech_spans

        if wav.size == 0 or float(np.max(np.abs(wav))) < 1e-4:  # digital silence: nothing to ask the VAD
            return []
        return speech_spans(self.vad.probabilities(wav), wav.size / RATE)

    def voice(self, wav: np.ndarray) -> np.ndarray:
        return self.speaker.embed(wav)


def box_of(face: Face) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in face.xyxy)
    return x0, y0, x1, y1


def speech_of(wav: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """The samples inside ``spans``, joined."""
    parts = [wav[int(s * RATE):int(e * RATE)] for s, e in spans]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)
