"""Audio decoding to mono float32 at a chosen rate.

Speech models want 16 kHz mono; silence and loudness checks want a cheap low rate.
Any layout (mono, stereo, 5.1 ...) is downmixed by libswresample, so a 6-channel
track reads like any other. A file with no audio stream yields nothing, never an error:
"no audio" is a normal state of a video, not a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vidlens.media.decode import AudioSampling, Collector, Decoder, iter_audio_chunks
from vidlens.media.source import Source, open_source


def _source(path: str | Path | Source) -> Source:
    return path if isinstance(path, Source) else open_source(path)


def iter_audio(path: str | Path | Source, rate: int = 16000, chunk_s: float = 30.0) -> Iterator[np.ndarray]:
    """Yield consecutive mono float32 chunks of about ``chunk_s`` seconds from the first audio stream.

    Chunks are contiguous: concatenated they are the whole track starting at its first sample
    (sample ``i`` is at ``i / rate`` seconds from the start of the audio, or of the range asked for).
    """
    sampling = AudioSampling(rate, chunk_s)
    for chunk in iter_audio_chunks(_source(path), sampling):
        yield chunk.samples


def read_audio(path: str | Path | Source, rate: int = 16000) -> np.ndarray | None:
    """The whole first audio track as one mono float32 array, or None when there is no audio stream."""
    dec = Decoder(_source(path))
    got = Collector()
    dec.add_audio(AudioSampling(rate, chunk_s=60.0), got)
    dec.run()
    if not dec.has_audio:
        return None
    return np.concatenate([c.samples for c in got.items]) if got.items else np.zeros(0, np.float32)


def load_audio(path: str | Path | Source, rate: int = 16000) -> np.ndarray:
    """The whole first audio track as one mono float32 array (empty when the file has no audio)."""
    samples = read_audio(path, rate)
    return np.zeros(0, np.float32) if samples is None else samples


def rms_db(samples: np.ndarray, rate: int, window_s: float = 0.1) -> np.ndarray:
    """Loudness per window in dBFS (digital silence reads as -120 dB)."""
    n = max(1, int(rate * window_s))
    usable = samples[: samples.size // n * n].astype(np.float64)
    if usable.size == 0:
        return np.zeros(0)
    power = np.mean(usable.reshape(-1, n) ** 2, axis=1)
    return 10 * np.log10(np.maximum(power, 1e-12))
