from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from vidlens.cli.app import inner_main
from vidlens.govern.codecs.mkv import MkvCodec
from vidlens.govern.codecs.mp4 import Mp4Codec
from vidlens.govern.codecs.png import PngCodec
from vidlens.govern.implicit import read_label, write_label
from vidlens.govern.label import new_label
from vidlens.govern.service import label_file, propagate_file, verify_file
from vidlens.identity import Identity
from vidlens.media.ffmpeg import run_ffmpeg

PRODUCER = "001191110102MAD55U9H0F10002"
PROPAGATOR = "002291440300MA5FAKE0XY20001"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    mp4 = Mp4Codec().examples(d)[0]
    other = d / "other.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=1", "-c:v", "libx264", str(other)])
    return {"mp4": mp4, "other": other, "png": PngCodec().examples(d)[0]}


def test_signed_label_verifies_and_key_is_private(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "signed.mp4"
    label_file(clips["mp4"], out, new_label("1", PRODUCER, "id-1"), data_dir=tmp_path)
    result = verify_file(out, tmp_path)
    assert result["verified"] is True
    assert [c["status"] for c in result["checks"]] == ["valid", "absent"]
    key = Identity.open(tmp_path).key_path
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_edited_field_fails(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "signed.mp4"
    report = label_file(clips["mp4"], out, new_label("1", PRODUCER, "id-1"), data_dir=tmp_path)
    assert report.label is not None
    write_label(out, out, report.label.replace(Label="3"))
    assert verify_file(out, tmp_path)["checks"][0]["status"] == "invalid"


def test_label_moved_to_other_content_fails(clips: dict[str, Path], tmp_path: Path) -> None:
    signed = label_file(clips["mp4"], tmp_path / "a.mp4", new_label("1", PRODUCER, "id-1"), data_dir=tmp_path)
    assert signed.label is not None
    moved = tmp_path / "moved.mp4"
    write_label(clips["other"], moved, signed.label)
    result = verify_file(moved, tmp_path)
    assert result["verified"] is False and result["checks"][0]["status"] == "invalid"


def test_signature_survives_lossless_remux_to_another_container(clips: dict[str, Path], tmp_path: Path) -> None:
    signed = label_file(clips["mp4"], tmp_path / "a.mp4", new_label("1", PRODUCER, "id-1"), data_dir=tmp_path)
    assert signed.label is not None
    mkv = tmp_path / "remux.mkv"
    run_ffmpeg(["-i", str(tmp_path / "a.mp4"), "-map", "0", "-c", "copy", str(mkv)])
    write_label(mkv, mkv, signed.label)  # re-inject: stock FFmpeg does not carry an MP4 mdta tag to MKV
    assert MkvCodec().content_hash(mkv) == Mp4Codec().content_hash(clips["mp4"])
    assert verify_file(mkv, tmp_path)["verified"] is True


def test_unknown_key_and_trusted_key(clips: dict[str, Path], tmp_path: Path) -> None:
    producer_dir, platform_dir = tmp_path / "producer", tmp_path / "platform"
    out = tmp_path / "p.png"
    label_file(clips["png"], out, new_label("1", PRODUCER, "img-1"), data_dir=producer_dir)
    assert verify_file(out, platform_dir)["checks"][0]["status"] == "unknown_key"
    trusted = platform_dir / "keys" / "trusted"
    trusted.mkdir(parents=True)
    (trusted / "producer.pub").write_text((producer_dir / "keys" / "identity.pub").read_text())
    assert verify_file(out, platform_dir)["verified"] is True


def test_propagator_signs_reserved_code2_over_everything(clips: dict[str, Path], tmp_path: Path) -> None:
    first = tmp_path / "first.mp4"
    label_file(clips["mp4"], first, new_label("1", PRODUCER, "id-1"), data_dir=tmp_path)
    out = tmp_path / "propagated.mp4"
    propagate_file(first, out, label="1", propagator=PROPAGATOR, propagate_id="post-9", data_dir=tmp_path)
    result = verify_file(out, tmp_path)
    assert [c["status"] for c in result["checks"]] == ["valid", "valid"]
    label = read_label(out).label
    assert label is not None
    write_label(out, out, label.replace(PropagateID="post-10"))
    assert [c["status"] for c in verify_file(out, tmp_path)["checks"]] == ["valid", "invalid"]


def test_cli_write_read_verify(clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.mp4"
    dd = ["--data-dir", str(tmp_path)]
    assert inner_main(["label", "write", str(clips["mp4"]), str(out), "--label", "1", "--producer", PRODUCER,
                       "--produce-id", "cli-1", *dd]) == 0
    capsys.readouterr()
    assert inner_main(["label", "read", str(out), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {k: got[k] for k in ("Label", "ContentProducer", "ProduceID", "problems")} == {
        "Label": "1", "ContentProducer": PRODUCER, "ProduceID": "cli-1", "problems": []}
    assert got["ReservedCode1"].startswith("v1.")
    assert inner_main(["label", "verify", str(out), "--json", *dd]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    assert inner_main(["label", "verify", str(clips["mp4"]), "--json", *dd]) == 1
    assert inner_main(["label", "write", str(clips["mp4"]), str(out), "--label", "9", "--producer", PRODUCER,
                       "--produce-id", "x", *dd]) == 2
