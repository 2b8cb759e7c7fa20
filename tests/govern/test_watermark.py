from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from vidlens.cli.app import inner_main
from vidlens.errors import UsageError
from vidlens.govern import ecc, imwm, watermark
from vidlens.govern.service import detect_watermarks
from vidlens.media.ffmpeg import run_ffmpeg

PAYLOAD = "00ff00ff12345678"


def _psnr(a: Path, b: Path, frames: int = 30) -> float:
    xs = list(watermark.luma_frames(a, max_frames=frames))
    ys = list(watermark.luma_frames(b, max_frames=frames))
    mse = np.mean([np.mean((x.astype(float) - y) ** 2) for x, y in zip(xs, ys, strict=True)])
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("wm")
    src = d / "src.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "mandelbrot=s=320x240:r=15,trim=duration=5", "-f", "lavfi", "-i", "sine=d=5",
                "-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(src)])
    out = d / "marked.mp4"
    watermark.embed_video(src, out, bytes.fromhex(PAYLOAD))
    return src, out


def test_ecc_corrects_noise_and_crc_rejects_garbage() -> None:
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, 64).astype(np.uint8)
    coded = ecc.encode(bits).astype(float) * 2 - 1
    noisy = coded * 1.5 + rng.normal(0, 1, coded.shape)
    assert np.mean((noisy > 0) != (coded > 0)) > 0.02  # there really are raw bit errors
    decoded, ok = ecc.decode(noisy, 64)
    assert ok and np.array_equal(decoded, bits)
    _, ok = ecc.decode(rng.normal(0, 1, coded.shape), 64)
    assert not ok


def test_mark_alone_stays_above_40_db_and_is_static(marked: tuple[Path, Path]) -> None:
    frames = list(watermark.luma_frames(marked[0], max_frames=10))
    pattern = watermark.pattern_for(frames[0].shape[1], frames[0].shape[0], bytes.fromhex(PAYLOAD))
    deltas = []
    for y in frames:
        delta = watermark.embed_luma(y, pattern).astype(float) - y
        # measured 42.65-42.90 dB (the 41.5 dB cap, then rounding to integers), 2026-11; margin 2.65 dB
        assert 10 * np.log10(255**2 / np.mean(delta**2)) >= 40.0
        deltas.append(delta)
    # the same pattern on every frame (no flicker): frame-to-frame sign agreement of the mark is near total
    agree = [np.mean(np.sign(a[a != 0]) == np.sign(b[a != 0])) for a, b in itertools.pairwise(deltas)]
    assert min(agree) > 0.9  # measured 0.9968, 2026-11; margin 0.097


def test_embed_detects(marked: tuple[Path, Path]) -> None:
    src, out = marked
    found = watermark.detect_video(out)
    assert found.found and found.payload == PAYLOAD
    assert not watermark.detect_video(src).found
    assert not watermark.detect_video(out, key=b"another key").found


def test_survives_reencode_and_trim(marked: tuple[Path, Path], tmp_path: Path) -> None:
    attacked = tmp_path / "attacked.mp4"
    run_ffmpeg(["-ss", "1", "-i", str(marked[1]), "-c:v", "libx264", "-crf", "23", "-r", "12", str(attacked)])
    assert watermark.detect_video(attacked).payload == PAYLOAD


def test_payload_must_be_16_hex_digits() -> None:
    with pytest.raises(UsageError):
        watermark.parse_payload("123")
    with pytest.raises(UsageError):
        watermark.parse_payload("zz" * 8)
    assert watermark.parse_payload(PAYLOAD.upper()) == bytes.fromhex(PAYLOAD)


def test_cli_embed_detect(marked: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.mp4"
    assert inner_main(["watermark", "embed", str(marked[0]), str(out), "--payload", PAYLOAD]) == 0
    capsys.readouterr()
    assert inner_main(["watermark", "detect", str(out), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["found"] is True and got["payload"] == PAYLOAD
    assert inner_main(["watermark", "detect", str(marked[0]), "--json", "--no-imwatermark"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["found"] is False and got["payload"] is None
    assert inner_main(["watermark", "embed", str(marked[0]), str(out), "--payload", "xyz"]) == 2


def test_cli_embed_carries_and_resigns_the_implicit_label(marked: tuple[Path, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.govern.implicit import read_label
    from vidlens.govern.label import new_label
    from vidlens.govern.service import label_file, verify_file

    labelled = tmp_path / "labelled.mp4"
    label_file(marked[0], labelled, new_label("1", "北京某某科技有限公司", "w-1"), data_dir=tmp_path)
    labelled.chmod(0o644)
    out = tmp_path / "out.mp4"
    assert inner_main(["watermark", "embed", str(labelled), str(out), "--payload", PAYLOAD, "--json",
                       "--data-dir", str(tmp_path)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["implicit_label"]["ContentProducer"] == "北京某某科技有限公司"
    report = read_label(out)
    assert report.count == 1 and report.label is not None and report.label.ProduceID == "w-1"
    assert verify_file(out, tmp_path)["verified"] is True  # re-signed over the new picture
    assert out.stat().st_mode & 0o777 == 0o644


def test_imwatermark_marks_are_found_only_where_embedded(tmp_path: Path) -> None:
    src = tmp_path / "big.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "mandelbrot=s=512x384:r=10,trim=duration=1", "-c:v", "libx264", "-crf", "12",
                str(src)])
    frames = [np.ascontiguousarray(f) for f in _bgr(src)]
    assert not imwm.detect_frames(frames)["found"]
    marked = [np.clip(imwm.embed_bits(f, imwm.SDXL_BITS), 0, 255).astype(np.uint8) for f in frames]
    result = imwm.detect_frames(marked)
    assert result["marks"] == ["stable-diffusion-xl"]


def _bgr(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for i, f in zip(range(3), c.decode(video=0), strict=False)]


@pytest.mark.slow
def test_real_clip_survives_the_issue_attacks(shared_media: Path, tmp_path: Path) -> None:
    src = shared_media / "shots" / "blender_caminandes_10s.mp4"
    out = tmp_path / "marked.mp4"
    watermark.embed_video(src, out, bytes.fromhex(PAYLOAD), preset="veryfast")
    # End to end (mark + x264 re-encode): measured 40.16 dB (40.54 with preset medium; 46.58 for the same
    # re-encode without the mark) on the 2-core dev machine, 2026-11; margin 1.66 dB. The mark alone is held
    # to >= 40 dB in test_mark_alone_stays_above_40_db_and_is_static.
    assert _psnr(src, out) >= 38.5
    attacks = {
        "crf32": ["-c:v", "libx264", "-crf", "32"],
        "half": ["-vf", "scale=iw/2:-2", "-c:v", "libx264", "-crf", "23"],
        "crop10": ["-vf", "crop=iw*0.9:ih*0.9:iw*0.03:ih*0.07", "-c:v", "libx264", "-crf", "23"],
        "fps": ["-r", "15", "-c:v", "libx264", "-crf", "23"],
        "trim": ["-ss", "3", "-c:v", "libx264", "-crf", "23"],
    }
    for name, args in attacks.items():
        attacked = tmp_path / f"{name}.mp4"
        run_ffmpeg(["-i", str(out), *args, str(attacked)])
        result = detect_watermarks(attacked, imwatermark=False)
        assert result["payload"] == PAYLOAD, name


def test_dwtdct_matches_the_reference_package_bit_for_bit() -> None:
    import cv2

    data = Path(__file__).parent / "data"
    plain = cv2.imread(str(data / "imwatermark_none.png"))
    reference = cv2.imread(str(data / "imwatermark_sdxl.png"))
    assert np.array_equal(imwm.embed_bits(plain, imwm.SDXL_BITS), reference)
    assert imwm.detect_frames([reference])["marks"] == ["stable-diffusion-xl"]
    assert not imwm.detect_frames([plain])["found"]
