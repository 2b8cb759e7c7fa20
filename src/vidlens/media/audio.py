"""Audio decoding to mono float32 at a chosen rate.

Speech models want 16 kHz mono; silence and loudness checks want a cheap low rate.
Any layout (mono, stereo, 5.1 ...) is downmixed by libswresample, so a 6-channel
track reads like any other. A file with no audio stream yields nothing, never an error:
"no audio" is a normal state of a video, not a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from vidlens.errors import CorruptMediaError, UsageError
from vidlens.media.probe import open_container


def iter_audio(path: str | Path, rate: int = 16000, chunk_s: float = 30.0) -> Iterator[np.ndarray]:
    """Yield consecutive mono float32 chunks of about ``chunk_s`` seconds from the first audio stream.

    Chunks are contiguous: concatenated they are the whole track starting at its first sample
    (sample ``i`` is at ``i / rate`` seconds from the start of the audio).
    """
    if rate < 1000 or rate > 192000:
        raise UsageError(f"audio rate must be in [1000, 192000] Hz, got {rate}")
    if chunk_s <= 0:
        raise UsageError(f"audio chunk_s must be > 0, got {chunk_s}")
    target = max(1, int(rate * chunk_s))
    with open_container(path) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        pending: list[np.ndarray] = []
        have = 0
        try:
            for frame in _decoded(container, stream, path):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    have += pending[-1].size
                while have >= target:
                    buf = np.concatenate(pending)
                    yield np.ascontiguousarray(buf[:target], dtype=np.float32)
                    rest = buf[target:]
                    pending, have = ([rest] if rest.size else []), rest.size
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(f"{Path(path).name}: audio cannot be decoded: {exc}", path=str(path)) from None
        if pending:
            tail = np.concatenate(pending).astype(np.float32, copy=False)
            if tail.size:
                yield tail


def _decoded(container: av.container.InputContainer, stream: av.AudioStream,
             path: str | Path) -> Iterator[av.AudioFrame]:
    """Decode, skipping single damaged packets (a burst of corruption still ends the track cleanly)."""
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError:
            continue


def load_audio(path: str | Path, rate: int = 16000) -> np.ndarray:
    """The whole first audio track as one mono float32 array (empty when the file has no audio)."""
    chunks = list(iter_audio(path, rate, chunk_s=60.0))
    if not chunks:
        return np.zeros(0, np.float32)
    return np.concatenate(chunks)


def rms_db(samples: np.ndarray, rate: int, window_s: float = 0.1) -> np.ndarray:
    """Loudness per window in dBFS (digital silence reads as -120 dB)."""
    n = max(1, int(rate * window_s))
    usable = samples[: samples.size // n * n].astype(np.float64)
    if usable.size == 0:
        return np.zeros(0)
    power = np.mean(usable.reshape(-1, n) ** 2, axis=1)
    return 10 * np.log10(np.maximum(power, 1e-12))
