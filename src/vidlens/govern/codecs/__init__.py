"""Label codecs, one per container family; ``CODECS`` is tried in order by ``sniff``."""

from __future__ import annotations

from vidlens.govern.codecs.base import LabelCodec
from vidlens.govern.codecs.mp4 import Mp4Codec

CODECS: tuple[LabelCodec, ...] = (Mp4Codec(),)

__all__ = ["CODECS", "LabelCodec"]
