"""Hostile metadata and failing writes: never a crash, never a half-written original."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from vidlens.errors import CorruptMediaError, NotFoundError, PermissionDeniedError, UnsupportedMediaError
from vidlens.govern.codecs.mp4 import Mp4Codec
from vidlens.govern.codecs.png import PngCodec
from vidlens.govern.codecs.riff import RiffCodec
from vidlens.govern.codecs.ts import TsCodec
from vidlens.govern.implicit import read_label, write_label
from vidlens.govern.label import new_label

LABEL = new_label("1", "001191110102MAD55U9H0F10002", "clip-0001")
VALUE = LABEL.to_json().encode()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _codes(path: Path) -> list[str]:
    return [p.code for p in read_label(path).problems]


def test_two_labels_are_reported(tmp_path: Path) -> None:
    src = PngCodec().examples(tmp_path)[0]
    data = src.read_bytes()
    extra = _png_chunk(b"tEXt", b"AIGC\0" + VALUE) + _png_chunk(b"tEXt", b"AIGC\0" + VALUE)
    two = tmp_path / "two.png"
    two.write_bytes(data[:33] + extra + data[33:])
    report = read_label(two)
    assert report.count == 2 and "multiple_labels" in _codes(two)
    write_label(two, two, LABEL)
    assert read_label(two).count == 1


def test_oversized_and_lying_mp4_boxes(tmp_path: Path) -> None:
    ftyp = _box(b"ftyp", b"isom\0\0\0\0isom")
    lying = ftyp + struct.pack(">I4s", 0xFFFFFFF0, b"moov") + b"\0" * 32
    path = tmp_path / "lying.mp4"
    path.write_bytes(lying)
    assert "corrupt_container" in _codes(path)
    # a keys box whose entry count lies, and an ilst item pointing at no key
    keys = _box(b"keys", struct.pack(">II", 0, 1000) + struct.pack(">I", 12) + b"mdtaAIGC")
    ilst = _box(b"ilst", _box(struct.pack(">I", 1), _box(b"data", b"\0\0\0\1\0\0\0\0" + VALUE))
                + _box(struct.pack(">I", 9), _box(b"data", b"\0\0\0\1\0\0\0\0junk")))
    meta = _box(b"meta", b"\0\0\0\0" + _box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 12) + keys + ilst)
    path.write_bytes(ftyp + _box(b"moov", _box(b"udta", meta)))
    report = read_label(path)
    assert report.label == LABEL and "corrupt_container" in _codes(path)


def test_deeply_nested_boxes_are_cut_off(tmp_path: Path) -> None:
    inner = b""
    for _ in range(200):
        inner = _box(b"trak", inner)
    path = tmp_path / "deep.mp4"
    path.write_bytes(_box(b"ftyp", b"isom\0\0\0\0") + _box(b"moov", inner))
    assert "corrupt_container" in _codes(path)


def test_riff_chunk_sizes_that_lie(tmp_path: Path) -> None:
    body = b"WAVE" + b"LIST" + struct.pack("<I", 0x7FFFFFFF) + b"INFO"
    path = tmp_path / "lie.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert "corrupt_container" in _codes(path)


def test_invalid_utf8_label_value_is_reported(tmp_path: Path) -> None:
    wav = RiffCodec().examples(tmp_path)[1]
    data = wav.read_bytes()
    bad = b"\xff\xfe\x80{}"
    info = b"LIST" + struct.pack("<I", 4 + 8 + len(bad) + 1) + b"INFO" + b"AIGC" + struct.pack("<I", len(bad)) + bad
    info += b"\0"
    body = data[8:] + info
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert "bad_encoding" in _codes(path)


def test_unsupported_file_fails_before_touching_anything(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    with pytest.raises(UnsupportedMediaError):
        write_label(src, tmp_path / "out.txt", LABEL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_read_only_destination_fails_before_writing(tmp_path: Path) -> None:
    src = Mp4Codec().examples(tmp_path)[0]
    before = src.read_bytes()
    src.chmod(0o444)
    with pytest.raises(PermissionDeniedError):
        write_label(src, src, LABEL)
    assert src.read_bytes() == before


def test_read_only_directory_fails_before_writing(tmp_path: Path) -> None:
    src = Mp4Codec().examples(tmp_path)[0]
    ro = tmp_path / "ro"
    ro.mkdir()
    before = src.read_bytes()
    ro.chmod(0o555)
    try:
        with pytest.raises(PermissionDeniedError):
            write_label(src, ro / "out.mp4", LABEL)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)
    assert src.read_bytes() == before


def test_missing_output_directory_fails_before_writing(tmp_path: Path) -> None:
    src = PngCodec().examples(tmp_path)[0]
    with pytest.raises(NotFoundError):
        write_label(src, tmp_path / "nope" / "out.png", LABEL)
    assert not (tmp_path / "nope").exists()


def test_failed_write_leaves_original_and_no_temp(tmp_path: Path) -> None:
    made = tmp_path / "made"
    made.mkdir()
    src = Mp4Codec().examples(made)[0]
    target = tmp_path / "target.mp4"
    target.write_bytes(b"original contents")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(src.read_bytes()[:-50])  # truncated: top-level boxes no longer cover the file
    with pytest.raises(CorruptMediaError):
        write_label(broken, target, LABEL)
    assert target.read_bytes() == b"original contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "made", "target.mp4"]


def _untouched_after_failed_write(src: Path, tmp_path: Path, error: type[Exception]) -> None:
    before = src.read_bytes()
    out = tmp_path / "out" / ("labelled" + src.suffix)
    out.parent.mkdir(exist_ok=True)
    with pytest.raises(error):
        write_label(src, out, LABEL)
    assert src.read_bytes() == before and list(out.parent.iterdir()) == []


def test_mp4_tag_item_whose_size_lies_is_not_rewritten_away(tmp_path: Path) -> None:
    # Converting an iTunes meta must not silently lose the items behind a malformed one.
    src = Mp4Codec().examples(tmp_path)[0]
    data = bytearray(src.read_bytes())
    item = data.find(b"\xa9too")  # the encoder item in moov/udta/meta/ilst
    assert item > 0
    struct.pack_into(">I", data, item - 4, 0x7FFF)  # its size now runs past its parent
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    assert "corrupt_container" in _codes(bad)
    _untouched_after_failed_write(bad, tmp_path, CorruptMediaError)


def test_truncated_and_damaged_transport_streams(tmp_path: Path) -> None:
    src = TsCodec().examples(tmp_path)[0]
    data = src.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[: len(data) - 100])  # a partial last packet
    assert "corrupt_container" in _codes(cut)
    _untouched_after_failed_write(cut, tmp_path, CorruptMediaError)
    crc = bytearray(data)
    pmt = next(i for i in range(0, len(crc), 188) if crc[i + 1] & 0x40 and crc[i + 5] == 0x02)
    crc[pmt + 20] ^= 0xFF  # inside the PMT section: its CRC no longer matches
    bad = tmp_path / "badpmt.ts"
    bad.write_bytes(bytes(crc))
    assert "corrupt_container" in _codes(bad)
    _untouched_after_failed_write(bad, tmp_path, CorruptMediaError)


def test_riff_info_sub_chunk_whose_size_lies(tmp_path: Path) -> None:
    avi = RiffCodec().examples(tmp_path)[0]
    data = bytearray(avi.read_bytes())
    isft = data.find(b"ISFT")
    struct.pack_into("<I", data, isft + 4, 0x7FFFFF)
    bad = tmp_path / "bad.avi"
    bad.write_bytes(bytes(data))
    assert "corrupt_container" in _codes(bad)
    _untouched_after_failed_write(bad, tmp_path, CorruptMediaError)
