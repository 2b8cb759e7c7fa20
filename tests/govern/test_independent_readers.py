"""Labels written by ``label write`` as third-party readers see them (see ``readers.py``)."""

from __future__ import annotations

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

from .readers import aigc_from_id3, box, boxes, exif, format_tags, riff_layout, ts_id3_payloads, udta_metas

LABEL = new_label("1", "001191110102MAD55U9H0F10002", "clip-0001")
CHINESE = new_label("1", "北京某某科技有限公司", "生成-0001")


def _with_legacy_itunes_label(src: Path, dst: Path) -> None:
    """``src`` (moov last, iTunes mdir meta) with an extra ``----`` AIGC item, as older writers stored it."""
    data = src.read_bytes()
    top = boxes(data, 0, len(data))
    assert top[-1][0] == b"moov"
    freeform = box(b"----", box(b"mean", b"\0\0\0\0com.apple.iTunes") + box(b"name", b"\0\0\0\0AIGC")
                   + box(b"data", b"\0\0\0\1\0\0\0\0" + LABEL.to_json().encode()))

    def grow(start: int, end: int, path: list[bytes]) -> bytes:
        out = b""
        for kind, s, e in boxes(data, start, end):
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
    assert aigc_from_id3(payloads[0]) == [LABEL.to_json()]
    # FFmpeg's own demuxer hands the same tag on (it treats the first 5 bytes as a metadata AU-cell header)
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out), "-map", "0:d",
                          "-c", "copy", "-f", "data", "-"], capture_output=True, check=True).stdout
    assert LABEL.to_json().encode() in raw


def test_cli_writes_a_chinese_producer_name(mp4s: dict[str, Path], tmp_path: Path, exiftool: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.cli.app import inner_main

    out = tmp_path / "cli.mp4"
    assert inner_main(["label", "write", str(mp4s["faststart.mp4"]), str(out), "--label", "1", "--producer",
                       "北京某某科技有限公司", "--produce-id", "生成-0001", "--json", "--data-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []
    stored = json.loads(str(exif(exiftool, out)["Keys:AIGC"]))
    assert stored["ContentProducer"] == stored["ContentPropagator"] == "北京某某科技有限公司"
    assert stored["ReservedCode1"].startswith("v1.")  # signed
