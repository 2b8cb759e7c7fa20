"""Independent label readers for the tests: exiftool, ffprobe, mutagen and small standalone parsers.

None of this uses VidLens's own readers: it is what a validator that knows only the
file formats would find. exiftool comes from Debian's libimage-exiftool-perl, ffprobe
from Debian's ffmpeg.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:  # a test-environment defect, not a reason to skip
        pytest.fail(f"{name} is not installed (Debian package {package})")
    return found


def exif(exiftool: str, path: Path, *args: str) -> dict[str, object]:
    out = subprocess.run([exiftool, "-j", "-G1", "-a", "-u", *args, str(path)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)[0]


def format_tags(ffprobe: str, path: Path) -> dict[str, str]:
    out = subprocess.run([ffprobe, "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["format"].get("tags", {})


# -- a standalone ISO-BMFF reader: just enough to list moov/udta/meta key-value pairs ------------------------

def boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def udta_metas(path: Path) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """(handler, [(key, first data payload)]) for each moov/udta/meta, as the TC260 guide reads them."""
    data = path.read_bytes()
    moov = next(b for b in boxes(data, 0, len(data)) if b[0] == b"moov")
    metas = []
    for udta in (b for b in boxes(data, moov[1], moov[2]) if b[0] == b"udta"):
        for _, start, end in (b for b in boxes(data, udta[1], udta[2]) if b[0] == b"meta"):
            children = boxes(data, start + 4, end)  # full box: version + flags first
            handler = next(data[s + 8:s + 12] for k, s, _ in children if k == b"hdlr")
            keys: list[str] = []
            items: list[tuple[str, bytes]] = []
            for kind, s, e in children:
                if kind == b"keys":
                    pos = s + 8
                    for _ in range(struct.unpack_from(">I", data, s + 4)[0]):
                        size = struct.unpack_from(">I", data, pos)[0]
                        assert data[pos + 4:pos + 8] == b"mdta"
                        keys.append(data[pos + 8:pos + size].decode("utf-8"))
                        pos += size
                if kind == b"ilst":
                    for item, i_s, i_e in boxes(data, s, e):
                        name = keys[struct.unpack(">I", item)[0] - 1] if handler == b"mdta" else item.decode("latin-1")
                        payload = next(data[d_s + 8:d_e] for k, d_s, d_e in boxes(data, i_s, i_e) if k == b"data")
                        items.append((name, payload))
            metas.append((handler, items))
    return metas


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def riff_layout(path: Path) -> list[tuple[str, list[str]]]:
    """Top-level chunks (LIST shown as LIST:type) with the sub-chunk ids of each INFO list."""
    data = path.read_bytes()
    out, pos = [], 12
    while pos + 8 <= len(data):
        ident, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        name, subs = ident.decode("latin-1"), []
        if ident == b"LIST":
            name += ":" + data[pos + 8:pos + 12].decode("latin-1")
            if data[pos + 8:pos + 12] == b"INFO":
                sub = pos + 12
                while sub + 8 <= pos + 8 + size:
                    sub_size = struct.unpack_from("<I", data, sub + 4)[0]
                    subs.append(data[sub:sub + 4].decode("latin-1"))
                    sub += 8 + sub_size + (sub_size & 1)
        out.append((name, subs))
        pos += 8 + size + (size & 1)
    return out


def ts_id3_payloads(path: Path) -> list[bytes]:
    """A standalone demuxer: PAT → PMT → PES payloads of stream_type 0x15 streams."""
    data = path.read_bytes()
    packets = [data[i:i + 188] for i in range(0, len(data) - 187, 188)]

    def payload(p: bytes) -> bytes:
        start = 4 + (1 + p[4] if p[3] & 0x20 else 0)
        return p[start:]

    pid = lambda p: ((p[1] & 0x1F) << 8) | p[2]  # noqa: E731
    pat = payload(next(p for p in packets if pid(p) == 0 and p[1] & 0x40))
    pat = pat[1 + pat[0]:]
    pmt_pid = struct.unpack_from(">H", pat, 10)[0] & 0x1FFF
    pmt = payload(next(p for p in packets if pid(p) == pmt_pid and p[1] & 0x40))
    pmt = pmt[1 + pmt[0]:]
    end = 3 + (((pmt[1] & 0x0F) << 8) | pmt[2]) - 4
    pos = 12 + (struct.unpack_from(">H", pmt, 10)[0] & 0x0FFF)
    id3_pids = set()
    while pos < end:
        stype, es_pid, es_len = pmt[pos], struct.unpack_from(">H", pmt, pos + 1)[0] & 0x1FFF, \
            struct.unpack_from(">H", pmt, pos + 3)[0] & 0x0FFF
        if stype == 0x15:
            id3_pids.add(es_pid)
        pos += 5 + es_len
    pes: list[bytearray] = []
    for p in packets:
        if pid(p) in id3_pids:
            if p[1] & 0x40:
                pes.append(bytearray())
            pes[-1] += payload(p)
    return [bytes(x[9 + x[8]:6 + struct.unpack_from(">H", x, 4)[0]]) for x in pes]


def aigc_from_id3(tag: bytes) -> list[str]:
    from mutagen.id3 import ID3

    return [str(t) for f in ID3(io.BytesIO(tag)).getall("TXXX") if f.desc == "AIGC" for t in f.text]


def master_session_data(master: Path) -> dict[str, object]:
    """DATA-ID -> the JSON its URI points at, for every EXT-X-SESSION-DATA of an HLS master playlist."""
    out = {}
    for line in master.read_text().splitlines():
        if line.startswith("#EXT-X-SESSION-DATA:"):
            attrs = dict(a.split("=", 1) for a in line.split(":", 1)[1].split(","))
            out[attrs["DATA-ID"].strip('"')] = json.loads((master.parent / attrs["URI"].strip('"')).read_text())
    return out
