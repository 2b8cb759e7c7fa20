"""Matroska/WebM: ``Segment/Tags/Tag/SimpleTag`` with ``TagName=AIGC``.

The reader is an EBML walker that skips Clusters by size (or, for live files with
unknown-size Clusters, by scanning to the next top-level element) so it touches
only headers. Writing remuxes with FFmpeg (see ``remux``).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from vidlens.govern.codecs.base import MAX_DEPTH, Found, LabelCodec, ReadResult, read_exact
from vidlens.govern.codecs.remux import remux_with_tag
from vidlens.plugins import PluginManifest

EBML, SEGMENT, TAGS, TAG, SIMPLE_TAG = 0x1A45DFA3, 0x18538067, 0x1254C367, 0x7373, 0x67C8
TAG_NAME, TAG_STRING, TAG_BINARY, CLUSTER = 0x45A3, 0x4487, 0x4485, 0x1F43B675
_LEVEL1 = {0x114D9B74, 0x1549A966, 0x1654AE6B, CLUSTER, 0x1C53BB6B, 0x1941A469, 0x1043A770, TAGS}
MAX_TAGS_SIZE = 16 * 1024 * 1024
_UNKNOWN = -1


def _vint(f: BinaryIO, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of an EBML variable-size integer; None at EOF or an invalid lead byte."""
    first = f.read(1)
    if not first:
        return None
    b = first[0]
    length = 1
    mask = 0x80
    while length <= 8 and not b & mask:
        mask >>= 1
        length += 1
    if length > 8:
        return None
    rest = read_exact(f, length - 1)
    if rest is None:
        return None
    value = b if keep_marker else b & (mask - 1)
    all_ones = (b & (mask - 1)) == mask - 1 and all(x == 0xFF for x in rest)
    for x in rest:
        value = (value << 8) | x
    if not keep_marker and all_ones:
        return _UNKNOWN, length
    return value, length


def _header(f: BinaryIO) -> tuple[int, int, int] | None:
    """(id, size or _UNKNOWN, header length) of the element at the current position."""
    ident = _vint(f, keep_marker=True)
    if ident is None or ident[1] > 4:
        return None
    size = _vint(f, keep_marker=False)
    if size is None:
        return None
    return ident[0], size[0], ident[1] + size[1]


def _parse_tags(data: bytes, result: ReadResult, depth: int, where: str) -> None:
    """Walk an in-memory Tags element body, collecting SimpleTag AIGC values."""
    import io

    f = io.BytesIO(data)
    end = len(data)
    while f.tell() < end:
        start = f.tell()
        head = _header(f)
        if head is None or head[1] == _UNKNOWN or f.tell() + head[1] > end:
            result.corrupt(f"bad element inside {where} at +{start}")
            return
        ident, size, _ = head
        body = f.read(size)
        if ident in (TAG, SIMPLE_TAG):
            if depth >= MAX_DEPTH:
                result.corrupt(f"tags nested deeper than {MAX_DEPTH}")
                return
            if ident == SIMPLE_TAG:
                _simple_tag(body, result, depth + 1, where)
            else:
                _parse_tags(body, result, depth + 1, where + "/Tag")


def _simple_tag(data: bytes, result: ReadResult, depth: int, where: str) -> None:
    import io

    f = io.BytesIO(data)
    name: bytes | None = None
    value: bytes | None = None
    while f.tell() < len(data):
        head = _header(f)
        if head is None or head[1] == _UNKNOWN or f.tell() + head[1] > len(data):
            result.corrupt(f"bad element inside {where}/SimpleTag")
            return
        ident, size, _ = head
        body = f.read(size)
        if ident == TAG_NAME:
            name = body
        elif ident in (TAG_STRING, TAG_BINARY):
            value = body
        elif ident == SIMPLE_TAG:
            if depth >= MAX_DEPTH:
                result.corrupt(f"SimpleTag nested deeper than {MAX_DEPTH}")
                return
            _simple_tag(body, result, depth + 1, where + "/SimpleTag")
    if name is not None and name.rstrip(b"\0").upper() in (b"AIGC", b"TC260:AIGC") and value is not None:
        result.found.append(Found(value.rstrip(b"\0"), where + "/SimpleTag"))


def _skip_unknown_cluster(f: BinaryIO, size: int) -> bool:
    """Advance past an unknown-size Cluster: stop before the next top-level element."""
    while f.tell() < size:
        start = f.tell()
        head = _header(f)
        if head is None:
            return False
        ident, child_size, _ = head
        if ident in _LEVEL1:
            f.seek(start)
            return True
        if child_size == _UNKNOWN:
            return False
        f.seek(f.tell() + child_size)
    return True


class MkvCodec(LabelCodec):
    name = "matroska"
    extensions = (".mkv", ".webm", ".mka", ".mk3d")
    manifest = PluginManifest(name, "1", "label_codec", "Matroska/WebM: the label as a SimpleTag AIGC.")

    def sniff(self, head: bytes) -> bool:
        return head[:4] == b"\x1a\x45\xdf\xa3"

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        head = _header(f)
        if head is None or head[0] != EBML or head[1] == _UNKNOWN:
            result.corrupt("no EBML header")
            return result
        f.seek(f.tell() + head[1])
        while f.tell() < size:
            head = _header(f)
            if head is None:
                result.corrupt("truncated element header at top level")
                break
            ident, seg_size, _ = head
            if ident != SEGMENT:
                if seg_size == _UNKNOWN:
                    break
                f.seek(f.tell() + seg_size)
                continue
            seg_end = size if seg_size == _UNKNOWN else min(size, f.tell() + seg_size)
            if seg_size != _UNKNOWN and f.tell() + seg_size > size:
                result.corrupt("Segment extends beyond the end of the file")
            self._segment(f, seg_end, result)
        return result

    def _segment(self, f: BinaryIO, end: int, result: ReadResult) -> None:
        while f.tell() < end:
            start = f.tell()
            head = _header(f)
            if head is None:
                result.corrupt(f"bad element header in Segment at {start}")
                return
            ident, size, _ = head
            if size == _UNKNOWN:
                if ident == CLUSTER and _skip_unknown_cluster(f, end):
                    continue
                result.corrupt(f"unknown-size element {ident:#x} at {start}")
                return
            if f.tell() + size > end:
                result.corrupt(f"element {ident:#x} at {start} extends beyond the Segment")
                return
            if ident == TAGS:
                if size > MAX_TAGS_SIZE:
                    result.corrupt(f"Tags element of {size} bytes (limit {MAX_TAGS_SIZE})")
                    f.seek(f.tell() + size)
                    continue
                _parse_tags(f.read(size), result, 0, "Segment/Tags")
            else:
                f.seek(f.tell() + size)

    def write(self, src: Path, dst: Path, value: str) -> None:
        with open(src, "rb") as f:
            head = f.read(64)
        muxer = "webm" if b"webm" in head else "matroska"
        remux_with_tag(src, dst, value, muxer)

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.mkv", ["-c:v", "libx264", "-c:a", "flac"]),
                make_sample(directory / "sample.webm", ["-c:v", "libvpx", "-c:a", "libopus", "-b:v", "100k"])]
