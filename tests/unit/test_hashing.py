"""The one SHA-256 helper module: files, streams, the per-process cache and canonical JSON."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from vidlens.hashing import canonical_json, sha256_bytes, sha256_file, sha256_file_cached, sha256_stream


def test_file_stream_and_bytes_agree(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # spans several read chunks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    assert sha256_bytes(data) == sha256_file(path) == sha256_stream(io.BytesIO(data)) == want


def test_cached_digest_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"first")
    assert sha256_file_cached(path) == sha256_bytes(b"first")
    path.write_bytes(b"second, longer")  # size and mtime change: the cache must not answer
    assert sha256_file_cached(path) == sha256_bytes(b"second, longer")


def test_canonical_json_is_stable_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": [0.1 + 0.2, "人"]}) == '{"a":[0.30000000000000004,"人"],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
