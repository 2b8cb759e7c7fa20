"""JPEG: XMP (``APP1`` ``http://ns.adobe.com/xap/1.0/``) property ``TC260:AIGC``.

Writing edits the existing XMP packet (other properties kept) or inserts a new
APP1 after the JFIF/EXIF segments; the entropy-coded data is copied untouched.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import CorruptMediaError, UnsupportedMediaError
from vidlens.govern.codecs.base import Found, LabelCodec, ReadResult
from vidlens.govern.codecs.xmp import xmp_packet, xmp_values, xmp_with_label
from vidlens.plugins import PluginManifest

XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _segments(data: bytes, result: ReadResult) -> tuple[list[tuple[int, int, int]], int]:
    """(marker, offset, total length) of each header segment, and the offset of SOS."""
    out: list[tuple[int, int, int]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            result.corrupt(f"expected a marker at {pos}")
            return out, -1
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xDA:
            return out, pos
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            result.corrupt(f"segment {marker:#x} at {pos} has length {length} beyond the file")
            return out, -1
        out.append((marker, pos, 2 + length))
        pos += 2 + length
    result.corrupt("no start-of-scan marker")
    return out, -1


def _is_xmp(data: bytes, pos: int) -> bool:
    return data[pos + 1] == 0xE1 and data[pos + 4:pos + 4 + len(XMP_ID)] == XMP_ID


class JpegCodec(LabelCodec):
    name = "jpeg"
    extensions = (".jpg", ".jpeg")
    manifest = PluginManifest(name, "1", "label_codec", "JPEG: the label in an XMP packet.")

    def sniff(self, head: bytes) -> bool:
        return head[:3] == b"\xff\xd8\xff"

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        data = f.read(min(size, 64 * 1024 * 1024))
        segments, _ = _segments(data, result)
        for _marker, pos, length in segments:
            if _is_xmp(data, pos):
                for value in xmp_values(data[pos + 4 + len(XMP_ID):pos + length], result):
                    result.found.append(Found(value, "APP1:XMP/TC260:AIGC"))
        return result

    def write(self, src: Path, dst: Path, value: str) -> None:
        data = src.read_bytes()
        result = ReadResult()
        segments, sos = _segments(data, result)
        if sos < 0:
            raise CorruptMediaError(f"{src.name}: {result.problems[-1].message}", path=str(src))
        xmp = [(pos, length) for _m, pos, length in segments if _is_xmp(data, pos)]
        if xmp:
            pos, length = xmp[0]
            packet = xmp_with_label(data[pos + 4 + len(XMP_ID):pos + length], value)
        else:
            packet = xmp_packet(value)
            app = [s for s in segments if s[0] in (0xE0, 0xE1)]
            pos, length = (app[-1][1] + app[-1][2], 0) if app else (2, 0)
        body = XMP_ID + packet
        if len(body) + 2 > 0xFFFF:
            raise UnsupportedMediaError(f"{src.name}: XMP packet too large for one APP1 segment", path=str(src))
        segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
        dst.write_bytes(data[:pos] + segment + data[pos + length:])

    def content_hash(self, path: Path) -> str:
        data = path.read_bytes()
        segments, _ = _segments(data, ReadResult())
        digest = hashlib.sha256()
        cursor = 0
        for _m, pos, length in segments:
            if _is_xmp(data, pos):
                digest.update(data[cursor:pos])
                cursor = pos + length
        digest.update(data[cursor:])
        return digest.hexdigest()

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.media.ffmpeg import run_ffmpeg

        path = directory / "sample.jpg"
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", str(path)])
        return [path]
