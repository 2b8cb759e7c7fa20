"""The explicit (visible) label: burn 「AI生成」 into the opening frames, and find one with OCR.

GB 45438-2025 5.4: a text prompt with an "AI" and a "generated/synthesised"
element at the opening frames, for at least 2 s, whose text height is at least 5 %
of the frame's short side. We size the font by the rendered glyphs' *ink* height
(measured on the rendered mask), never by the nominal font size, because a CJK
font's em box is much taller than its ink. The default place is the upper left,
below the status/search bar and clear of the right-hand button column and the
bottom caption area of the usual short-video apps.

The font ships with VidLens: Noto Sans CJK (SIL Open Font License 1.1) from the pinned
``noto-cjk-sans-otc`` package, so the label looks the same on every machine and never
depends on what the system has installed. Every character is checked against the
font's character map before anything is drawn: a missing glyph would be drawn as an
empty box ("tofu"), which is not a label.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vidlens.errors import ConfigError, UsageError

DEFAULT_TEXT = {"zh": "AI生成", "en": "AI-generated"}
MIN_RATIO = 0.05  # the standard's minimum ink height / short side
TARGET_RATIO = 0.06  # what we aim for, leaving margin for scaling
MIN_SECONDS = 2.0
_READ_HEIGHT = 48  # px: the label box is scaled to at least this height before it is read back
Position = Literal["top-left", "top-right", "bottom-left", "top-center"]
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@dataclass(frozen=True)
class Font:
    """A font file and the face to use in it (a ``.ttc`` collection holds several)."""

    path: Path
    index: int = 0


def packaged_font() -> Font | None:
    """The Simplified Chinese face of the Noto Sans CJK collection VidLens depends on, if installed."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return Font(path, _face(path)) if path.is_file() else None


def system_fonts() -> list[Font]:
    """CJK fonts the system has: the usual Debian files, then fontconfig's answer."""
    found = [Font(Path(p), _face(Path(p))) for p in SYSTEM_FONTS if Path(p).is_file()]
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                             check=False)
        if out.returncode == 0 and out.stdout.strip() and Path(out.stdout.strip()).is_file():
            path = Path(out.stdout.strip())
            found.append(Font(path, _face(path)))
    return found


def find_font(text: str) -> Font:
    """``VIDLENS_CJK_FONT`` (which must draw ``text``), else the first of the packaged and system fonts that can."""
    override = os.environ.get("VIDLENS_CJK_FONT")
    if override:
        if not Path(override).is_file():
            raise ConfigError(f"VIDLENS_CJK_FONT points at '{override}', which is not a file")
        font = Font(Path(override), _face(Path(override)))
        require_glyphs(font, text)
        return font
    tried = []
    for candidate in [f for f in [packaged_font()] if f] + system_fonts():
        if not missing_glyphs(candidate, text):
            return candidate
        tried.append(candidate.path.name)
    raise ConfigError(f"no font here can draw {text!r} (tried: {', '.join(tried) or 'none'}): install "
                      "'vidlens[govern]' (it brings Noto Sans CJK) or set VIDLENS_CJK_FONT")


def require_glyphs(font: Font, text: str) -> None:
    """Raise ``ConfigError`` naming the characters ``font`` cannot draw."""
    missing = missing_glyphs(font, text)
    if missing:
        raise ConfigError(f"font {font.path.name} has no glyph for {', '.join(repr(c) for c in missing)}: "
                          f"it would draw empty boxes instead of {text!r}")


def missing_glyphs(font: Font, text: str) -> list[str]:
    """Characters of ``text`` (spaces aside) that are not in the font's character map."""
    cmap = _cmap(font.path, font.index)
    return sorted({c for c in text if not c.isspace() and ord(c) not in cmap})


@lru_cache(maxsize=8)
def _cmap(path: Path, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(path), fontNumber=index, lazy=True) as font:
            return frozenset(code for code, glyph in (font.getBestCmap() or {}).items() if glyph != ".notdef")
    except (TTLibError, OSError, ValueError) as exc:
        raise ConfigError(f"cannot read font {path}: {exc}") from exc


@lru_cache(maxsize=8)
def _face(path: Path) -> int:
    """In a collection, the Simplified Chinese face ("... SC") when there is one; else the first."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection, TTLibError

    try:
        with TTCollection(str(path), lazy=True) as collection:
            names = [str(f["name"].getDebugName(1) or "") for f in collection.fonts]
    except (TTLibError, OSError, ValueError) as exc:
        raise ConfigError(f"cannot read font collection {path}: {exc}") from exc
    return next((i for i, name in enumerate(names) if name.endswith(" SC")), 0)


@dataclass(frozen=True)
class RenderedLabel:
    image: Any  # PIL RGBA image: text plus a translucent backing box
    ink_height: int  # pixel rows that hold glyph ink
    font_size: int


def _ink_rows(font: Any, text: str) -> int:
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(mask).text((2 - left, 2 - top), text, font=font, fill=255)
    rows = np.nonzero(np.asarray(mask).max(axis=1) > 127)[0]
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def render_label(text: str, width: int, height: int, *, ratio: float = TARGET_RATIO,
                 font: Font | None = None) -> RenderedLabel:
    """Render ``text`` so its ink height is at least ``ratio`` of the short side; every glyph checked first."""
    from PIL import Image, ImageDraw, ImageFont

    if not text.strip():
        raise UsageError("the explicit label text is empty")
    face = font or find_font(text)
    require_glyphs(face, text)
    target = int(np.ceil(ratio * min(width, height)))
    size = max(8, target)
    font_ = ImageFont.truetype(str(face.path), size, index=face.index)
    while _ink_rows(font_, text) < target and size < 4 * target + 16:
        size += 1
        font_ = ImageFont.truetype(str(face.path), size, index=face.index)
    ink = _ink_rows(font_, text)
    left, top, right, bottom = font_.getbbox(text)
    pad = max(2, size // 4)
    image = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 110))
    draw = ImageDraw.Draw(image)
    draw.text((pad - left, pad - top), text, font=font_, fill=(255, 255, 255, 255),
              stroke_width=max(1, size // 24), stroke_fill=(0, 0, 0, 255))
    return RenderedLabel(image, ink, size)


def place(position: Position, frame: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of the label box; margins keep it off app chrome (status bar, side buttons)."""
    w, h = frame
    bw, bh = box
    mx, my = int(0.04 * w), int(0.08 * h)
    if position == "top-left":
        return mx, my
    if position == "top-right":
        return w - bw - int(0.18 * w), my
    if position == "top-center":
        return (w - bw) // 2, my
    if position == "bottom-left":
        return mx, h - bh - int(0.25 * h)
    raise UsageError(f"unknown label position {position!r}")


def windows(duration: float, seconds: float, *, end: bool, middle: bool) -> list[tuple[float, float]]:
    """Time windows to show the label: always the opening, optionally the middle and the end."""
    if seconds < MIN_SECONDS:
        raise UsageError(f"the label must show for at least {MIN_SECONDS} s, got {seconds}")
    out = [(0.0, min(seconds, duration) if duration > 0 else seconds)]
    if middle and duration > 3 * seconds:
        mid = duration / 2
        out.append((mid - seconds / 2, mid + seconds / 2))
    if end and duration > 2 * seconds:
        out.append((duration - seconds, duration + 1))
    return out


def burn(src: Path, dst: Path, *, text: str | None = None, lang: str = "zh", seconds: float = 3.0,
         position: Position = "top-left", end: bool = False, middle: bool = False, crf: int = 18,
         font: Font | None = None) -> dict[str, Any]:
    """Re-encode the video with the label drawn over the chosen windows; audio and tags copied."""
    from vidlens.media.ffmpeg import run_ffmpeg
    from vidlens.media.source import open_source

    if lang not in DEFAULT_TEXT and text is None:
        raise UsageError(f"lang must be one of {sorted(DEFAULT_TEXT)}")
    label_text = text if text is not None else DEFAULT_TEXT[lang]
    with open_source(src).open() as c:
        if not c.streams.video:
            raise UsageError(f"{src.name} has no video stream")
        vs = c.streams.video[0]
        width, height = vs.codec_context.width, vs.codec_context.height
        duration = float(c.duration / 1_000_000) if c.duration else 0.0
    face = font or find_font(label_text)
    rendered = render_label(label_text, width, height, font=face)
    x, y = place(position, (width, height), rendered.image.size)
    spans = windows(duration, seconds, end=end, middle=middle)
    enable = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in spans)
    with tempfile.TemporaryDirectory(prefix="vidlens-label-") as tmp:
        overlay = Path(tmp) / "label.png"
        rendered.image.save(overlay)
        run_ffmpeg(["-i", str(src), "-i", str(overlay), "-filter_complex",
                    f"[0:v][1:v]overlay=x={x}:y={y}:enable='{enable}':eof_action=repeat[v]",
                    "-map", "[v]", "-map", "0:a?", "-map_metadata", "0", "-c:v", "libx264", "-crf", str(crf),
                    "-pix_fmt", "yuv420p", "-c:a", "copy", str(dst)], path=str(src))
    return {"text": label_text, "font": f"{face.path.name}#{face.index}", "ink_height": rendered.ink_height,
            "ink_ratio": rendered.ink_height / min(width, height), "font_size": rendered.font_size,
            "box": [x, y, *rendered.image.size], "windows": spans}


def read_back(video: Path, info: dict[str, Any], ocr: Ocr, *, margin: float = 0.5) -> list[tuple[float, str]]:
    """What ``ocr`` reads in the burned label's box, once in each window: (time, text).

    OCR runs on the box with ``margin`` (a share of its height) around it, scaled so the box is at
    least ``_READ_HEIGHT`` px high: the label alone, at a size the recogniser reads well, whatever
    the frame size. A detector needs room around the text; the recogniser alone (``line_ocr``) reads
    the box as a line, with little else in it.
    """
    from PIL import Image

    from vidlens.media.decode import Sampling, read_frames
    from vidlens.media.source import open_source

    x, y, w, h = info["box"]
    wanted = sorted(min((a + b) / 2, a + 1.0) for a, b in info["windows"])
    out: list[tuple[float, str]] = []
    if not wanted:
        return out
    frames = read_frames(open_source(video, end=wanted[-1] + 1.0), Sampling(pix_fmt="rgb24", upright=False))
    try:
        for sample in frames:
            if not wanted:
                break
            t = sample.t
            if t + 1e-6 < wanted[0]:
                continue
            wanted.pop(0)
            rgb = sample.image
            m = int(h * margin)
            crop = rgb[max(0, y - m):y + h + m, max(0, x - m):x + w + m]
            scale = max(1.0, _READ_HEIGHT / h)
            if scale > 1:
                crop = np.asarray(Image.fromarray(crop).resize((round(crop.shape[1] * scale),
                                                                round(crop.shape[0] * scale)), Image.BICUBIC))
            boxes = sorted(ocr(crop), key=lambda b: b.box[0])
            out.append((round(t, 3), "".join(b.text for b in boxes)))
    finally:
        frames.close()
    return out


def reads_as(read: str, expected: str) -> bool:
    """OCR read the drawn text: it appears in what was read, or (when OCR split and repeated a
    word across two boxes) what was read is at least 80 % similar and holds every non-ASCII
    character of it. Both sides are folded first: OCR's usual Latin confusions (l/1/| for I,
    0 for O) mapped, spaces and punctuation dropped. Picture text beside the label may be read
    too. A glyph drawn as an empty box never passes: its character is missing from the reading.
    """
    from difflib import SequenceMatcher

    got, want = _fold(read), _fold(expected)
    if not want:
        return False
    if want in got:
        return True
    return all(c in got for c in want if not c.isascii()) and SequenceMatcher(None, got, want).ratio() >= 0.8


def _fold(text: str) -> str:
    table = str.maketrans({"L": "I", "1": "I", "|": "I", "0": "O"})
    return "".join(c for c in text.upper().translate(table) if c.isalnum())


# -- detection: the OCR engine is pluggable ---------------------------------------------------------

@dataclass(frozen=True)
class TextBox:
    """One OCR hit: text and its box (x0, y0, x1, y1) in frame pixels."""

    text: str
    box: tuple[float, float, float, float]


Ocr = Callable[[np.ndarray], Sequence[TextBox]]


def default_ocr(*, threads: int = 1) -> Ocr:
    """The bundled PP-OCRv6 reader (``vidlens.models.ocr.OcrEngine``, models checked by the registry) as an
    ``Ocr``: the float32 detector on frames scaled so their short side is at least 736 px (label text is
    small), readings scoring 0.5 or more. Loaded now, so a missing or broken model fails before any frame."""
    from vidlens.models.ocr import OcrEngine

    engine = OcrEngine(precision="float32", det_max_side=736, det_limit="min", min_score=0.5,
                       threads=threads).load()

    def run(rgb: np.ndarray) -> Sequence[TextBox]:
        lines = engine.read(np.ascontiguousarray(rgb[:, :, ::-1]))
        return [TextBox(line.text, (float(line.xyxy[0]), float(line.xyxy[1]), float(line.xyxy[2]),
                                    float(line.xyxy[3]))) for line in lines]

    return run


def line_ocr(*, threads: int = 1, min_score: float = 0.5) -> Ocr:
    """The bundled PP-OCRv6 recogniser alone (``vidlens.models.ocr.LineRecogniser``), as an ``Ocr`` for a picture
    that holds one line of text: the label we drew, read back where we placed it. No detector is loaded or run
    (the box is known), so the check costs a fraction of ``default_ocr``'s start-up; a reading under
    ``min_score`` counts as nothing read. Loaded now, so a missing or broken model fails before any frame."""
    from vidlens.models.ocr import LineRecogniser

    recogniser = LineRecogniser(threads=threads)

    def run(rgb: np.ndarray) -> Sequence[TextBox]:
        text, score = recogniser.read(np.ascontiguousarray(rgb[:, :, ::-1]))
        return [TextBox(text, (0.0, 0.0, float(rgb.shape[1]), float(rgb.shape[0])))] if text and score >= min_score \
            else []

    return run


# "AI" as a word (OCR often reads the I as l, 1 or |), or glued to the generated element
_AI = re.compile(r"(?<![A-Z])A[IL1|](?![A-Z])|人工智能")
_AI_GLUED = re.compile(r"(?<![A-Z])A[IL1|](?=GENERATED|SYNTHES|生成|合成)")
_GENERATED = ("生成", "合成", "GENERATED", "SYNTHES")


def is_label_text(text: str) -> bool:
    """Both elements the standard asks for: an AI element and a generated/synthesised element."""
    upper = text.upper()
    compact = upper.replace(" ", "")
    has_ai = bool(_AI.search(upper) or _AI_GLUED.search(compact))
    return has_ai and any(g in compact for g in _GENERATED)


@dataclass
class ExplicitLabelReport:
    found: bool
    text: str | None = None
    first_t: float | None = None
    last_t: float | None = None
    height_ratio: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return self.found and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"found": self.found, "text": self.text, "first_t": self.first_t, "last_t": self.last_t,
                "height_ratio": self.height_ratio, "compliant": self.compliant, "problems": self.problems}


def detect_explicit_label(video: Path, ocr: Ocr, *, window_s: float = 3.0, fps: float = 4.0) -> ExplicitLabelReport:
    """Run ``ocr`` over the opening ``window_s`` and check text, duration (≥ 2 s) and height (≥ 5 %).

    ``ocr`` takes an RGB frame and returns ``TextBox``es; box height is used as the
    text height (an OCR line box is close to the ink height of CJK text).
    """
    from vidlens.media.decode import Sampling, read_frames
    from vidlens.media.source import open_source

    hits: list[tuple[float, TextBox]] = []
    short = 0
    for sample in read_frames(open_source(video, end=window_s), Sampling(fps=fps, pix_fmt="rgb24", upright=False)):
        rgb = sample.image
        short = min(rgb.shape[:2])
        hits += [(sample.t, box) for box in ocr(rgb) if is_label_text(box.text)]
    if not hits:
        return ExplicitLabelReport(False, problems=["no explicit AI-generated label in the opening frames"])
    times = [t for t, _ in hits]
    ratio = min((b.box[3] - b.box[1]) / short for _, b in hits)
    report = ExplicitLabelReport(True, hits[0][1].text, min(times), max(times), round(ratio, 4))
    if min(times) > 0.5:
        report.problems.append(f"label first seen at {min(times):.2f} s, not in the opening frames")
    if max(times) - min(times) + 1.0 / fps < MIN_SECONDS:
        report.problems.append(f"label visible for about {max(times) - min(times) + 1.0 / fps:.2f} s (< 2 s)")
    if ratio < MIN_RATIO:
        report.problems.append(f"text height {ratio:.1%} of the short side (< 5 %)")
    return report
