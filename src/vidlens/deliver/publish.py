"""Publish outputs atomically: write into a hidden sibling, move into place on success.

A failed or interrupted FFmpeg run must never leave a half-written file or folder
where a player, a CDN sync or the next pipeline step would pick it up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vidlens.errors import ConflictError, UsageError

# Files that mark a folder as a previous package output, which a new run may replace.
PACKAGE_MARKERS = ("master.m3u8", "manifest.mpd", "thumbnails.vtt", "poster.jpg")


def _replaceable(outdir: Path) -> bool:
    entries = list(outdir.iterdir())
    return not entries or any((outdir / m).exists() for m in PACKAGE_MARKERS)


@contextmanager
def staged_dir(outdir: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``outdir``; on success it becomes ``outdir``."""
    out = Path(outdir).absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    if out.exists() and not overwrite and not _replaceable(out):
        raise ConflictError(
            f"{out} is not empty and holds no earlier package output; pass --overwrite to replace it"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    stage.chmod(0o755)  # mkdtemp makes it private; published output is meant to be served
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
        out.rename(old)
        stage.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        stage.rename(out)


@contextmanager
def staged_file(out_path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``out_path`` (same suffix); on success it replaces it."""
    out = Path(out_path).absolute()
    if out.is_dir():
        raise UsageError(f"{out} is a folder; expected an output file name")
    if out.exists() and not overwrite:
        raise ConflictError(f"{out} already exists; pass --overwrite to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial-{uuid.uuid4().hex[:8]}{out.suffix}")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
