"""Face-swap and synthetic-speech cues: evidence for the Art. 6 triage, never a verdict on their own.

Every cue is measured and reported; only the cues that separated the cases of
``bench/bench_synthesis.py`` on its held-out half are **flagged** (compared with a threshold tuned on
the other half; figures in docs/benchmarks.md):

- ``embedding_instability`` (flagged): the mean of 1 - cosine between consecutive SFace embeddings
  of the largest face, sampled ``FPS`` times a second. A face pasted frame by frame (a swap) moves
  more than a real one.
- ``pitch_jitter`` (flagged as ``synthetic_speech``): the mean relative change of the fundamental
  between voiced 20 ms frames of the speech. Measured against one synthetic voice only (Piper).
- ``boundary_contrast`` (reported, not flagged: it did not separate the swaps): how much sharper
  (Laplacian energy) the band just inside the face box is than the bands either side of it.
- ``lip_sync_lag_s`` and ``lip_sync_correlation`` (reported, not flagged: weak on the shifted and
  dubbed cases): the lag, within +-``MAX_LAG_S``, at which the mouth region's motion best follows the
  sound's energy.

``detector_score``: the user's own ONNX model (``[humans] deepfake_model``), fed 112x112 RGB face crops
scaled to [0, 1] in NCHW; the mean of its first output. Reported; what it means is the model's to say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.humans.embedders import RATE, Embedders
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe

FPS = 10.0
MAX_S = 30.0
MAX_LAG_S = 1.0
MIN_FACE_FRAMES = 15
CROP = 112

# Tuned on the first half of bench/bench_synthesis.py's cases (docs/benchmarks.md).
EMBEDDING_INSTABILITY = 0.028
PITCH_JITTER = 0.0433


@dataclass
class Cues:
    values: dict[str, float] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"values": {k: round(v, 4) for k, v in self.values.items()}, "flagged": self.flagged}


def boundary_contrast(gray: np.ndarray, box: np.ndarray) -> float:
    """Laplacian energy of the band just inside the face box over that of the bands either side of it."""
    import cv2

    x0, y0, x1, y1 = (int(v) for v in box)
    w = max(1, x1 - x0)
    band = max(2, w // 10)
    h, wd = gray.shape

    def ring(grow: int) -> float:
        ox0, oy0, ox1, oy1 = max(0, x0 - grow - band), max(0, y0 - grow - band), min(wd, x1 + grow + band), \
            min(h, y1 + grow + band)
        ix0, iy0, ix1, iy1 = x0 - grow + band, y0 - grow + band, x1 + grow - band, y1 + grow - band
        patch = gray[oy0:oy1, ox0:ox1].astype(np.float32)
        if patch.size == 0:
            return 0.0
        lap = np.abs(cv2.Laplacian(patch, cv2.CV_32F))
        mask = np.ones(lap.shape, bool)
        mask[max(0, iy0 - oy0):max(0, iy1 - oy0), max(0, ix0 - ox0):max(0, ix1 - ox0)] = False
        return float(lap[mask].mean()) if mask.any() else 0.0

    seam = ring(-band)  # the band inside the box edge
    around = (ring(-3 * band) + ring(band)) / 2  # further inside, and outside
    return seam / around if around > 1e-6 else 0.0


def mouth_box(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The mouth region from YuNet's landmarks (right and left mouth corners, nose tip)."""
    (rx, ry), (lx, ly), nose = landmarks[3], landmarks[4], landmarks[2]
    w = max(4.0, lx - rx)
    top = min(ry, ly) - 0.35 * w
    top = max(top, nose[1])
    bottom = max(ry, ly) + 0.6 * w
    x0, x1 = rx - 0.2 * w, lx + 0.2 * w
    h, wd = shape[:2]
    return max(0, int(x0)), max(0, int(top)), min(wd, int(x1)), min(h, int(bottom))


def best_lag(motion: np.ndarray, energy: np.ndarray, rate: float, max_lag_s: float = MAX_LAG_S) -> tuple[float, float]:
    """``(lag_s, correlation)`` of the normalised cross-correlation peak; a positive lag: the mouth moves
    after the sound."""
    m = (motion - motion.mean()) / (motion.std() + 1e-9)
    e = (energy - energy.mean()) / (energy.std() + 1e-9)
    best = (0.0, -2.0)
    for lag in range(-int(max_lag_s * rate), int(max_lag_s * rate) + 1):
        a, b = (m[lag:], e[:len(e) - lag]) if lag >= 0 else (m[:lag], e[-lag:])
        if len(a) < rate:
            continue
        c = float(np.mean(a * b))
        if c > best[1]:
            best = (lag / rate, c)
    return best


def pitch_jitter(wav: np.ndarray, rate: int = RATE) -> float | None:
    """Mean relative change of f0 between consecutive voiced 20 ms frames (autocorrelation pitch, 70-400 Hz)."""
    n = int(0.04 * rate)
    hop = int(0.02 * rate)
    lo, hi = int(rate / 400), int(rate / 70)
    f0: list[float] = []
    loud = np.sqrt(np.mean(wav ** 2)) if wav.size else 0.0
    for i in range(0, len(wav) - n, hop):
        x = wav[i:i + n] - wav[i:i + n].mean()
        if np.sqrt(np.mean(x ** 2)) < 0.3 * loud:
            f0.append(0.0)
            continue
        ac = np.correlate(x, x, "full")[n - 1:]
        k = lo + int(np.argmax(ac[lo:hi]))
        f0.append(rate / k if ac[k] > 0.5 * ac[0] else 0.0)
    pairs = [(a, b) for a, b in zip(f0, f0[1:], strict=False) if a > 0 and b > 0]
    if len(pairs) < 20:
        return None
    return float(np.mean([abs(b - a) / a for a, b in pairs]))


class SynthesisCues:
    """Face-swap and synthetic-speech cues of one file, with the user's ONNX detector when configured."""

    def __init__(self, embedders: Embedders, detector_model: str | Path | None = None) -> None:
        self.emb = embedders
        self.detector_model = detector_model

    def measure(self, path: str | Path) -> Cues:
        video = probe(path, require_video=False)
        cues = Cues()
        wav = self.emb.audio(video.uri) if video.has_audio else np.zeros(0, np.float32)
        if video.width:
            self._faces(video, wav, cues)
        if wav.size:
            speech = self.emb.speech_spans(wav)
            from vidlens.humans.embedders import speech_of

            jitter = pitch_jitter(speech_of(wav, speech))
            if jitter is not None:
                cues.values["pitch_jitter"] = jitter
                if jitter > PITCH_JITTER:
                    cues.flagged.append("synthetic_speech")
        return cues

    def _faces(self, video: Any, wav: np.ndarray, cues: Cues) -> None:
        import cv2

        embeddings, seams, motion, times, crops = [], [], [], [], []
        prev_mouth: np.ndarray | None = None
        for fs in iter_frames(video, Sampling(fps=FPS, max_side=640, pix_fmt="bgr24")):
            if fs.t > MAX_S:
                break
            faces = sorted(self.emb.faces.detect(fs.image), key=lambda f: -f.size)
            if not faces or faces[0].size < 32:
                prev_mouth = None
                continue
            face = faces[0]
            gray = cv2.cvtColor(fs.image, cv2.COLOR_BGR2GRAY)
            embeddings.append(self.emb.faces.embed(fs.image, face))
            seams.append(boundary_contrast(gray, face.xyxy))
            x0, y0, x1, y1 = mouth_box(face.landmarks, gray.shape)
            mouth = cv2.resize(gray[y0:y1, x0:x1], (32, 24)).astype(np.float32) if x1 > x0 and y1 > y0 else None
            if mouth is not None and prev_mouth is not None:
                motion.append(float(np.mean(np.abs(mouth - prev_mouth))))
                times.append(fs.t)
            prev_mouth = mouth
            if self.detector_model is not None and len(crops) < 32:
                bx0, by0, bx1, by1 = (int(v) for v in face.xyxy)
                crops.append(cv2.resize(fs.image[by0:by1, bx0:bx1], (CROP, CROP))[:, :, ::-1])
        if len(embeddings) < MIN_FACE_FRAMES:
            return
        e = np.stack(embeddings)
        cues.values["embedding_instability"] = float(np.mean(1.0 - np.sum(e[1:] * e[:-1], axis=1)))
        cues.values["boundary_contrast"] = float(np.median(seams))
        if cues.values["embedding_instability"] > EMBEDDING_INSTABILITY:
            cues.flagged.append("embedding_instability")
        if len(motion) >= MIN_FACE_FRAMES and wav.size:
            energy = np.array([np.sqrt(np.mean(wav[max(0, int((t - 1 / FPS) * RATE)):int(t * RATE) + 1] ** 2))
                               for t in times])
            if energy.max() > 1e-3:
                lag, corr = best_lag(np.array(motion), energy, FPS)
                cues.values["lip_sync_lag_s"] = lag
                cues.values["lip_sync_correlation"] = corr
        if crops:
            cues.values["detector_score"] = self._detect(np.stack(crops))

    def _detect(self, rgb: np.ndarray) -> float:
        import onnxruntime as ort

        from vidlens.errors import ModelError

        x = (rgb.astype(np.float32) / 255.0).transpose(0, 3, 1, 2)
        try:
            session = ort.InferenceSession(str(self.detector_model), providers=["CPUExecutionProvider"])
            out = session.run(None, {session.get_inputs()[0].name: x})[0]
        except Exception as exc:  # onnxruntime raises its own types for a missing, corrupt or mismatched model
            raise ModelError(f"[humans] deepfake_model {self.detector_model}: cannot score 112x112 RGB face crops "
                             f"(NCHW, [0, 1]): {str(exc).splitlines()[0][:300]}") from None
        return float(np.mean(out))
