"""Content hashes: SHA-256 of bytes, streams and files, and the canonical JSON that signatures and
hash chains cover. One module so that every digest VidLens stores (video ids, blob keys, model
checks, ledger entries) is computed the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1 << 20  # 1 MiB: large enough to amortise the call, small enough to stream any file

_cache: dict[tuple[str, int, int], str] = {}
_cache_lock = threading.Lock()


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_stream(f: BinaryIO, *, chunk: int = CHUNK) -> str:
    """Hex SHA-256 of everything left to read in ``f``, read ``chunk`` bytes at a time."""
    h = hashlib.sha256()
    while block := f.read(chunk):
        h.update(block)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, streamed (never loads the file)."""
    with open(path, "rb") as f:
        return sha256_stream(f)


def sha256_file_cached(path: str | os.PathLike[str]) -> str:
    """``sha256_file``, computed once per (path, size, mtime) in this process: model files are
    checked on every load and are hundreds of megabytes."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    digest = sha256_file(p)
    with _cache_lock:
        _cache[key] = digest
    return digest


def canonical_json(obj: Any) -> bytes:
    """The bytes that are signed and hashed: sorted keys, no spaces, UTF-8 (not ASCII-escaped).

    Floats keep Python's shortest round-trip form, so a value read back from the database
    (SQLite REAL, PostgreSQL double precision or JSON) encodes to the same bytes.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
