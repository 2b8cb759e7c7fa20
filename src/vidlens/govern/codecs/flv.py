"""FLV: the ``AIGC`` property of the ``onMetaData`` script tag (AMF0).

The reader walks tag headers only and decodes script tags with a bounded AMF0
parser. Writing remuxes with FFmpeg, whose FLV muxer stores every global tag as an
``onMetaData`` string (and rebuilds the keyframe index offsets for us).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from vidlens.govern.codecs.base import MAX_DEPTH, Found, LabelCodec, ReadResult, read_exact
from vidlens.govern.codecs.remux import remux_with_tag
from vidlens.plugins import PluginManifest

MAX_SCRIPT = 4 * 1024 * 1024
MAX_ITEMS = 100_000


class AmfError(ValueError):
    pass


class _Amf:
    """A bounded AMF0 decoder over one script tag body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.items = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise AmfError(f"AMF0 value runs past the tag at {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def short_string(self) -> bytes:
        return self.take(struct.unpack(">H", self.take(2))[0])

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise AmfError(f"AMF0 nested deeper than {MAX_DEPTH}")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise AmfError("too many AMF0 values")
        marker = self.take(1)[0]
        if marker == 0x00:
            return struct.unpack(">d", self.take(8))[0]
        if marker == 0x01:
            return bool(self.take(1)[0])
        if marker == 0x02:
            return self.short_string()
        if marker in (0x03, 0x08):
            if marker == 0x08:
                self.take(4)  # approximate count; the end marker is authoritative
            return self.properties(depth + 1)
        if marker in (0x05, 0x06):
            return None
        if marker == 0x0A:
            count = struct.unpack(">I", self.take(4))[0]
            if count > MAX_ITEMS:
                raise AmfError(f"AMF0 strict array of {count} items")
            return [self.value(depth + 1) for _ in range(count)]
        if marker == 0x0B:
            self.take(10)
            return None
        if marker == 0x0C:
            return self.take(struct.unpack(">I", self.take(4))[0])
        raise AmfError(f"unsupported AMF0 marker {marker:#x}")

    def properties(self, depth: int) -> list[tuple[bytes, Any]]:
        out: list[tuple[bytes, Any]] = []
        while True:
            if self.pos + 3 <= len(self.data) and self.data[self.pos:self.pos + 3] == b"\x00\x00\x09":
                self.pos += 3
                return out
            if self.pos >= len(self.data):
                return out  # missing end marker: common in truncated files, keep what we have
            key = self.short_string()
            out.append((key, self.value(depth)))


def _collect(props: list[tuple[bytes, Any]], result: ReadResult, where: str) -> None:
    for key, value in props:
        if key.upper() in (b"AIGC", b"TC260:AIGC"):
            if isinstance(value, bytes):
                result.found.append(Found(value, f"{where}.{key.decode('latin-1')}"))
            elif isinstance(value, list):
                from vidlens.govern.label import Problem

                result.problems.append(Problem("not_string", f"{where}.AIGC is an AMF0 object, not a string"))


class FlvCodec(LabelCodec):
    name = "flv"
    extensions = (".flv",)
    manifest = PluginManifest(name, "1", "label_codec", "FLV: the label in the onMetaData script tag.")

    def sniff(self, head: bytes) -> bool:
        return head[:3] == b"FLV"

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        head = read_exact(f, 9)
        if head is None:
            result.corrupt("truncated FLV header")
            return result
        pos = struct.unpack(">I", head[5:9])[0] + 4  # header, then PreviousTagSize0
        while pos + 11 <= size:
            f.seek(pos)
            tag = read_exact(f, 11)
            if tag is None:
                break
            kind = tag[0] & 0x1F
            length = int.from_bytes(tag[1:4], "big")
            if pos + 11 + length > size:
                result.corrupt(f"tag at {pos} runs past the end of the file")
                break
            if kind == 18:
                if length > MAX_SCRIPT:
                    result.corrupt(f"script tag of {length} bytes (limit {MAX_SCRIPT})")
                else:
                    self._script(f.read(length), result, pos)
            pos += 11 + length + 4
        return result

    def _script(self, body: bytes, result: ReadResult, pos: int) -> None:
        amf = _Amf(body)
        try:
            name = amf.value(0)
            if name != b"onMetaData":
                return
            value = amf.value(0)
        except (AmfError, struct.error) as exc:
            result.corrupt(f"script tag at {pos}: {exc}")
            return
        if isinstance(value, list) and all(isinstance(p, tuple) for p in value):
            _collect(value, result, "onMetaData")

    def write(self, src: Path, dst: Path, value: str) -> None:
        remux_with_tag(src, dst, value, "flv")

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.flv", ["-c:v", "libx264", "-c:a", "aac", "-ar", "44100"])]
