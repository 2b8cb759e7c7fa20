"""MP4/MOV: ``moov/udta/meta`` with QuickTime ``keys`` + ``ilst`` (``mdta`` handler).

This is what ``ffmpeg -movflags use_metadata_tags -metadata AIGC=...`` writes. We
also read an iTunes free-form ``----`` item named ``AIGC`` (written into an existing
``mdir`` meta, where ``keys`` cannot live). Writing rebuilds only ``moov``; the media
data is copied byte for byte, and when ``moov`` precedes ``mdat`` every chunk offset
(``stco``/``co64``) is shifted by the change in ``moov``'s size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import CorruptMediaError, UnsupportedMediaError
from vidlens.govern.codecs.base import MAX_DEPTH, Found, LabelCodec, ReadResult, read_exact

MAX_MOOV = 256 * 1024 * 1024
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf", b"mvex", b"ilst"}
_KEY = b"AIGC"


@dataclass(slots=True)
class Box:
    type: bytes
    start: int  # offset of the header
    header: int  # header length (8 or 16)
    size: int  # total size, header included

    @property
    def end(self) -> int:
        return self.start + self.size


def iter_boxes(data: bytes | memoryview, start: int, end: int, result: ReadResult | None = None) -> list[Box]:
    """Boxes laid end to end in ``data[start:end]``; a malformed one stops the walk (reported)."""
    boxes: list[Box] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            if result is not None:
                result.corrupt(f"box {kind!r} at {pos} has size {size} beyond its parent")
            break
        boxes.append(Box(bytes(kind), pos, header, size))
        pos += size
    return boxes


def _top_level(f: BinaryIO, size: int, result: ReadResult | None = None) -> list[Box]:
    boxes: list[Box] = []
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = read_exact(f, 16 if pos + 16 <= size else 8)
        if head is None:
            break
        box_size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if box_size == 1 and len(head) == 16:
            box_size, header = struct.unpack_from(">Q", head, 8)[0], 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header or pos + box_size > size:
            if result is not None:
                result.corrupt(f"top-level box {kind!r} at {pos} has size {box_size} beyond the file")
            break
        boxes.append(Box(kind, pos, header, box_size))
        pos += box_size
    return boxes


def _meta_children_start(data: bytes | memoryview, meta: Box) -> int:
    """``meta`` is a full box in ISO files and a plain container in old QuickTime ones."""
    body = meta.start + meta.header
    if meta.size >= meta.header + 12 and bytes(data[body + 8:body + 12]) == b"hdlr":
        return body + 4  # version/flags present (ffmpeg, ISO)
    return body


def _handler(data: bytes | memoryview, children: list[Box]) -> bytes:
    for child in children:
        if child.type == b"hdlr" and child.size >= child.header + 12:
            return bytes(data[child.start + child.header + 8:child.start + child.header + 12])
    return b""


def _read_meta(data: bytes | memoryview, meta: Box, result: ReadResult, where: str) -> None:
    children = iter_boxes(data, _meta_children_start(data, meta), meta.end, result)
    keys: dict[int, bytes] = {}
    for child in children:
        if child.type == b"keys" and child.size >= child.header + 8:
            pos = child.start + child.header + 4
            count = struct.unpack_from(">I", data, pos)[0]
            pos += 4
            for index in range(1, count + 1):
                if pos + 8 > child.end:
                    result.corrupt(f"{where}/keys declares {count} entries but holds fewer")
                    break
                key_size = struct.unpack_from(">I", data, pos)[0]
                if key_size < 8 or pos + key_size > child.end:
                    result.corrupt(f"{where}/keys entry {index} has bad size {key_size}")
                    break
                keys[index] = bytes(data[pos + 8:pos + key_size])
                pos += key_size
    for child in children:
        if child.type != b"ilst":
            continue
        for item in iter_boxes(data, child.start + child.header, child.end, result):
            name = _item_name(data, item, keys, result)
            if name is None or name.upper() not in (_KEY, b"TC260:AIGC"):
                continue
            for value in _item_values(data, item, result):
                result.found.append(Found(value, f"{where}/ilst"))


def _item_name(data: bytes | memoryview, item: Box, keys: dict[int, bytes], result: ReadResult) -> bytes | None:
    if item.type == b"----":
        for sub in iter_boxes(data, item.start + item.header, item.end, result):
            if sub.type == b"name" and sub.size >= sub.header + 4:
                return bytes(data[sub.start + sub.header + 4:sub.end])
        return None
    index = struct.unpack(">I", item.type)[0]
    return keys.get(index)


def _item_values(data: bytes | memoryview, item: Box, result: ReadResult) -> list[bytes]:
    values = []
    for sub in iter_boxes(data, item.start + item.header, item.end, result):
        if sub.type == b"data" and sub.size >= sub.header + 8:
            values.append(bytes(data[sub.start + sub.header + 8:sub.end]))
    return values


def _walk(data: bytes | memoryview, box: Box, result: ReadResult, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        result.corrupt(f"boxes nested deeper than {MAX_DEPTH} at {path}")
        return
    for child in iter_boxes(data, box.start + box.header, box.end, result):
        child_path = f"{path}/{child.type.decode('latin-1')}"
        if child.type == b"meta":
            _read_meta(data, child, result, child_path)
        elif child.type in _CONTAINERS:
            _walk(data, child, result, child_path, depth + 1)


def _load_moov(f: BinaryIO, boxes: list[Box]) -> tuple[Box, bytes] | None:
    moovs = [b for b in boxes if b.type == b"moov"]
    if not moovs:
        return None
    moov = moovs[0]
    if moov.size > MAX_MOOV:
        raise UnsupportedMediaError(f"moov box is {moov.size} bytes (limit {MAX_MOOV})")
    f.seek(moov.start)
    data = read_exact(f, moov.size)
    if data is None:
        raise CorruptMediaError("file ends inside the moov box")
    return Box(moov.type, 0, moov.header, moov.size), data


class Mp4Codec(LabelCodec):
    name = "mp4"
    extensions = (".mp4", ".mov", ".m4v", ".m4a", ".3gp")

    def sniff(self, head: bytes) -> bool:
        return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"wide", b"free", b"mdat", b"skip")

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        boxes = _top_level(f, size, result)
        moovs = [b for b in boxes if b.type == b"moov"]
        if not moovs:
            result.corrupt("no moov box")
            return result
        if len(moovs) > 1:
            result.corrupt("more than one moov box")
        if moovs[0].size > MAX_MOOV:
            result.corrupt(f"moov box is {moovs[0].size} bytes (limit {MAX_MOOV})")
            return result
        f.seek(moovs[0].start)
        data = f.read(moovs[0].size)
        _walk(data, Box(b"moov", 0, moovs[0].header, len(data)), result, "moov", 0)
        return result

    def write(self, src: Path, dst: Path, value: str) -> None:
        size = src.stat().st_size
        with open(src, "rb") as f:
            boxes = _top_level(f, size)
            if not boxes or boxes[-1].end != size:
                raise CorruptMediaError(f"{src.name}: top-level boxes do not cover the file", path=str(src))
            loaded = _load_moov(f, boxes)
        if loaded is None:
            raise UnsupportedMediaError(f"{src.name}: no moov box (fragmented-only files are not supported)",
                                        path=str(src))
        moov_box, moov = loaded
        new_moov = _with_label(moov, moov_box, value.encode("utf-8"))
        delta = len(new_moov) - len(moov)
        top_moov = next(b for b in boxes if b.type == b"moov")
        media_after = any(b.type in (b"mdat", b"moof") and b.start > top_moov.start for b in boxes)
        if delta and media_after:
            if any(b.type == b"moof" for b in boxes):
                raise UnsupportedMediaError(f"{src.name}: fragmented MP4 with moov first cannot grow in place",
                                            path=str(src))
            new_moov = _shift_offsets(new_moov, delta, top_moov.start)
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            _copy_range(fin, fout, 0, top_moov.start)
            fout.write(new_moov)
            _copy_range(fin, fout, top_moov.end, size - top_moov.end)

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.mp4", ["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"]),
                make_sample(directory / "sample_tail.mov", ["-c:v", "libx264", "-c:a", "aac"])]


def _copy_range(fin: BinaryIO, fout: BinaryIO, start: int, length: int) -> None:
    fin.seek(start)
    remaining = length
    while remaining > 0:
        chunk = fin.read(min(remaining, 1 << 20))
        if not chunk:
            raise CorruptMediaError("file shrank while being copied")
        fout.write(chunk)
        remaining -= len(chunk)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _rebuild(data: bytes, box: Box, children_start: int, new_children: bytes) -> bytes:
    """``box`` with its children replaced (keeping any full-box prefix), always with a 32-bit header."""
    prefix = data[box.start + box.header:children_start]
    return _box(box.type, prefix + new_children)


def _with_label(moov: bytes, moov_box: Box, value: bytes) -> bytes:
    children = iter_boxes(moov, moov_box.header, len(moov))
    udta = next((c for c in children if c.type == b"udta"), None)
    if udta is None:
        new_udta = _box(b"udta", _new_meta(value))
    else:
        new_udta = _udta_with_label(moov, udta, value)
    parts = [moov[c.start:c.end] for c in children if c.type != b"udta"]
    parts.append(new_udta)
    return _box(b"moov", b"".join(parts))


def _udta_with_label(data: bytes, udta: Box, value: bytes) -> bytes:
    children = iter_boxes(data, udta.start + udta.header, udta.end)
    out: list[bytes] = []
    done = False
    for child in children:
        if child.type == b"meta" and not done:
            meta_children_start = _meta_children_start(data, child)
            sub = iter_boxes(data, meta_children_start, child.end)
            handler = _handler(data, sub)
            if handler == b"mdta":
                out.append(_rebuild(data, child, meta_children_start, _mdta_with_label(data, sub, value)))
                done = True
                continue
            if handler == b"mdir":
                out.append(_rebuild(data, child, meta_children_start, _mdir_with_label(data, sub, value)))
                done = True
                continue
        out.append(data[child.start:child.end])
    if not done:
        out.append(_new_meta(value))
    return _box(b"udta", b"".join(out))


def _data_box(value: bytes) -> bytes:
    return _box(b"data", struct.pack(">II", 1, 0) + value)


def _new_meta(value: bytes) -> bytes:
    hdlr = _box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
    keys = _box(b"keys", struct.pack(">II", 0, 1) + struct.pack(">I", 12) + b"mdta" + _KEY)
    ilst = _box(b"ilst", _box(struct.pack(">I", 1), _data_box(value)))
    return _box(b"meta", b"\0\0\0\0" + hdlr + keys + ilst)


def _mdta_with_label(data: bytes, children: list[Box], value: bytes) -> bytes:
    """Drop every existing AIGC key and its items, renumber the rest, append ours."""
    entries: list[tuple[bytes, bytes]] = []  # (namespace, name) in key order
    keys_box = next((c for c in children if c.type == b"keys"), None)
    if keys_box is not None:
        pos = keys_box.start + keys_box.header + 8
        while pos + 8 <= keys_box.end:
            key_size = struct.unpack_from(">I", data, pos)[0]
            if key_size < 8 or pos + key_size > keys_box.end:
                raise CorruptMediaError("meta/keys has an entry with a bad size")
            entries.append((data[pos + 4:pos + 8], data[pos + 8:pos + key_size]))
            pos += key_size
    renumber: dict[int, int] = {}
    kept: list[tuple[bytes, bytes]] = []
    for old, (ns, name) in enumerate(entries, start=1):
        if name.upper() in (_KEY, b"TC260:AIGC"):
            continue
        kept.append((ns, name))
        renumber[old] = len(kept)
    kept.append((b"mdta", _KEY))
    ours = len(kept)
    keys_payload = struct.pack(">II", 0, len(kept)) + b"".join(
        struct.pack(">I", 8 + len(name)) + ns + name for ns, name in kept)
    items: list[bytes] = []
    ilst_box = next((c for c in children if c.type == b"ilst"), None)
    if ilst_box is not None:
        for item in iter_boxes(data, ilst_box.start + ilst_box.header, ilst_box.end):
            old_index = struct.unpack(">I", item.type)[0]
            if old_index in renumber:
                items.append(_box(struct.pack(">I", renumber[old_index]), data[item.start + item.header:item.end]))
    items.append(_box(struct.pack(">I", ours), _data_box(value)))
    out: list[bytes] = []
    for child in children:
        if child.type == b"keys":
            continue
        if child.type == b"ilst":
            out.append(_box(b"keys", keys_payload))
            out.append(_box(b"ilst", b"".join(items)))
            continue
        out.append(data[child.start:child.end])
    if ilst_box is None:
        out.append(_box(b"keys", keys_payload))
        out.append(_box(b"ilst", b"".join(items)))
    return b"".join(out)


def _mdir_with_label(data: bytes, children: list[Box], value: bytes) -> bytes:
    """iTunes-style meta: replace/append a ``----`` item (mean com.apple.iTunes, name AIGC)."""
    freeform = _box(b"----", _box(b"mean", b"\0\0\0\0com.apple.iTunes") + _box(b"name", b"\0\0\0\0" + _KEY)
                    + _data_box(value))
    out: list[bytes] = []
    has_ilst = False
    for child in children:
        if child.type == b"ilst":
            has_ilst = True
            items = []
            for item in iter_boxes(data, child.start + child.header, child.end):
                if item.type == b"----" and (_item_name(data, item, {}, ReadResult()) or b"").upper() == _KEY:
                    continue
                items.append(data[item.start:item.end])
            items.append(freeform)
            out.append(_box(b"ilst", b"".join(items)))
        else:
            out.append(data[child.start:child.end])
    if not has_ilst:
        out.append(_box(b"ilst", freeform))
    return b"".join(out)


def _shift_offsets(moov: bytes, delta: int, moov_start: int) -> bytes:
    """Add ``delta`` to every stco/co64 chunk offset that points past the old moov."""
    buf = bytearray(moov)

    def visit(start: int, end: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise CorruptMediaError("moov nested too deeply")
        for box in iter_boxes(buf, start, end):
            if box.type in (b"trak", b"mdia", b"minf", b"stbl"):
                visit(box.start + box.header, box.end, depth + 1)
            elif box.type in (b"stco", b"co64"):
                body = box.start + box.header
                count = struct.unpack_from(">I", buf, body + 4)[0]
                width, fmt = (4, ">I") if box.type == b"stco" else (8, ">Q")
                if body + 8 + count * width > box.end:
                    raise CorruptMediaError(f"{box.type.decode()} declares more entries than it holds")
                for i in range(count):
                    at = body + 8 + i * width
                    offset = struct.unpack_from(fmt, buf, at)[0]
                    if offset > moov_start:
                        offset += delta
                    if width == 4 and not 0 <= offset < 1 << 32:
                        raise UnsupportedMediaError("chunk offset overflows stco after relabelling")
                    struct.pack_into(fmt, buf, at, offset)

    visit(8, len(buf), 0)
    return bytes(buf)

