"""Label codecs, one per container family, found as plugins of kind ``label_codec``."""

from __future__ import annotations

from functools import cache

from vidlens.govern.codecs.base import LabelCodec
from vidlens.plugins import discovered


@cache
def codecs() -> tuple[LabelCodec, ...]:
    """Every installed label codec, in the order ``sniff`` tries them (``sniff_order``, then name)."""
    found = [p.cls() for p in discovered().of_kind("label_codec")]
    return tuple(sorted(found, key=lambda c: (c.sniff_order, c.name)))


__all__ = ["LabelCodec", "codecs"]
