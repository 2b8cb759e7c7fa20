"""Blobs (keyframes, thumbnails, fingerprints, indexes) live on disk (or in an S3-compatible bucket,
``vidlens.blobs.s3``), never in the database.

Keys are content addresses (``sha256[:2]/sha256.suffix``), so storing the same
bytes twice is free and a key can be verified against its content. Writes go to a
temporary file in the same directory and are renamed into place, so a reader never
sees half a blob.
"""

from __future__ import annotations

import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import NotFoundError, UsageError
from vidlens.hashing import sha256_bytes, sha256_file

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z0-9]{1,10})?$")
_SUFFIX = re.compile(r"^(\.[a-z0-9]{1,10})?$")


class BlobStore(ABC):
    """Small interface so an S3-compatible store can replace the local directory."""

    @abstractmethod
    def put_bytes(self, data: bytes, suffix: str = "") -> str: ...

    @abstractmethod
    def put_file(self, path: str | Path, suffix: str = "") -> str: ...

    @abstractmethod
    def open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def local_path(self, key: str) -> Path | None:
        """The blob's file when it is on this machine's disk (served as a file), else None."""
        return None

    @staticmethod
    def _check_key(key: str) -> str:
        if not _KEY.match(key):
            raise UsageError(f"invalid blob key '{key}': expected 'xx/<sha256>[.ext]'")
        return key

    @staticmethod
    def _check_suffix(suffix: str) -> str:
        suffix = suffix.lower()
        if not _SUFFIX.match(suffix):
            raise UsageError(f"invalid blob suffix '{suffix}': expected '.ext' of 1-10 letters/digits")
        return suffix


class LocalBlobStore(BlobStore):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / self._check_key(key)

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def put_bytes(self, data: bytes, suffix: str = "") -> str:
        digest = sha256_bytes(data)
        key = f"{digest[:2]}/{digest}{self._check_suffix(suffix)}"
        target = self.root / key
        if not target.exists():
            self._write_atomic(target, data)
        return key

    def put_file(self, path: str | Path, suffix: str = "") -> str:
        digest = sha256_file(path)
        key = f"{digest[:2]}/{digest}{self._check_suffix(suffix)}"
        target = self.root / key
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return key

    def open(self, key: str) -> BinaryIO:
        p = self.path(key)
        try:
            return open(p, "rb")
        except FileNotFoundError:
            raise NotFoundError(f"blob '{key}' not found") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    @staticmethod
    def _write_atomic(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
