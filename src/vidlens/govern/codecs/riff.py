"""RIFF (AVI, WAV): an ``AIGC`` sub-chunk of a ``LIST``/``INFO`` chunk.

Writing never moves media data: existing ``AIGC`` chunks are renamed to ``JUNK``
in place (same size, so every offset holds), and a new ``LIST``/``INFO`` carrying
the label is appended to the end of the RIFF, whose size field is patched. AVI
index offsets are relative to ``movi`` or absolute to data before the append, so
they stay valid. Multi-RIFF OpenDML files (``AVIX``) and RF64 are refused.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import CorruptMediaError, UnsupportedMediaError
from vidlens.govern.codecs.base import MAX_DEPTH, Found, LabelCodec, ReadResult, read_exact

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


class RiffCodec(LabelCodec):
    name = "riff"
    extensions = (".avi", ".wav")

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
            raise UnsupportedMediaError(f"{src.name}: data after the first RIFF (OpenDML AVIX?) is not supported",
                                        path=str(src))
        payload = value.encode("utf-8")
        sub = b"AIGC" + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")
        info = b"LIST" + struct.pack("<I", 4 + len(sub)) + b"INFO" + sub
        pad = b"\0" if riff_end & 1 else b""
        new_riff_size = riff_end + len(pad) + len(info) - 8
        if new_riff_size >= 1 << 32:
            raise UnsupportedMediaError(f"{src.name}: RIFF would exceed 4 GiB", path=str(src))
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.seek(riff_end)
            fout.truncate()
            fout.write(pad + info)
            fout.seek(4)
            fout.write(struct.pack("<I", new_riff_size))
            for pos, _ in hits:
                fout.seek(pos)
                fout.write(b"JUNK")

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.avi", ["-c:v", "mpeg4", "-c:a", "pcm_s16le"]),
                make_sample(directory / "sample.wav", ["-c:a", "pcm_s16le"], video=False)]
