"""Voice activity detection with Silero VAD v6 (ONNX), run directly on ONNX Runtime.

The model file ships inside the ``faster-whisper`` wheel. We run it ourselves
rather than through faster-whisper so the thread count is ours, the probabilities
are reusable (speech spans, and "is there any speech at all" before loading
Whisper), and a silent track costs one cheap pass and no Whisper call.

The v6 graph takes a batch of 512-sample windows, each prefixed with the previous
window's last 64 samples, plus an LSTM state that is carried across calls, so long
audio can be fed in pieces with the same result as in one go.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.errors import ModelError, UsageError
from vidlens.hashing import sha256_file_cached

SLOT = "speech.vad"
RATE = 16000
WINDOW = 512  # samples per probability (32 ms at 16 kHz)
_CONTEXT = 64
_PACKAGE, _RELPATH = "faster_whisper", "assets/silero_vad_v6.onnx"
_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"


def vad_model_path(override: str | Path | None = None) -> Path:
    """The Silero ONNX file: the user's ``override`` or the verified copy in the faster-whisper wheel."""
    if override is not None:
        p = Path(override).expanduser()
        if not p.is_file():
            raise ModelError(f"model slot '{SLOT}': file {p} does not exist", details={"slot": SLOT, "expected": str(p)})
        return p
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"model slot '{SLOT}': package 'faster-whisper' that ships silero_vad_v6.onnx is not "
                         "installed (pip install -e '.[analysis]')", details={"slot": SLOT, "expected": _RELPATH})
    path = Path(next(iter(spec.submodule_search_locations))) / _RELPATH
    if not path.is_file():
        raise ModelError(f"model slot '{SLOT}': expected file {path} is missing (reinstall faster-whisper)",
                         details={"slot": SLOT, "expected": str(path)})
    if sha256_file_cached(path) != _SHA256:
        raise ModelError(f"model slot '{SLOT}': {path} is corrupt or not Silero VAD v6 (sha256 mismatch)",
                         details={"slot": SLOT, "expected": str(path), "sha256": _SHA256})
    return path


@functools.lru_cache(maxsize=4)
def _session(path: str, threads: int):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
        raise ModelError(f"model slot '{SLOT}': {path} is not a loadable ONNX model: {exc}",
                         details={"slot": SLOT, "expected": path}) from None


@dataclass(frozen=True, slots=True)
class VadParams:
    """Hysteresis and cleanup, in seconds. Defaults favour whole sentences over tight edges."""

    threshold: float = 0.5
    min_speech_s: float = 0.25
    min_silence_s: float = 0.5
    pad_s: float = 0.4

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise UsageError(f"VAD threshold must be in (0, 1), got {self.threshold}")


class SileroVad:
    """Speech probability every 32 ms of 16 kHz mono audio, and speech spans from it.

    One instance holds one stream's LSTM state; call :meth:`reset` between files.
    The ONNX session itself is shared per process.
    """

    def __init__(self, model_path: str | Path | None = None, threads: int = 1) -> None:
        self.path = vad_model_path(model_path)
        self._session = _session(str(self.path), max(1, threads))
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._rest = np.zeros(0, np.float32)

    def feed(self, audio: np.ndarray) -> np.ndarray:
        """Probabilities for every complete 512-sample window so far (a remainder waits for the next call)."""
        buf = np.concatenate([self._rest, np.asarray(audio, np.float32).reshape(-1)])
        n = buf.size // WINDOW
        self._rest = buf[n * WINDOW:]
        if n == 0:
            return np.zeros(0, np.float32)
        windows = buf[: n * WINDOW].reshape(n, WINDOW)
        prev_tail = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]], axis=0)
        batch = np.ascontiguousarray(np.concatenate([prev_tail, windows], axis=1))
        self._context = windows[-1, -_CONTEXT:].copy()
        out = []
        with self._lock:
            for i in range(0, n, 4096):
                p, self._h, self._c = self._session.run(
                    None, {"input": batch[i:i + 4096], "h": self._h, "c": self._c})
                out.append(np.asarray(p, np.float32).reshape(-1))
        return np.concatenate(out)

    def finish(self) -> np.ndarray:
        """Flush the remainder (zero-padded to one window)."""
        if self._rest.size == 0:
            return np.zeros(0, np.float32)
        return self.feed(np.zeros(WINDOW - self._rest.size, np.float32))

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """All probabilities for one whole signal (resets the stream state first)."""
        self.reset()
        return np.concatenate([self.feed(audio), self.finish()])


def speech_spans(probs: np.ndarray, duration_s: float, params: VadParams = VadParams()) -> list[tuple[float, float]]:
    """Turn per-window probabilities into ``(start_s, end_s)`` speech spans.

    Speech starts when a window reaches ``threshold`` and ends at the first window
    below ``threshold - 0.15`` that is followed by at least ``min_silence_s`` of
    non-speech; spans shorter than ``min_speech_s`` are dropped, the rest padded.
    """
    step = WINDOW / RATE
    hi, lo = params.threshold, max(0.01, params.threshold - 0.15)
    raw: list[list[float]] = []
    start: float | None = None
    silent_since: float | None = None
    for i, p in enumerate(probs):
        t = i * step
        if start is None:
            if p >= hi:
                start, silent_since = t, None
            continue
        if p >= hi:
            silent_since = None
        elif p < lo and silent_since is None:
            silent_since = t
        if silent_since is not None and t + step - silent_since >= params.min_silence_s:
            raw.append([start, silent_since])
            start, silent_since = None, None
    if start is not None:
        raw.append([start, silent_since if silent_since is not None else len(probs) * step])
    spans = [s for s in raw if s[1] - s[0] >= params.min_speech_s]
    out: list[tuple[float, float]] = []
    for s, e in spans:
        s, e = max(0.0, s - params.pad_s), min(duration_s, e + params.pad_s)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in out]
