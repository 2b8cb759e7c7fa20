from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from vidlens.cli.app import inner_main
from vidlens.errors import UsageError
from vidlens.govern import explicit
from vidlens.govern.explicit import TextBox, detect_explicit_label, is_label_text
from vidlens.govern.implicit import read_label
from vidlens.govern.label import new_label
from vidlens.govern.service import label_file, verify_file
from vidlens.media.ffmpeg import run_ffmpeg


@pytest.fixture(scope="module")
def font() -> explicit.Font:
    found = explicit.packaged_font()
    if found is None:  # a test-environment defect, not a reason to skip
        pytest.fail("the Noto Sans CJK package is not installed (pip install 'vidlens[govern]')")
    return found


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("burn") / "src.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=480x270:rate=10:duration=6", "-f", "lavfi", "-i", "sine=d=6",
                "-c:v", "libx264", "-crf", "18", "-c:a", "aac", "-shortest", str(path)])
    return path


def _frames(path: Path) -> dict[float, np.ndarray]:
    with av.open(str(path)) as c:
        return {round(float(f.time), 1): f.to_ndarray(format="rgb24") for f in c.decode(video=0)}


@pytest.mark.parametrize(("size", "text"), [((640, 360), "AI生成"), ((1920, 1080), "AI生成"), ((176, 144), "AI生成"),
                                            ((1080, 1920), "AI-generated")])
def test_ink_height_is_at_least_5_percent_of_short_side(font: explicit.Font, size: tuple[int, int], text: str) -> None:
    rendered = explicit.render_label(text, *size, font=font)
    assert rendered.ink_height >= 0.05 * min(size)
    # the ink is what was measured, not the nominal size: re-measure on the rendered alpha
    alpha = np.asarray(rendered.image)[:, :, 3]
    rows = np.nonzero((alpha == 255).any(axis=1))[0]
    assert rows[-1] - rows[0] + 1 >= rendered.ink_height


def test_burn_shows_label_for_opening_seconds_only(font: explicit.Font, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "burned.mp4"
    info = explicit.burn(clip, out, seconds=2.5, font=font)
    x, y, w, h = info["box"]
    src, dst = _frames(clip), _frames(out)
    diffs = {t: float(np.abs(dst[t][y:y + h, x:x + w].astype(int) - src[t][y:y + h, x:x + w]).mean())
             for t in sorted(src)}
    shown = [t for t, d in diffs.items() if d > 20]
    assert shown[0] == 0.0 and shown[-1] >= 2.0
    assert all(d < 6 for t, d in diffs.items() if t > 2.7)
    assert y >= 0.05 * 270 and x + w < 0.8 * 480  # off the status bar and the right-hand button column


def test_end_and_middle_windows() -> None:
    assert explicit.windows(30, 3, end=True, middle=True) == [(0.0, 3), (13.5, 16.5), (27, 31)]
    assert explicit.windows(1.5, 3, end=True, middle=False) == [(0.0, 1.5)]
    with pytest.raises(UsageError):
        explicit.windows(30, 1.0, end=False, middle=False)


def test_label_text_needs_both_elements() -> None:
    assert is_label_text("AI生成") and is_label_text("人工智能生成合成") and is_label_text("AI-Generated")
    assert is_label_text("Al-generated") and is_label_text("AIGENERATED") and is_label_text("「AI生成」")
    assert not is_label_text("AI") and not is_label_text("生成") and not is_label_text("Made with care")
    assert not is_label_text("EMAIL generated automatically") and not is_label_text("PAIR synthesis")


def test_detect_explicit_label_through_the_ocr_seam(font: explicit.Font, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "burned.mp4"
    info = explicit.burn(clip, out, seconds=3, font=font)
    x, y, w, h = info["box"]
    reference = _frames(clip)

    def box_ocr(rgb: np.ndarray) -> list[TextBox]:
        # Stand-in engine: "reads" the label wherever the label box differs from the unlabelled source.
        t = min(reference, key=lambda k: float(np.abs(reference[k][:40].astype(int) - rgb[:40]).mean()))
        changed = np.abs(rgb[y:y + h, x:x + w].astype(int) - reference[t][y:y + h, x:x + w]).mean() > 20
        return [TextBox("AI生成", (x, y, x + w, y + info["ink_height"]))] if changed else []

    report = detect_explicit_label(out, box_ocr)
    assert report.found and report.compliant, report.problems
    assert report.height_ratio is not None and report.height_ratio >= 0.05
    assert not detect_explicit_label(clip, box_ocr).found
    short = tmp_path / "short.mp4"
    explicit.burn(clip, short, seconds=2.0, font=font)
    tiny = detect_explicit_label(short, lambda rgb: [TextBox("AI生成", (0, 0, 10, 5))])
    assert any("height" in p for p in tiny.problems)


def test_cli_burn_carries_and_resigns_the_implicit_label(font: explicit.Font, clip: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    labelled = tmp_path / "labelled.mp4"
    label_file(clip, labelled, new_label("1", "001191110102MAD55U9H0F10002", "b-1"), data_dir=tmp_path)
    out = tmp_path / "out.mp4"
    assert inner_main(["label", "burn", str(labelled), str(out), "--json", "--data-dir", str(tmp_path)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["ink_ratio"] >= 0.05 and got["text"] == "AI生成"
    assert read_label(out).label is not None
    assert verify_file(out, tmp_path)["verified"] is True
    assert inner_main(["label", "burn", str(labelled), str(labelled)]) == 2


@pytest.fixture(scope="module")
def ocr() -> explicit.Ocr:
    return explicit.default_ocr()


def test_real_ocr_finds_the_burned_label_and_nothing_in_the_source(font: explicit.Font, clip: Path, ocr: explicit.Ocr,
                                                                    tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        out = tmp_path / f"burned_{lang}.mp4"
        explicit.burn(clip, out, seconds=3, lang=lang, font=font)
        report = detect_explicit_label(out, ocr)
        assert report.found and report.compliant, (lang, report.to_dict())
        assert report.text is not None and is_label_text(report.text)
    assert not detect_explicit_label(clip, ocr).found


def test_triage_cli_counts_a_visible_label_as_suspected(font: explicit.Font, clip: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "burned.mp4"
    explicit.burn(clip, out, seconds=3, font=font)
    assert inner_main(["triage", str(out), "--json", "--data-dir", str(tmp_path)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["verdict"] == "suspected" and [e["kind"] for e in got["evidence"]] == ["explicit_label"]
    assert inner_main(["label", "explicit", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["compliant"] is True
    assert inner_main(["triage", str(clip), "--json", "--data-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "none"


# -- the font ships with VidLens; a label that was not drawn is never reported ------------------------------

def _font_with(tmp_path: Path, name: str, keep: str, blank: str = "") -> Path:
    """A subset of the packaged face holding only ``keep``; ``blank`` characters are mapped to the
    space glyph, so the character map claims them but nothing is drawn (a broken or hostile font)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source = explicit.packaged_font()
    assert source is not None
    font = TTFont(str(source.path), fontNumber=source.index)
    subsetter = subset.Subsetter(subset.Options(notdef_outline=True))
    subsetter.populate(text=keep + " ")
    subsetter.subset(font)
    for table in font["cmap"].tables:
        for c in blank:
            table.cmap[ord(c)] = table.cmap[ord(" ")]
    path = tmp_path / name
    font.save(str(path))
    return path


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the font lookup away from every system font (Debian's fonts-noto-cjk, fontconfig)."""
    monkeypatch.setattr(explicit, "system_fonts", lambda: [])
    monkeypatch.delenv("VIDLENS_CJK_FONT", raising=False)


def test_burn_works_without_any_system_font(no_system_fonts: None, clip: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "burned.mp4"
    assert inner_main(["label", "burn", str(clip), str(out), "--json", "--data-dir", str(tmp_path)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["font"].startswith("NotoSansCJK-Regular.ttc#")  # the packaged collection, its SC face
    assert [explicit.reads_as(text, "AI生成") for _, text in got["read_back"]] == [True]
    assert inner_main(["label", "explicit", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["compliant"] is True


def test_font_without_the_glyphs_fails_before_drawing(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    latin = _font_with(tmp_path, "latin.otf", "AI-generated")
    monkeypatch.setenv("VIDLENS_CJK_FONT", str(latin))
    out = tmp_path / "out" / "burned.mp4"
    out.parent.mkdir()
    assert inner_main(["label", "burn", str(clip), str(out), "--data-dir", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "no glyph for '成', '生'" in err and "empty boxes" in err
    assert list(out.parent.iterdir()) == []  # nothing written, no temporary file left
    # the same font draws the English label
    assert inner_main(["label", "burn", str(clip), str(out), "--lang", "en", "--data-dir", str(tmp_path)]) == 0


def test_glyphs_the_font_claims_but_does_not_draw_are_caught_by_reading_back(clip: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    liar = _font_with(tmp_path, "liar.otf", "AI", blank="生成")
    monkeypatch.setenv("VIDLENS_CJK_FONT", str(liar))
    out = tmp_path / "out" / "burned.mp4"
    out.parent.mkdir()
    assert inner_main(["label", "burn", str(clip), str(out), "--data-dir", str(tmp_path)]) == 10
    err = capsys.readouterr().err
    assert "could not be read back" in err and "nothing was written" in err
    assert list(out.parent.iterdir()) == []


def test_the_recogniser_alone_reads_a_drawn_label_and_not_one_with_blank_glyphs(tmp_path: Path) -> None:
    """``line_ocr`` (the presenter's read-back: no detector) on the label picture itself, at two frame sizes."""
    liar = explicit.Font(_font_with(tmp_path, "liar.otf", "AI", blank="生成"))
    read = explicit.line_ocr()
    for size in ((256, 448), (1920, 1080)):
        for font, readable in ((None, True), (liar, False)):
            drawn = explicit.render_label("AI生成", *size, font=font)
            text = "".join(box.text for box in read(np.asarray(drawn.image.convert("RGB"))))
            assert explicit.reads_as(text, "AI生成") is readable, (size, font, text)


def test_burn_keeps_the_input_mode(font: explicit.Font, clip: Path, tmp_path: Path) -> None:
    from vidlens.govern.service import burn_file

    src = tmp_path / "src.mp4"
    src.write_bytes(clip.read_bytes())
    src.chmod(0o644)
    out = tmp_path / "burned.mp4"
    info = burn_file(src, out, data_dir=None, font=font,
                     ocr=lambda rgb: [TextBox("AI生成", (0, 0, rgb.shape[1], rgb.shape[0]))])
    assert out.stat().st_mode & 0o777 == 0o644 and info["read_back"]
