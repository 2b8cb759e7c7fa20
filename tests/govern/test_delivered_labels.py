"""Transcode and package carry the AIGC label where independent readers find it, or refuse to drop it."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vidlens.cli.app import inner_main
from vidlens.deliver.labels import DASH_SCHEME, HLS_DATA_ID, carry
from vidlens.deliver.ladder import PackageOptions, package
from vidlens.deliver.profiles import PRESETS
from vidlens.deliver.transcode import transcode
from vidlens.errors import UsageError
from vidlens.govern.codecs.samples import make_sample
from vidlens.govern.implicit import write_label
from vidlens.govern.label import new_label

from .readers import aigc_from_id3, exif, format_tags, master_session_data, ts_id3_payloads, udta_metas

LABEL = new_label("1", "北京某某科技有限公司", "clip-0001")
VALUE = LABEL.to_json()
FAST = {"speed": "ultrafast"}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 s labelled clip (the label stored by ``label write``, in its iTunes-free mdta form)."""
    d = tmp_path_factory.mktemp("src")
    plain = d / "plain.mp4"
    subprocess.run([_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4",
                    "-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    "-metadata", "title=keep-me", "-shortest", str(plain)], check=True)
    write_label(plain, d / "labelled.mp4", LABEL)
    return d / "labelled.mp4"


def _ffmpeg() -> str:
    from vidlens.media.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def test_transcode_to_mp4_writes_the_same_mdta_layout_as_label_write(source: Path, tmp_path: Path,
                                                                     exiftool: str, ffprobe: str) -> None:
    out = tmp_path / "out.mp4"
    r = transcode(source, out, PRESETS["preview"].model_copy(update=FAST))
    assert r.labels == {"AIGC": "carried"}
    assert exif(exiftool, out)["Keys:AIGC"] == VALUE
    assert format_tags(ffprobe, out)["AIGC"] == VALUE
    metas = udta_metas(out)
    assert len(metas) == 1 and metas[0][0] == b"mdta" and [k for k, _ in metas[0][1]].count("AIGC") == 1


def test_transcode_to_ts_carries_the_label_as_timed_id3(source: Path, tmp_path: Path, ffprobe: str) -> None:
    out = tmp_path / "out.ts"
    r = transcode(source, out, PRESETS["preview"].model_copy(update=FAST))
    assert r.labels == {"AIGC": "carried"}
    kinds = subprocess.run([ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                            str(out)], capture_output=True, text=True, check=True).stdout.split()
    assert "timed_id3" in kinds
    payloads = ts_id3_payloads(out)
    assert len(payloads) == 1 and aigc_from_id3(payloads[0]) == [VALUE]


def test_drop_label_is_explicit_and_reported(source: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dropped.ts"
    assert inner_main(["transcode", str(source), str(out), "-p", "preview", "--drop-label", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["labels"]["AIGC"].startswith("dropped on request")
    assert ts_id3_payloads(out) == []


def test_a_label_that_cannot_be_carried_is_an_error_unless_dropped(tmp_path: Path) -> None:
    wav = make_sample(tmp_path / "a.wav", ["-c:a", "pcm_s16le"], video=False)
    unescapable = "標識 is not JSON"  # RIFF INFO text has no character set, and this cannot be \\u-escaped
    with pytest.raises(UsageError, match="--drop-label"):
        carry([wav], unescapable)
    assert carry([wav], unescapable, drop=True).startswith("dropped")
    assert carry([wav], None) == "absent in source"


def test_hls_ts_package_carries_the_label_in_every_segment_and_the_master(source: Path, tmp_path: Path,
                                                                        ffprobe: str) -> None:
    out = tmp_path / "ts"
    r = package(source, out, PackageOptions(segment_type="ts", max_rungs=1, segment_seconds=2.0, **FAST))
    assert r.labels["AIGC"] == {"hls": "carried"}
    segments = sorted(out.glob("*/*.ts"))
    assert len(segments) >= 4  # video and audio renditions, 2 segments each
    for segment in segments:
        payloads = ts_id3_payloads(segment)
        assert len(payloads) == 1 and aigc_from_id3(payloads[0]) == [VALUE], segment
    assert master_session_data(out / "master.m3u8") == {HLS_DATA_ID: json.loads(VALUE)}
    subprocess.run([ffprobe, "-v", "error", str(out / "master.m3u8")], check=True, capture_output=True)


def test_hls_and_dash_package_label_in_init_segments_and_manifests(source: Path, tmp_path: Path,
                                                                   exiftool: str) -> None:
    out = tmp_path / "both"
    r = package(source, out, PackageOptions(hls=True, dash=True, max_rungs=1, segment_seconds=2.0, **FAST))
    assert r.labels["AIGC"] == {"hls": "carried", "dash": "carried"}
    inits = sorted(out.glob("init-*.m4s"))
    assert inits and all(exif(exiftool, i)["Keys:AIGC"] == VALUE for i in inits)
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    root = ET.parse(out / "manifest.mpd").getroot()
    sets = root.findall(".//d:AdaptationSet", ns)
    assert len(sets) == 2
    for adaptation in sets:
        props = [p for p in adaptation.findall("d:SupplementalProperty", ns) if p.get("schemeIdUri") == DASH_SCHEME]
        assert [p.get("value") for p in props] == [VALUE]
        assert list(adaptation)[0].tag.endswith("SupplementalProperty")  # before Role/SegmentTemplate
    assert master_session_data(out / "master.m3u8") == {HLS_DATA_ID: json.loads(VALUE)}
