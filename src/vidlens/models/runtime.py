"""Loaded models, kept once per process.

ONNX Runtime sessions are safe to ``run`` from several threads, so one session per
(file, thread count) is shared. OpenCV DNN objects are not thread-safe, so they
live in a small pool: a thread borrows one, and a second thread at the same time
gets its own. Loading failures become ``ModelError`` naming the slot and file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vidlens.errors import ModelError

_lock = threading.Lock()
_sessions: dict[tuple[str, int], Any] = {}
_pools: dict[tuple[str, str], list[Any]] = {}


def onnx_session(slot: str, path: Path, threads: int = 1) -> Any:
    """A shared CPU ``InferenceSession`` for ``path`` with ``threads`` intra-op threads."""
    key = (str(path), threads)
    with _lock:
        sess = _sessions.get(key)
    if sess is not None:
        return sess
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"model slot '{slot}' needs onnxruntime (pip install -e '.[analysis]')",
                         details={"slot": slot}) from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"model slot '{slot}': {path} is not a loadable ONNX model: "
                         f"{str(exc).splitlines()[0][:200]}", details={"slot": slot, "expected": str(path)}) from None
    with _lock:
        return _sessions.setdefault(key, sess)


@contextmanager
def borrow(slot: str, key: str, factory: Callable[[], Any]) -> Iterator[Any]:
    """Borrow a thread-unsafe model object (OpenCV DNN) from a per-process pool."""
    pool_key = (slot, key)
    with _lock:
        pool = _pools.setdefault(pool_key, [])
        obj = pool.pop() if pool else None
    if obj is None:
        obj = load_cv2(slot, key, factory)
    try:
        yield obj
    finally:
        with _lock:
            _pools[pool_key].append(obj)


def load_cv2(slot: str, what: str, factory: Callable[[], Any]) -> Any:
    """Run an OpenCV loader, turning its errors into a ``ModelError`` for ``slot``."""
    try:
        import cv2
    except ImportError as exc:
        raise ModelError(f"model slot '{slot}' needs OpenCV 4 (pip install 'opencv-python-headless<5')",
                         details={"slot": slot}) from exc
    if int(cv2.__version__.split(".")[0]) >= 5:
        raise ModelError(f"model slot '{slot}' needs OpenCV 4.x (found {cv2.__version__}; "
                         "pip install 'opencv-python-headless<5')", details={"slot": slot})
    try:
        return factory()
    except cv2.error as exc:
        raise ModelError(f"model slot '{slot}': OpenCV could not load {what}: "
                         f"{str(exc).strip().splitlines()[-1][:200]}", details={"slot": slot, "expected": what}) from None
