"""MP4/MOV: ``moov/udta/meta`` with QuickTime ``keys`` + ``ilst`` (``mdta`` handler).

This is the layout ``ffmpeg -movflags use_metadata_tags -metadata AIGC=...`` writes,
the one the TC260 video guide and independent validators read, and the only one
VidLens writes (``label write``, transcode and package all go through ``Mp4Codec``).
An iTunes-style ``mdir`` meta cannot hold a ``keys`` entry, so writing converts it:
each item becomes an ``mdta`` key (FFmpeg's tag name where it has one, else the
atom name) with its ``data`` boxes copied byte for byte, which is what FFmpeg
itself makes of those tags with ``use_metadata_tags``. Reading also accepts an
iTunes free-form ``----`` item named ``AIGC``. Writing rebuilds only ``moov``; the
media data is copied byte for byte, and when ``moov`` precedes ``mdat`` every
chunk offset (``stco``/``co64``) is shifted by the change in ``moov``'s size.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from vidlens.errors import CorruptMediaError, UnsupportedMediaError
from vidlens.govern.codecs.base import MAX_DEPTH, Found, LabelCodec, ReadResult, copy_range, read_exact
from vidlens.media.mp4boxes import Box, iter_boxes, top_level_boxes
from vidlens.plugins import PluginManifest

MAX_MOOV = 256 * 1024 * 1024
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf", b"mvex", b"ilst"}
_KEY = b"AIGC"
# iTunes item atom -> the tag name FFmpeg reads it as (and writes as an mdta key with use_metadata_tags).
ITUNES_NAMES = {b"\xa9nam": "title", b"\xa9ART": "artist", b"aART": "album_artist", b"\xa9alb": "album",
                b"\xa9cmt": "comment", b"\xa9day": "date", b"\xa9gen": "genre", b"\xa9too": "encoder",
                b"\xa9wrt": "composer", b"cprt": "copyright", b"\xa9cpy": "copyright", b"desc": "description",
                b"ldes": "synopsis", b"\xa9lyr": "lyrics", b"\xa9grp": "grouping", b"tvsh": "show",
                b"tven": "episode_id", b"tvnn": "network"}


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
    children = iter_boxes(data, _meta_children_start(data, meta), meta.end, result.corrupt)
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
        for item in iter_boxes(data, child.start + child.header, child.end, result.corrupt):
            name = _item_name(data, item, keys, result)
            if name is None or name.upper() not in (_KEY, b"TC260:AIGC"):
                continue
            for value in _item_values(data, item, result):
                result.found.append(Found(value, f"{where}/ilst"))


def _item_name(data: bytes | memoryview, item: Box, keys: dict[int, bytes], result: ReadResult) -> bytes | None:
    if item.type == b"----":
        for sub in iter_boxes(data, item.start + item.header, item.end, result.corrupt):
            if sub.type == b"name" and sub.size >= sub.header + 4:
                return bytes(data[sub.start + sub.header + 4:sub.end])
        return None
    index = struct.unpack(">I", item.type)[0]
    return keys.get(index)


def _item_values(data: bytes | memoryview, item: Box, result: ReadResult) -> list[bytes]:
    values = []
    for sub in iter_boxes(data, item.start + item.header, item.end, result.corrupt):
        if sub.type == b"data" and sub.size >= sub.header + 8:
            values.append(bytes(data[sub.start + sub.header + 8:sub.end]))
    return values


def _walk(data: bytes | memoryview, box: Box, result: ReadResult, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        result.corrupt(f"boxes nested deeper than {MAX_DEPTH} at {path}")
        return
    for child in iter_boxes(data, box.start + box.header, box.end, result.corrupt):
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
    manifest = PluginManifest(name, "1", "label_codec", "MP4/MOV: the label as an mdta key in moov/udta/meta.")

    def sniff(self, head: bytes) -> bool:
        return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"wide", b"free", b"mdat", b"skip")

    def read(self, f: BinaryIO, size: int) -> ReadResult:
        result = ReadResult()
        boxes = top_level_boxes(f, size, result.corrupt)
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
            boxes = top_level_boxes(f, size)
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
            copy_range(fin, fout, 0, top_moov.start)
            fout.write(new_moov)
            copy_range(fin, fout, top_moov.end, size - top_moov.end)

    def examples(self, directory: Path) -> list[Path]:
        from vidlens.govern.codecs.samples import make_sample

        return [make_sample(directory / "sample.mp4", ["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"]),
                make_sample(directory / "sample_tail.mov", ["-c:v", "libx264", "-c:a", "aac"])]


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _with_label(moov: bytes, moov_box: Box, value: bytes) -> bytes:
    """``moov`` whose ``udta/meta`` holds ``value`` as the only AIGC key (a ``moov/meta`` loses any AIGC key)."""
    children = iter_boxes(moov, moov_box.header, len(moov), strict=True)
    udta = next((c for c in children if c.type == b"udta"), None)
    parts = []
    for child in children:
        if child.type == b"udta":
            continue
        if child.type == b"meta":
            parts.append(_meta_with(moov, child, None) or moov[child.start:child.end])
        else:
            parts.append(moov[child.start:child.end])
    parts.append(_box(b"udta", _meta_items_box([], value)) if udta is None else _udta_with_label(moov, udta, value))
    return _box(b"moov", b"".join(parts))


def _udta_with_label(data: bytes, udta: Box, value: bytes) -> bytes:
    out: list[bytes] = []
    done = False
    for child in iter_boxes(data, udta.start + udta.header, udta.end, strict=True):
        if child.type == b"meta" and not done:
            rebuilt = _meta_with(data, child, value)
            if rebuilt is not None:
                out.append(rebuilt)
                done = True
                continue
        out.append(data[child.start:child.end])
    if not done:
        out.append(_meta_items_box([], value))
    return _box(b"udta", b"".join(out))


def _meta_with(data: bytes, meta: Box, value: bytes | None) -> bytes | None:
    """An ``mdta`` meta holding ``meta``'s tags minus every AIGC one, plus ``value`` when given.

    None when ``meta`` holds no tag list (another handler), which is then left alone.
    """
    start = _meta_children_start(data, meta)
    children = iter_boxes(data, start, meta.end, strict=True)
    handler = _handler(data, children)
    if handler not in (b"mdta", b"mdir"):
        return None
    items = _mdta_items(data, children) if handler == b"mdta" else _mdir_items(data, children)
    kept = [(name, payload) for name, payload in items if name.upper() not in (_KEY, b"TC260:AIGC")]
    others = [data[c.start:c.end] for c in children if c.type not in (b"hdlr", b"keys", b"ilst")]
    return _meta_items_box(kept, value, b"".join(others), prefix=data[meta.start + meta.header:start])


def _meta_items_box(items: list[tuple[bytes, bytes]], value: bytes | None, others: bytes = b"",
                    prefix: bytes = b"\0\0\0\0") -> bytes:
    """``meta`` with an ``mdta`` handler: one ``keys`` entry and one ``ilst`` item per (name, data boxes)."""
    if value is not None:
        items = [*items, (_KEY, _data_box(value))]
    hdlr = _box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
    keys = _box(b"keys", struct.pack(">II", 0, len(items)) + b"".join(
        struct.pack(">I", 8 + len(name)) + b"mdta" + name for name, _ in items))
    ilst = _box(b"ilst", b"".join(_box(struct.pack(">I", index), payload)
                                  for index, (_, payload) in enumerate(items, start=1)))
    return _box(b"meta", prefix + hdlr + others + keys + ilst)


def _data_box(value: bytes) -> bytes:
    return _box(b"data", struct.pack(">II", 1, 0) + value)


def _mdta_items(data: bytes, children: list[Box]) -> list[tuple[bytes, bytes]]:
    """(key name, item payload) of an ``mdta`` meta, in ``ilst`` order; items without a key are dropped."""
    names: dict[int, bytes] = {}
    keys_box = next((c for c in children if c.type == b"keys"), None)
    if keys_box is not None:
        pos = keys_box.start + keys_box.header + 8
        index = 1
        while pos + 8 <= keys_box.end:
            key_size = struct.unpack_from(">I", data, pos)[0]
            if key_size < 8 or pos + key_size > keys_box.end:
                raise CorruptMediaError("meta/keys has an entry with a bad size")
            names[index] = data[pos + 8:pos + key_size]
            pos += key_size
            index += 1
    items = []
    for ilst in (c for c in children if c.type == b"ilst"):
        for item in iter_boxes(data, ilst.start + ilst.header, ilst.end, strict=True):
            name = names.get(struct.unpack(">I", item.type)[0])
            if name is not None:
                items.append((name, data[item.start + item.header:item.end]))
    return items


def _mdir_items(data: bytes, children: list[Box]) -> list[tuple[bytes, bytes]]:
    """(key name, ``data`` boxes) of an iTunes ``mdir`` meta, named as FFmpeg names these tags."""
    items = []
    for ilst in (c for c in children if c.type == b"ilst"):
        for item in iter_boxes(data, ilst.start + ilst.header, ilst.end, strict=True):
            subs = iter_boxes(data, item.start + item.header, item.end, strict=True)
            payload = b"".join(data[b.start:b.end] for b in subs if b.type == b"data")
            if item.type == b"----":
                name = _item_name(data, item, {}, ReadResult())
                if name:
                    items.append((name, payload))
            else:
                items.append((ITUNES_NAMES.get(item.type, item.type.decode("latin-1")).encode("utf-8"), payload))
    return items


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

