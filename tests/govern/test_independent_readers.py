"""Labels as third-party readers see them: exiftool, ffprobe, mutagen and small standalone parsers.

Nothing here reads a label back with VidLens's own readers: every assertion is what a
validator that knows only the file formats would find. exiftool comes from Debian's
libimage-exiftool-perl, ffprobe from Debian's ffmpeg (the test set-up installs both).
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from vidlens.govern.codecs.samples import make_sample
from vidlens.govern.implicit import write_label
from vidlens.govern.label import new_label
from vidlens.media.ffmpeg import ffmpeg_exe

LABEL = new_label("1", "001191110102MAD55U9H0F10002", "clip-0001")
CHINESE = new_label("1", "北京某某科技有限公司", "生成-0001")


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:  # a test-environment defect, not a reason to skip
        pytest.fail(f"{name} is not installed (Debian package {package})")
    return found


@pytest.fixture(scope="module")
def exiftool() -> str:
    return _tool("exiftool", "libimage-exiftool-perl")


@pytest.fixture(scope="module")
def ffprobe() -> str:
    return _tool("ffprobe", "ffmpeg")


def exif(exiftool: str, path: Path, *args: str) -> dict[str, object]:
    out = subprocess.run([exiftool, "-j", "-G1", "-a", "-u", *args, str(path)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)[0]


def format_tags(ffprobe: str, path: Path) -> dict[str, str]:
    out = subprocess.run([ffprobe, "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["format"].get("tags", {})


# -- a standalone ISO-BMFF reader: just enough to list moov/udta/meta key-value pairs ------------------------

def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
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
    moov = next(b for b in _boxes(data, 0, len(data)) if b[0] == b"moov")
    metas = []
    for udta in (b for b in _boxes(data, moov[1], moov[2]) if b[0] == b"udta"):
        for _, start, end in (b for b in _boxes(data, udta[1], udta[2]) if b[0] == b"meta"):
            children = _boxes(data, start + 4, end)  # full box: version + flags first
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
                    for item, i_s, i_e in _boxes(data, s, e):
                        name = keys[struct.unpack(">I", item)[0] - 1] if handler == b"mdta" else item.decode("latin-1")
                        payload = next(data[d_s + 8:d_e] for k, d_s, d_e in _boxes(data, i_s, i_e) if k == b"data")
                        items.append((name, payload))
            metas.append((handler, items))
    return metas


def _with_legacy_itunes_label(src: Path, dst: Path) -> None:
    """``src`` (moov last, iTunes mdir meta) with an extra ``----`` AIGC item, as older writers stored it."""
    data = src.read_bytes()
    top = _boxes(data, 0, len(data))
    assert top[-1][0] == b"moov"
    freeform = _box(b"----", _box(b"mean", b"\0\0\0\0com.apple.iTunes") + _box(b"name", b"\0\0\0\0AIGC")
                    + _box(b"data", b"\0\0\0\1\0\0\0\0" + LABEL.to_json().encode()))

    def grow(start: int, end: int, path: list[bytes]) -> bytes:
        out = b""
        for kind, s, e in _boxes(data, start, end):
            head = data[s - 8:s]
            if kind == path[0] and len(path) == 1:
                body = data[s:e] + freeform
            elif kind == path[0]:
                skip = 4 if kind == b"meta" else 0
                body = data[s:s + skip] + grow(s + skip, e, path[1:])
            else:
                out += head + data[s:e]
                continue
            out += struct.pack(">I", 8 + len(body)) + head[4:8] + body
        return out

    moov_start = top[-1][1] - 8
    dst.write_bytes(data[:moov_start] + grow(moov_start, len(data), [b"moov", b"udta", b"meta", b"ilst"]))


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


@pytest.fixture(scope="module")
def mp4s(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("mp4")
    made = {"faststart.mp4": make_sample(d / "faststart.mp4", ["-c:v", "libx264", "-c:a", "aac", "-movflags",
                                                                "+faststart"]),
            "tail.mov": make_sample(d / "tail.mov", ["-c:v", "libx264", "-c:a", "aac"]),
            "tail.mp4": make_sample(d / "tail.mp4", ["-c:v", "libx264", "-c:a", "aac"])}
    _with_legacy_itunes_label(made["tail.mp4"], d / "legacy.mp4")
    made["legacy.mp4"] = d / "legacy.mp4"
    return made


@pytest.mark.parametrize("name", ["faststart.mp4", "tail.mov", "tail.mp4", "legacy.mp4"])
def test_mp4_label_is_the_mdta_key_every_reader_finds(mp4s: dict[str, Path], name: str, tmp_path: Path,
                                                      exiftool: str, ffprobe: str) -> None:
    out = tmp_path / ("labelled" + Path(name).suffix)
    write_label(mp4s[name], out, LABEL)
    value = LABEL.to_json()
    tags = exif(exiftool, out)
    assert tags.get("Keys:AIGC") == value  # the mdta key the TC260 guide reads
    assert not [k for k in tags if k.endswith(":AIGC") and k != "Keys:AIGC"]  # no iTunes ---- copy
    ff = format_tags(ffprobe, out)
    assert ff["AIGC"] == value and ff.get("title") == "keep-me" and ff.get("encoder", "").startswith("Lavf")
    metas = udta_metas(out)
    assert len(metas) == 1 and metas[0][0] == b"mdta"
    assert [v for k, v in metas[0][1] if k == "AIGC"] == [value.encode()]
    subprocess.run([ffprobe, "-v", "error", "-i", str(out)], check=True)


def test_chinese_producer_reads_back_as_utf8_everywhere(mp4s: dict[str, Path], tmp_path: Path, exiftool: str,
                                                        ffprobe: str) -> None:
    out = tmp_path / "zh.mp4"
    write_label(mp4s["faststart.mp4"], out, CHINESE)
    assert json.loads(str(exif(exiftool, out)["Keys:AIGC"]))["ContentProducer"] == "北京某某科技有限公司"
    assert json.loads(format_tags(ffprobe, out)["AIGC"])["ContentProducer"] == "北京某某科技有限公司"


def test_label_write_keeps_the_input_mode(mp4s: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    shutil.copyfile(mp4s["faststart.mp4"], src)
    for mode in (0o644, 0o640):
        src.chmod(mode)
        out = tmp_path / f"out-{mode:o}.mp4"
        write_label(src, out, LABEL)
        assert out.stat().st_mode & 0o777 == mode
    existing = tmp_path / "out-644.mp4"
    existing.chmod(0o600)  # an existing output keeps its own mode
    write_label(src, existing, LABEL)
    assert existing.stat().st_mode & 0o777 == 0o600


# -- RIFF --------------------------------------------------------------------------------------------------

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


@pytest.fixture(scope="module")
def avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("avi") / "s.avi", ["-c:v", "mpeg4", "-c:a", "pcm_s16le"])


@pytest.mark.parametrize("produce_id", ["clip-0001", "x" * 3000])  # fits the muxer's JUNK padding / moves movi
def test_avi_label_goes_into_the_one_info_list_before_movi(avi: Path, tmp_path: Path, produce_id: str,
                                                          exiftool: str, ffprobe: str) -> None:
    label = LABEL.replace(ProduceID=produce_id)
    out = tmp_path / "l.avi"
    write_label(avi, out, label)
    write_label(out, out, label)  # relabelling keeps one list, one label
    layout = riff_layout(out)
    names = [n for n, _ in layout]
    assert names.count("LIST:INFO") == 1 and names.index("LIST:INFO") < names.index("LIST:movi")
    assert dict(layout)["LIST:INFO"] == ["INAM", "ISFT", "AIGC"]
    tags = exif(exiftool, out, "-b")
    assert tags["RIFF:Title"] == "keep-me" and tags["RIFF:Unknown_AIGC"] == label.to_json()
    assert format_tags(ffprobe, out)["AIGC"] == label.to_json()
    decoded = subprocess.run([ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                              "stream=nb_read_frames", "-of", "csv=p=0", str(out)], capture_output=True, text=True,
                             check=True)
    assert decoded.stdout.strip() == "10" and decoded.stderr == ""


def test_avi_without_info_gets_one_before_movi_and_absolute_idx1_offsets_move(avi: Path, tmp_path: Path,
                                                                              ffprobe: str) -> None:
    data = bytearray(avi.read_bytes())
    info = data.find(b"LIST", 12 + 8 + struct.unpack_from("<I", data, 16)[0])
    assert data[info + 8:info + 12] == b"INFO"
    data[info:info + 4] = b"JUNK"  # no INFO list any more
    movi = data.find(b"movi")  # idx1 offsets are relative to this fourcc; make them absolute
    idx1 = data.find(b"idx1")
    for at in range(idx1 + 8 + 8, idx1 + 8 + struct.unpack_from("<I", data, idx1 + 4)[0], 16):
        struct.pack_into("<I", data, at, struct.unpack_from("<I", data, at)[0] + movi)
    bare = tmp_path / "bare.avi"
    bare.write_bytes(bytes(data))
    out = tmp_path / "l.avi"
    write_label(bare, out, LABEL.replace(ProduceID="y" * 3000))
    names = [n for n, _ in riff_layout(out)]
    assert names.count("LIST:INFO") == 1 and names.index("LIST:INFO") == names.index("LIST:movi") - 1
    new = out.read_bytes()
    new_idx1 = new.find(b"idx1")
    ckid, _, offset = struct.unpack_from("<4sII", new, new_idx1 + 8)
    assert new[offset:offset + 4] == ckid  # the first index entry still points at its chunk
    assert format_tags(ffprobe, out)["AIGC"].startswith('{"Label":"1"')
    subprocess.run([ffprobe, "-v", "error", "-i", str(out)], check=True, capture_output=True)


# -- MPEG-TS: ID3 timed metadata -------------------------------------------------------------------------

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


def _aigc_from_id3(tag: bytes) -> list[str]:
    from mutagen.id3 import ID3

    return [str(t) for f in ID3(io.BytesIO(tag)).getall("TXXX") if f.desc == "AIGC" for t in f.text]


def test_ts_label_is_timed_id3_for_ffprobe_and_id3_readers(tmp_path: Path, ffprobe: str) -> None:
    src = make_sample(tmp_path / "s.ts", ["-c:v", "libx264", "-c:a", "aac", "-f", "mpegts"])
    out = tmp_path / "l.ts"
    write_label(src, out, CHINESE)
    write_label(out, out, LABEL)
    streams = json.loads(subprocess.run([ffprobe, "-v", "error", "-show_entries", "stream=codec_type,codec_name",
                                         "-of", "json", str(out)], capture_output=True, text=True,
                                        check=True).stdout)["streams"]
    assert [s["codec_name"] for s in streams] == ["h264", "aac", "timed_id3"]
    payloads = ts_id3_payloads(out)
    assert len(payloads) == 1 and payloads[0].startswith(b"ID3\x04")  # HLS players read the PES payload as ID3
    assert _aigc_from_id3(payloads[0]) == [LABEL.to_json()]
    # FFmpeg's own demuxer hands the same tag on (it treats the first 5 bytes as a metadata AU-cell header)
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out), "-map", "0:d",
                          "-c", "copy", "-f", "data", "-"], capture_output=True, check=True).stdout
    assert LABEL.to_json().encode() in raw
