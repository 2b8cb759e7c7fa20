from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.builtin._vision_examples import text_frame
from vidlens.analyze.builtin.ocr import OcrAnalyzer, same_text
from vidlens.analyze.textgate import gate_result, regions_changed
from vidlens.errors import ConfigError, ModelError
from vidlens.govern.explicit import find_font
from vidlens.models.ocr import OcrEngine, TextLine
from vidlens.testing.synth import write_video

from .conftest import analyze_file

@pytest.mark.parametrize("example", OcrAnalyzer.examples(), ids=lambda e: e.name)
def test_examples(example, tmp_path: Path) -> None:
    example.check(analyze_file(OcrAnalyzer.from_dict(example.config), example.make(tmp_path)))


@pytest.mark.parametrize("a, b, same", [
    ("Live from the harbour", "Live from the harbour", True),
    ("Live from the harbour", "Live from the harb0ur", True),
    ("www.bcastell", "www.bcastell.com", True),
    ("00:00:01:12", "00:00:01:13", False),
    ("SCORE 2-1", "SCORE 2-2", False),
    ("Hello", "Goodbye", False),
])
def test_same_text(a: str, b: str, same: bool) -> None:
    assert same_text(a, b) is same


def test_gate_sees_a_changed_digit_but_not_noise() -> None:
    rng = np.random.default_rng(0)
    one = text_frame([("00:00:01:12", (200, 150), 40)])[:, :, ::-1]
    two = text_frame([("00:00:01:13", (200, 150), 40)])[:, :, ::-1]
    noisy = np.clip(one.astype(np.int16) + rng.integers(-3, 4, one.shape), 0, 255).astype(np.uint8)
    box = np.array([[190, 140, 470, 200]], np.float32)
    g1, g2, g3 = gate_result(one, box), gate_result(two, box), gate_result(noisy, box)
    assert regions_changed(g1, g2)
    assert not regions_changed(g1, g3)
    assert regions_changed(None, g1)


def test_blank_video_reads_nothing_and_never_runs_full_ocr(tmp_path: Path) -> None:
    frames = [np.full((120, 160, 3), 90, np.uint8)] * 30
    doc = analyze_file(OcrAnalyzer(), write_video(tmp_path / "blank.mp4", frames, 10))
    assert doc["texts"] == [] and doc["frames"]["read"] == 0 and doc["frames"]["samples"] == 2


def test_without_gate_every_sample_is_read(tmp_path: Path) -> None:
    frame = text_frame([("STATIC TITLE", (40, 40), 40)])
    doc = analyze_file(OcrAnalyzer.from_dict({"gate": False}), write_video(tmp_path / "s.mp4", [frame] * 30, 10))
    assert doc["frames"]["read"] == 2
    assert [(t["text"], t["start_s"], t["end_s"], t["samples"]) for t in doc["texts"]] == [("STATIC TITLE", 0.0, 3.0, 2)]


def test_reads_chinese(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = find_font("今天天气很好")
    except ConfigError as exc:  # a machine without the font is a defect to fix, not a reason to skip
        pytest.fail(f"{exc}: make test installs it (scripts/test-setup.sh)")
    img = Image.new("RGB", (640, 360), (20, 30, 40))
    draw = ImageDraw.Draw(img)
    draw.text((40, 60), "今天天气很好", fill=(240, 240, 240), font=ImageFont.truetype(str(font.path), 40, index=font.index))
    draw.text((40, 200), "Weather report", fill=(240, 240, 240), font=ImageFont.truetype(str(font.path), 36, index=font.index))
    doc = analyze_file(OcrAnalyzer(), write_video(tmp_path / "zh.mp4", [np.asarray(img)] * 20, 10))
    got = {t["text"]: t["language"] for t in doc["texts"]}
    assert got == {"今天天气很好": "zh", "Weather report": "en"}


def test_corrupt_own_model_names_the_slot(tmp_path: Path) -> None:
    bad = tmp_path / "det.onnx"
    bad.write_bytes(b"\x01" * 5000)
    frame = text_frame([("X Y Z", (40, 40), 40)])
    with pytest.raises(ModelError, match="ocr"):
        analyze_file(OcrAnalyzer.from_dict({"detector_model": str(bad)}),
                     write_video(tmp_path / "s.mp4", [frame] * 10, 10))


def test_precision_picks_the_packaged_detector() -> None:
    from vidlens.models import catalog
    from vidlens.models.registry import locate

    assert OcrEngine().det_path == locate(catalog.OCR_DET_INT8)
    assert OcrEngine(precision="float32").det_path == locate(catalog.OCR_DET)
    with pytest.raises(ModelError, match="precision"):
        OcrEngine(precision="int4")


@pytest.mark.slow
def test_int8_gate_finds_the_float32_gates_text(shared_media: Path) -> None:
    """The packaged int8 detector against the float32 one it was quantised from, as the gate, on real frames."""
    import av

    from vidlens.analyze.tracking import iou_matrix

    int8, fp32 = OcrEngine().load(), OcrEngine(precision="float32").load()
    found = total = 0
    for clip, every in (("text/moviepy_timecode_testpattern.mp4", 60), ("shots/blender_bbb_0_30.webm", 90),
                        ("shots/pyscenedetect_testvideo.mp4", 90)):
        with av.open(str(shared_media / clip)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i % every == 0:
                    img = f.to_ndarray(format="bgr24")
                    ref, got = fp32.find_text(img), int8.find_text(img)
                    total += len(ref)
                    if len(ref) and len(got):
                        found += int((iou_matrix(ref, got).max(axis=1) >= 0.5).sum())
    assert total >= 10 and found >= 0.85 * total, (found, total)


def _cer(ref: str, hyp: str) -> float:
    import difflib

    sm = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
    edits = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")
    return edits / max(len(ref), 1)


@pytest.mark.slow
def test_timecode_pattern(shared_media: Path) -> None:
    gt = json.loads((shared_media / "ground_truth" / "ocr.json").read_text())["text/moviepy_timecode_testpattern.mp4"]
    # one sample a second, so every whole-second timecode is seen
    doc = analyze_file(OcrAnalyzer.from_dict({"fps": 1.0}), shared_media / "text" / "moviepy_timecode_testpattern.mp4")
    static = [t for t in doc["texts"] if t["text"] == gt["static_text"]]
    assert len(static) == 1 and static[0]["start_s"] == 0.0 and static[0]["end_s"] == 16.0
    codes = [t for t in doc["texts"] if t["text"].startswith("00:00:")]
    assert len(codes) >= 14
    for t in codes:  # sampled at whole seconds: frame n = 25 * s reads 00:00:SS:00
        expected = f"00:00:{int(round(t['start_s'])):02d}:00"
        assert _cer(expected, t["text"]) <= 0.1, (expected, t)


@pytest.mark.slow
def test_static_watermark_is_one_item_read_a_few_times(shared_media: Path) -> None:
    # one sample a second: the carried-forward reading must cover the samples between shot changes
    doc = analyze_file(OcrAnalyzer.from_dict({"fps": 1.0}), shared_media / "shots" / "pyscenedetect_testvideo.mp4")
    texts = {t["text"] for t in doc["texts"]}
    assert "Copyright © 2013 Brandon Castellano" in texts and "www.bcastell.com" in texts
    copyright_items = [t for t in doc["texts"] if "Castellano" in t["text"]]
    assert len(copyright_items) <= 2 and max(t["end_s"] - t["start_s"] for t in copyright_items) > 15
    assert doc["frames"]["read"] < doc["frames"]["samples"] / 2  # the static watermark is read a few times only


def _stacked_title() -> np.ndarray:
    import cv2

    img = np.full((360, 640, 3), 40, np.uint8)
    cv2.putText(img, "BIG BUCK", (110, 150), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (255, 255, 255), 14)
    cv2.putText(img, "BUNNY", (150, 230), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (255, 255, 255), 14)
    cv2.putText(img, "OK", (40, 340), cv2.FONT_HERSHEY_SIMPLEX, 2.5, (255, 255, 255), 10)
    return img


def _read_box(engine: OcrEngine, img: np.ndarray, box: tuple[int, int, int, int]) -> list[tuple[str, float]]:
    """The box recognised as one line (as the detector gives two touching title lines), then split if stacked."""
    x1, y1, x2, y2 = box
    with engine._reader() as rapid:  # noqa: SLF001
        out = rapid(np.ascontiguousarray(img[y1:y2, x1:x2]), use_det=False, use_cls=False, use_rec=True)
        quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)
        whole = TextLine(out.txts[0], quad, float(out.scores[0]))
        return [(ln.text, ln.score) for ln in engine._split_stacked(rapid, img, whole)]  # noqa: SLF001


def test_two_stacked_lines_read_as_one_box_are_split() -> None:
    engine = OcrEngine().load()
    img = _stacked_title()
    lines = _read_box(engine, img, (97, 63, 577, 252))
    assert [t for t, _ in lines] == ["BIG BUCK", "BUNNY"], lines
    assert [t for t, _ in _read_box(engine, img, (30, 270, 160, 350))] == ["OK"]  # one short line stays whole
    # a full reading afterwards still detects (the rec-only calls must not leave detection off)
    assert {ln.text for ln in engine.read(img)} >= {"BUNNY", "OK"}


@pytest.mark.slow
def test_big_buck_bunny_title_reads_both_lines(shared_media: Path) -> None:
    doc = analyze_file(OcrAnalyzer(), shared_media / "shots" / "blender_bbb_0_30.webm")
    texts = {"".join(t["text"].split()).casefold() for t in doc["texts"]}
    assert {"bigbuck", "bunny", "presents"} <= texts, texts


def test_gate_drops_weak_texture_blocks_and_keeps_a_big_title(shared_media: Path) -> None:
    from vidlens.media.decode import Sampling, frame_at
    from vidlens.media.probe import probe
    from vidlens.models.ocr import OcrEngine

    video = probe(shared_media / "shots" / "blender_bbb_0_30.webm")
    engine = OcrEngine().load()

    def boxes_at(t: float) -> np.ndarray:
        fs = frame_at(video, int(t / float(video.time_base)), Sampling(max_side=1280, pix_fmt="bgr24"))
        assert fs is not None
        return engine.find_text(fs.image)

    # 20 s: fur and foliage, once a box over most of the frame; 26 s: the two-line "Big Buck BUNNY" title
    assert all((b[2] - b[0]) * (b[3] - b[1]) < 0.2 * 1280 * 720 for b in boxes_at(20.0))
    title = boxes_at(26.0)
    assert len(title) >= 1 and max((b[2] - b[0]) * (b[3] - b[1]) for b in title) > 0.1 * 1280 * 720
