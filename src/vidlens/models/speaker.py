"""Speaker embeddings: Resemblyzer's voice encoder (GE2E, 256-d), run by ONNX Runtime.

The weights ship in PyPI ``resemblyzer`` 0.1.4 (Apache-2.0); ``scripts/export_resemblyzer.py``
exported them once to ``vidlens/models/data/resemblyzer-encoder.onnx``, with the 40-band mel
filterbank folded into the graph, so run time needs neither torch nor librosa. The graph takes
power spectra of 1.6 s partials (160 frames of 25 ms every 10 ms, 201 bins) and returns one unit
vector per partial. As in Resemblyzer, an utterance's embedding is the normalised mean of its
partials (1.3 partials a second), and its loudness is raised to -30 dBFS first. Silence is cut by
the caller (Silero VAD) rather than by webrtcvad. A dot product of two embeddings is their cosine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidlens.errors import UsageError
from vidlens.models.registry import ModelFile, locate
from vidlens.models.runtime import onnx_session

RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
PARTIALS_PER_S = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
DIM = 256

ENCODER = ModelFile(
    "voices.encoder", "vidlens.models.data", "resemblyzer-encoder.onnx",
    "c0de123a560bcb3a5871e659a7ed3e57723897ba3a1bcdad28d99006e1f3aee8", "Apache-2.0",
    "Resemblyzer 0.1.4 voice encoder (Resemble AI, Apache-2.0) from PyPI resemblyzer, exported to ONNX by "
    "scripts/export_resemblyzer.py; see vidlens/models/data/NOTICE",
    "reinstall vidlens")

_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann


def power_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 201) power spectra, centred frames with reflect padding (librosa's STFT as trained)."""
    wav = np.asarray(wav, np.float32).reshape(-1)
    pad = N_FFT // 2
    mode = "reflect" if wav.size > pad else "constant"
    padded = np.pad(wav, pad, mode=mode)
    n = 1 + (padded.size - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.fft.rfft(padded[idx] * _WINDOW, n=N_FFT, axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def normalise_volume(wav: np.ndarray) -> np.ndarray:
    """Raise (never lower) the loudness to -30 dBFS, as the encoder was trained."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0
    if rms <= 1e-9:
        return wav
    change = TARGET_DBFS - 20 * np.log10(rms)
    return wav if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


def partial_starts(n_samples: int) -> list[int]:
    """First spectrum frame of each 1.6 s partial (Resemblyzer's ``compute_partial_slices``)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = max(1, int(round((RATE / PARTIALS_PER_S) / HOP)))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


class SpeakerEncoder:
    """Embeds 16 kHz mono speech as a unit 256-d vector."""

    def __init__(self, model: str | Path | None = None, *, threads: int = 1) -> None:
        self.path = locate(ENCODER, model)
        self.threads = threads

    def load(self) -> SpeakerEncoder:
        onnx_session(ENCODER.slot, self.path, self.threads)
        return self

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """The embedding of one utterance (speech only: cut silence first)."""
        _, partials = self.partials(wav)
        return mean_unit(partials)

    def partials(self, wav: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(starts_s, vectors)``: the utterance's 1.6 s partials (1.3 a second, loudness raised once for
        the whole utterance) as unit vectors, with where each starts. A scan embeds an utterance once and
        takes each of its overlapping windows as the mean of the partials inside it (``mean_unit``)."""
        wav = normalise_volume(np.asarray(wav, np.float32).reshape(-1))
        if wav.size < HOP * 10:
            raise UsageError(f"speech too short to embed ({wav.size / RATE:.2f} s)")
        starts = partial_starts(wav.size)
        need = (starts[-1] + PARTIAL_FRAMES) * HOP
        if need > wav.size:
            wav = np.pad(wav, (0, need - wav.size))
        spec = power_frames(wav)
        batch = np.stack([spec[s:s + PARTIAL_FRAMES] for s in starts])
        session = onnx_session(ENCODER.slot, self.path, self.threads)
        vectors = np.asarray(session.run(None, {"spectra": batch})[0], np.float32)
        return np.asarray(starts, np.float64) * HOP / RATE, vectors


def mean_unit(vectors: np.ndarray) -> np.ndarray:
    """The normalised mean of partial embeddings: Resemblyzer's utterance embedding."""
    mean = np.asarray(vectors, np.float32).mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
