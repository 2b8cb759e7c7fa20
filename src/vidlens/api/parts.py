"""Multipart file fields a handler reads whole (samples, a file to scan): saved to a private temporary
folder, each within the upload limit, and removed when the handler is done."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from vidlens.errors import MediaLimitError


@contextmanager
def saved_parts(files: list[UploadFile], limit: int) -> Iterator[list[Path]]:
    """The uploaded files on disk (named by position, never by the client), each within ``limit`` bytes."""
    folder = Path(tempfile.mkdtemp(prefix="vidlens-parts-"))
    try:
        paths = []
        for i, f in enumerate(files):
            suffix = Path(f.filename or "").suffix[:16] if (f.filename or "").isprintable() else ""
            path = folder / f"{i:03d}{suffix}"
            with path.open("wb") as out:
                shutil.copyfileobj(f.file, out, 1 << 20)
            if path.stat().st_size > limit:
                raise MediaLimitError(f"file {f.filename!r} is larger than {limit} bytes (serve.max_upload_bytes)")
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)
