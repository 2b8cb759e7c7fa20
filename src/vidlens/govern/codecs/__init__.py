"""Label codecs, one per container family; ``CODECS`` is tried in order by ``sniff``."""

from __future__ import annotations

from vidlens.govern.codecs.audio import Id3Codec, VorbisCommentCodec
from vidlens.govern.codecs.base import LabelCodec
from vidlens.govern.codecs.flv import FlvCodec
from vidlens.govern.codecs.jpeg import JpegCodec
from vidlens.govern.codecs.mkv import MkvCodec
from vidlens.govern.codecs.mp4 import Mp4Codec
from vidlens.govern.codecs.png import PngCodec
from vidlens.govern.codecs.riff import RiffCodec
from vidlens.govern.codecs.ts import TsCodec

# The MP3 sniff (bare frame sync) is the loosest, so it goes last.
CODECS: tuple[LabelCodec, ...] = (Mp4Codec(), MkvCodec(), FlvCodec(), RiffCodec(), PngCodec(), JpegCodec(),
                                  VorbisCommentCodec(), TsCodec(), Id3Codec())

__all__ = ["CODECS", "LabelCodec"]
