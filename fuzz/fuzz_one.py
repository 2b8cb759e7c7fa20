"""Fuzz one target with atheris: ``python fuzz/fuzz_one.py NAME [libFuzzer flags] [corpus dirs]``."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["vidlens.govern"]):
    import vidlens.govern.codecs  # noqa: F401
    import vidlens.govern.label  # noqa: F401

from targets import targets  # noqa: E402


def main() -> None:
    name = sys.argv.pop(1)
    target = targets()[name]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
