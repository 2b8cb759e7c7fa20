"""ISO-BMFF (MP4/MOV/3GP) boxes: the one walker VidLens reads and rewrites MP4 structure with.

A box is ``size`` (32 bits; 1 = a 64-bit ``largesize`` follows, 0 = "to the end of the
parent") and a four-character type, then its payload. Sizes come from the file and are
never trusted: a box that claims more than its parent holds stops the walk, reported
through ``on_corrupt`` when reading and raised as ``CorruptMediaError`` when ``strict``
(a writer must not lose what followed it). Only headers are read from the file, so a
multi-gigabyte ``mdat`` is never loaded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from vidlens.errors import CorruptMediaError

OnCorrupt = Callable[[str], None]


@dataclass(slots=True)
class Box:
    type: bytes
    start: int  # offset of the header
    header: int  # header length (8 or 16)
    size: int  # total size, header included

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def body(self) -> int:
        """Offset of the payload."""
        return self.start + self.header


def box_header(data: bytes | bytearray | memoryview, pos: int, end: int) -> tuple[bytes, int, int] | None:
    """(type, total size, header length) of the box at ``pos``, or None when it does not fit in ``end``.

    The one place box headers are decoded: 32-bit sizes, 64-bit ``largesize`` and size 0.
    """
    if pos + 8 > end:
        return None
    size, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if size == 1:
        if pos + 16 > end:
            return None
        size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
    elif size == 0:
        size = end - pos
    if size < header or pos + size > end:
        return None
    return bytes(kind), size, header


def iter_boxes(data: bytes | bytearray | memoryview, start: int, end: int, on_corrupt: OnCorrupt | None = None,
               *, strict: bool = False) -> list[Box]:
    """Boxes laid end to end in ``data[start:end]``; a malformed one stops the walk."""
    boxes: list[Box] = []
    pos = start
    while pos + 8 <= end:
        parsed = box_header(data, pos, end)
        if parsed is None:
            message = f"box {bytes(data[pos + 4:pos + 8])!r} at {pos} has a size beyond its parent"
            if strict:
                raise CorruptMediaError(message + "; the structure is not rewritten")
            if on_corrupt is not None:
                on_corrupt(message)
            break
        kind, size, header = parsed
        boxes.append(Box(kind, pos, header, size))
        pos += size
    return boxes


def top_level_boxes(f: BinaryIO, size: int, on_corrupt: OnCorrupt | None = None) -> list[Box]:
    """The file's top-level boxes, reading only their headers."""
    boxes: list[Box] = []
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(min(16, size - pos))
        parsed = box_header(head, 0, size - pos) if len(head) >= 8 else None
        if parsed is None:
            if on_corrupt is not None:
                on_corrupt(f"top-level box {head[4:8]!r} at {pos} has a size beyond the file")
            break
        kind, box_size, header = parsed
        boxes.append(Box(kind, pos, header, box_size))
        pos += box_size
    return boxes
