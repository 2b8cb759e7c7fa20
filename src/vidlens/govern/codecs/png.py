"""PNG: a ``tEXt`` chunk with keyword ``AIGC`` (``iTXt``/``zTXt`` and XMP ``TC260:AIGC`` also read).

Writing drops every AIGC text chunk and inserts one right after ``IHDR``: ``tEXt``
(Latin-1) for an ASCII label, uncompressed ``iTXt`` (UTF-8) for any other.
The content hash covers every chunk except text and XMP chunks, so it is the
image itself, not its metadata.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import CorruptMediaError
from vidlens.govern.codecs.base import Found, LabelCodec, ReadResult, read_exact
from vidlens.govern.codecs.xmp import xmp_values
from vidlens.plugins import PluginManifest

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK = 64 * 1024 * 1024
MAX_TEXT = 1024 * 1024
_TEXT = {b"tEXt", b"iTXt", b"zTXt"}


def _chunks(f: BinaryIO, size: int, result: ReadResult) -> list[tuple[bytes, int, int]]:
    """(type, offset, data length) of each chunk; reading stops at IEND or the first bad chunk."""
    out: list[tuple[bytes, int, int]] = []
    pos = 8
    while pos + 12 <= size:
        f.seek(pos)
        head = read_exact(f, 8)
        if head is None:
            break
        length, kind = struct.unpack(">I4s", head)
        if length > MAX_CHUNK or pos + 12 + length > size:
            result.corrupt(f"chunk {kind!r} at {pos} has length {length} beyond the file")
            break
        out.append((kind, pos, length))
        pos += 12 + length
        if kind == b"IEND":
            break
    return out


def _text_value(kind: bytes, data: bytes, result: ReadResult) -> tuple[bytes, bytes] | None:
    """(keyword, value) of a text chunk, decompressing at most ``MAX_TEXT`` bytes."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep:
        result.corrupt(f"{kind.decode()} chunk without a keyword terminator")
        return None
    try:
        if kind == b"tEXt":
            return keyword, rest
        if kind == b"zTXt":
            return keyword, _inflate(rest[1:])
        compressed, _method = rest[:1], rest[1:2]
        _lang, _, rest = rest[2:].partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        return keyword, _inflate(text) if compressed == b"\x01" else text
    except zlib.error as exc:
        result.corrupt(f"{kind.decode()} chunk {keyword[:20]!r} does not inflate: {exc}")
        return None


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_TEXT)
    if d.unconsumed_tail:
        raise zlib.error(f"inflates to more than {MAX_TEXT} bytes")
    return out


class PngCodec(LabelCodec):
    name = "png"
    extensions = (".png",)
    manifest = PluginManifest(name, "1", "label_codec", "PNG: the label in a tEXt or iTXt chunk.")

    def sniff(self, head: bytes) -> bool:
        return head[:8] == SIGNATURE

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        for kind, pos, length in _chunks(f, size, result):
            if kind not in _TEXT:
                continue
            f.seek(pos + 8)
            parsed = _text_value(kind, f.read(length), result)
            if parsed is None:
                continue
            keyword, value = parsed
            if keyword.upper() in (b"AIGC", b"TC260:AIGC"):
                result.found.append(Found(value, f"{kind.decode()}:{keyword.decode('latin-1')}"))
            elif keyword == b"XML:com.adobe.xmp":
                for found in xmp_values(value, result):
                    result.found.append(Found(found, "iTXt:XMP/TC260:AIGC"))
        return result

    def write(self, src: Path, dst: Path, value: str) -> None:
        data = src.read_bytes()
        result = ReadResult()
        import io

        chunks = _chunks(io.BytesIO(data), len(data), result)
        if result.problems or not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
            raise CorruptMediaError(f"{src.name}: malformed PNG chunk list", path=str(src))
        kind = b"tEXt" if value.isascii() else b"iTXt"
        payload = b"AIGC\0" + (value.encode("ascii") if value.isascii() else b"\0\0\0\0" + value.encode("utf-8"))
        ours = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        out = [SIGNATURE]
        for kind, pos, length in chunks:
            raw = data[pos:pos + 12 + length]
            if kind in _TEXT:
                parsed = _text_value(kind, data[pos + 8:pos + 8 + length], ReadResult())
                if parsed and parsed[0].upper() in (b"AIGC", b"TC260:AIGC"):
                    continue
            out.append(raw)
            if kind == b"IHDR":
                out.append(ours)
        dst.write_bytes(b"".join(out))

    def content_hash(self, path: Path) -> str:
        data = path.read_bytes()
        import io

        digest = hashlib.sha256()
        for kind, pos, length in _chunks(io.BytesIO(data), len(data), ReadResult()):
            if kind not in _TEXT:
                digest.update(data[pos + 4:pos + 8 + length])
        return digest.hexdigest()

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.media.ffmpeg import run_ffmpeg

        path = directory / "sample.png"
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", str(path)])
        return [path]
