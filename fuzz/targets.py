"""Fuzz targets: every label reader must survive any bytes (defects are reported, never raised)."""

from __future__ import annotations

import io
from collections.abc import Callable


def _codec_target(name: str) -> Callable[[bytes], None]:
    from vidlens.govern.codecs import codecs

    codec = next(c for c in codecs() if c.name == name)

    def target(data: bytes) -> None:
        codec.read(io.BytesIO(data), len(data))

    return target


def _label_target(data: bytes) -> None:
    from vidlens.govern.label import parse_label

    parse_label(data)


def targets() -> dict[str, Callable[[bytes], None]]:
    from vidlens.govern.codecs import codecs

    out = {c.name: _codec_target(c.name) for c in codecs()}
    out["label-json"] = _label_target
    return out
