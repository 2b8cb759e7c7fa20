"""RIFF (AVI, WAV): an ``AIGC`` sub-chunk of the file's ``LIST``/``INFO`` chunk.

The label goes into the existing top-level INFO list (its other tags kept), or into a
new one placed where readers expect it: just before the media (``LIST movi`` in AVI,
``data`` in WAV). The list grows into the ``JUNK`` padding muxers leave beside it
(FFmpeg pads the AVI header to 1 KiB for exactly this), so usually nothing moves.
When there is no room the rest of the file moves up, and every absolute offset in it
is shifted: ``idx1`` entries when they are absolute, and the OpenDML super-index
(``indx``) and standard-index (``ix##``) base offsets; ``idx1`` offsets relative to
``movi`` need nothing. ``AIGC`` chunks anywhere else become ``JUNK`` in place (an INFO
list holding nothing else becomes ``JUNK`` whole), so a file never holds two labels.
Multi-RIFF OpenDML files (``AVIX``) and RF64 are refused. RIFF INFO text has no
declared character set, so only ASCII labels are written here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import CorruptMediaError, UnsupportedMediaError
from vidlens.govern.codecs.base import MAX_DEPTH, Found, LabelCodec, ReadResult, copy_range, read_exact
from vidlens.plugins import PluginManifest

MAX_CHUNK_VALUE = 1024 * 1024
_SKIP_LISTS = {b"movi", b"rec "}


def _chunks(f: BinaryIO, start: int, end: int, result: ReadResult, depth: int, where: str,
            hits: list[tuple[int, str]]) -> None:
    """Walk chunks in [start, end); record each ``AIGC`` chunk's header offset in ``hits``."""
    if depth > MAX_DEPTH:
        result.corrupt(f"LIST chunks nested deeper than {MAX_DEPTH}")
        return
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = read_exact(f, 8)
        if head is None:
            result.corrupt(f"truncated chunk header at {pos}")
            return
        ident, size = head[:4], struct.unpack("<I", head[4:])[0]
        if pos + 8 + size > end:
            result.corrupt(f"chunk {ident!r} at {pos} has size {size} beyond its parent")
            return
        if ident == b"LIST" and size >= 4:
            list_type = f.read(4)
            if list_type not in _SKIP_LISTS:
                _chunks(f, pos + 12, pos + 8 + size, result, depth + 1,
                        f"{where}/LIST:{list_type.decode('latin-1')}", hits)
        elif ident == b"AIGC":
            if size > MAX_CHUNK_VALUE:
                result.corrupt(f"AIGC chunk of {size} bytes (limit {MAX_CHUNK_VALUE})")
            else:
                result.found.append(Found(f.read(size).rstrip(b"\0"), f"{where}/AIGC"))
                hits.append((pos, where))
        pos += 8 + size + (size & 1)


def _scan(f: BinaryIO, size: int) -> tuple[ReadResult, list[tuple[int, str]], int]:
    result = ReadResult()
    hits: list[tuple[int, str]] = []
    head = read_exact(f, 12)
    if head is None or head[:4] != b"RIFF":
        result.corrupt("no RIFF header")
        return result, hits, 0
    riff_size = struct.unpack("<I", head[4:8])[0]
    riff_end = 8 + riff_size
    if riff_end > size:
        result.corrupt(f"RIFF size {riff_size} runs past the end of the file")
        riff_end = size
    _chunks(f, 12, riff_end, result, 0, head[8:12].decode("latin-1").strip(), hits)
    return result, hits, riff_end


@dataclass(slots=True)
class Chunk:
    ident: bytes
    list_type: bytes  # for LIST/RIFF, else b""
    pos: int  # offset of the chunk header
    size: int  # the size field (without header and pad byte)

    @property
    def end(self) -> int:
        return self.pos + 8 + self.size + (self.size & 1)

    def is_list(self, list_type: bytes) -> bool:
        return self.ident == b"LIST" and self.list_type == list_type


def _top_chunks(f: BinaryIO, riff_end: int) -> list[Chunk]:
    chunks, pos = [], 12
    while pos + 8 <= riff_end:
        f.seek(pos)
        head = f.read(12)
        ident, size = head[:4], struct.unpack("<I", head[4:8])[0]
        chunks.append(Chunk(ident, head[8:12] if ident == b"LIST" else b"", pos, size))
        pos = chunks[-1].end
    return chunks


def _sub_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(id, data) of the sub-chunks of a LIST body (after its type), stopping at a malformed one."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        ident, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + size > len(data):
            break
        out.append((ident, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def _chunk(ident: bytes, data: bytes) -> bytes:
    return ident + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def _junk(total: int) -> bytes:
    return _chunk(b"JUNK", b"\0" * (total - 8))


def _info_list(kept: list[tuple[bytes, bytes]], value: bytes, fill: int = 0) -> bytes:
    """``LIST INFO`` with ``kept`` sub-chunks and the label as a NUL-terminated string (``fill`` extra NULs)."""
    return _chunk(b"LIST", b"INFO" + b"".join(_chunk(i, d) for i, d in kept) + _chunk(b"AIGC", value + b"\0" * (1 + fill)))


class RiffCodec(LabelCodec):
    name = "riff"
    extensions = (".avi", ".wav")
    manifest = PluginManifest(name, "1", "label_codec", "AVI/WAV: the label in a RIFF INFO chunk.")
    text_utf8 = False

    def sniff(self, head: bytes) -> bool:
        return head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"WAVE")

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        return _scan(f, size)[0]

    def write(self, src: Path, dst: Path, value: str) -> None:
        size = src.stat().st_size
        with open(src, "rb") as f:
            result, hits, riff_end = _scan(f, size)
            if any(p.code == "corrupt_container" for p in result.problems):
                raise CorruptMediaError(f"{src.name}: {result.problems[0].message}", path=str(src))
            if riff_end + (riff_end & 1) < size:
                raise UnsupportedMediaError(f"{src.name}: data after the first RIFF (OpenDML AVIX?) is not "
                                            "supported", path=str(src))
            f.seek(8)
            form = f.read(4)
            chunks = _top_chunks(f, riff_end)
            infos = [c for c in chunks if c.is_list(b"INFO")]
            bodies = {}
            for c in infos:
                f.seek(c.pos + 12)
                bodies[c.pos] = _sub_chunks(f.read(c.size - 4))
        plan = _plan(src, form, chunks, infos, bodies, value.encode("utf-8"))
        delta = plan.delta
        if riff_end + delta - 8 >= 1 << 32:
            raise UnsupportedMediaError(f"{src.name}: RIFF would exceed 4 GiB", path=str(src))
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            copy_range(fin, fout, 0, plan.start)
            fout.write(plan.replacement)
            copy_range(fin, fout, plan.end, size - plan.end)
            fout.seek(4)
            fout.write(struct.pack("<I", riff_end - 8 + delta))
            for pos in [p for p, _ in hits if not plan.start <= p < plan.end] + [c.pos for c in plan.junked]:
                fout.seek(pos + delta if pos >= plan.end else pos)
                fout.write(b"JUNK")
        if delta and form == b"AVI ":
            _shift_avi_offsets(dst, plan.end, delta)

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.avi", ["-c:v", "mpeg4", "-c:a", "pcm_s16le"]),
                make_sample(directory / "sample.wav", ["-c:a", "pcm_s16le"], video=False)]


@dataclass(slots=True)
class Plan:
    """Replace ``src[start:end]`` with ``replacement``; ``junked`` label-only INFO lists become JUNK."""

    start: int
    end: int
    replacement: bytes
    junked: list[Chunk] = field(default_factory=list)

    @property
    def delta(self) -> int:
        return len(self.replacement) - (self.end - self.start)


def _plan(src: Path, form: bytes, chunks: list[Chunk], infos: list[Chunk],
          bodies: dict[int, list[tuple[bytes, bytes]]], value: bytes) -> Plan:
    """Where the label's INFO list goes and what it replaces (the list itself and any JUNK right beside it)."""
    def is_label(ident: bytes) -> bool:
        return ident == b"AIGC"

    target = infos[0] if infos else None
    junked = [c for c in infos[1:] if all(is_label(i) or i == b"JUNK" for i, _ in bodies[c.pos])
              and any(is_label(i) for i, _ in bodies[c.pos])]
    if target is not None:
        kept = [(i, d) for i, d in bodies[target.pos] if not is_label(i) and i != b"JUNK"]
        start, end = target.pos, target.end
        after = next((c for c in chunks if c.pos == end), None)
        if after is not None and after.ident == b"JUNK":
            end = after.end
    else:
        media = b"movi" if form == b"AVI " else b"data"
        anchor = next((c for c in chunks if c.is_list(media) or (c.ident == media and form != b"AVI ")), None)
        if anchor is None and form == b"AVI ":
            raise CorruptMediaError(f"{src.name}: no LIST movi", path=str(src))
        kept = []
        start = end = anchor.pos if anchor is not None else chunks[-1].end if chunks else 12
        before = next((c for c in chunks if c.end == start), None)
        if before is not None and before.ident == b"JUNK":
            start = before.pos
    room = end - start
    info = _info_list(kept, value)
    spare = room - len(info)
    if spare == 0 or spare >= 8:
        replacement = info + (_junk(spare) if spare else b"")
    elif spare > 0:  # 2, 4 or 6 bytes: a few more NULs after the NUL-terminated label fill the room exactly
        replacement = _info_list(kept, value, fill=spare)
    else:
        replacement = info
    return Plan(start, end, replacement, junked)


def _shift_avi_offsets(path: Path, threshold: int, delta: int) -> None:
    """Add ``delta`` to every absolute file offset at or past ``threshold`` in an AVI whose tail moved.

    ``threshold`` and the offsets are positions in the original file; the chunks are
    found in the new one. Covers ``idx1`` (when its offsets are absolute) and the
    OpenDML ``indx`` super/standard indexes and the ``ix##`` chunks they point at.
    """
    def fix(value: int) -> int:
        return value + delta if value >= threshold else value

    with open(path, "r+b") as f:
        size = path.stat().st_size
        chunks = _top_chunks(f, size)
        movi = next((c for c in chunks if c.is_list(b"movi")), None)
        hdrl = next((c for c in chunks if c.is_list(b"hdrl")), None)
        idx1 = next((c for c in chunks if c.ident == b"idx1"), None)
        if idx1 is not None and movi is not None and idx1.size >= 16:
            f.seek(idx1.pos + 8)
            entries = bytearray(f.read(idx1.size - idx1.size % 16))
            first_id, _, first_offset = struct.unpack_from("<4sII", entries, 0)
            f.seek(first_offset + delta if first_offset >= threshold else first_offset)
            absolute = first_offset >= threshold and f.read(4) == first_id
            if absolute:
                for at in range(8, len(entries), 16):
                    struct.pack_into("<I", entries, at, fix(struct.unpack_from("<I", entries, at)[0]))
                f.seek(idx1.pos + 8)
                f.write(entries)
        if hdrl is None:
            return
        for indx_pos, indx_size in _find_chunks(f, hdrl.pos + 12, hdrl.end, b"indx"):
            _shift_index(f, indx_pos, indx_size, fix, delta, threshold)


def _find_chunks(f: BinaryIO, start: int, end: int, ident: bytes, depth: int = 0) -> list[tuple[int, int]]:
    found, pos = [], start
    while pos + 8 <= end and depth <= MAX_DEPTH:
        f.seek(pos)
        head = f.read(12)
        kind, size = head[:4], struct.unpack("<I", head[4:8])[0]
        if kind == ident:
            found.append((pos, size))
        elif kind == b"LIST":
            found += _find_chunks(f, pos + 12, min(end, pos + 8 + size), ident, depth + 1)
        pos += 8 + size + (size & 1)
    return found


def _shift_index(f: BinaryIO, pos: int, size: int, fix: Callable[[int], int], delta: int, threshold: int) -> None:
    """Shift an OpenDML index chunk: a super index's entry offsets (and the standard indexes they point at),
    or a standard index's base offset."""
    f.seek(pos + 8)
    head = f.read(24)
    if len(head) < 24:
        return
    longs, _, index_type, count = struct.unpack_from("<HBBI", head, 0)
    if index_type == 1:  # AVI_INDEX_OF_CHUNKS: qwBaseOffset at +12
        base = struct.unpack_from("<Q", head, 12)[0]
        f.seek(pos + 8 + 12)
        f.write(struct.pack("<Q", fix(base)))
        return
    if index_type != 0 or longs != 4:  # AVI_INDEX_OF_INDEXES with 16-byte entries
        return
    for i in range(min(count, (size - 24) // 16)):
        at = pos + 8 + 24 + 16 * i
        f.seek(at)
        offset = struct.unpack("<Q", f.read(8))[0]
        if offset == 0:
            continue
        f.seek(at)
        f.write(struct.pack("<Q", fix(offset)))
        sub = offset + delta if offset >= threshold else offset
        f.seek(sub)
        sub_head = f.read(8)
        if len(sub_head) == 8 and sub_head[:2] == b"ix":
            _shift_index(f, sub, struct.unpack("<I", sub_head[4:])[0], fix, delta, threshold)
