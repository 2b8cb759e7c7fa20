"""On-screen text (Chinese and English), each text once with its time span and box.

Cost is bounded three ways: frames are sampled (one every 2 s by default); a cheap gate
(``vidlens.analyze.textgate``: the text detector alone at low resolution) skips
frames without text and frames whose text regions did not change since the last
reading (that reading is carried forward); and the full reading runs on the crop
around the found regions, not the whole frame, when they cover little of it. When the gate's boxes
are clean single lines, they are recognised directly (no second detection), a
fifth of the cost. Readings of the same
text at about the same place in consecutive samples merge into one item.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample
from vidlens.analyze.textgate import GateResult, gate_result, regions_changed
from vidlens.analyze.tracking import iou_matrix
from vidlens.media.decode import Sampling
from vidlens.plugins import PluginManifest
from vidlens.types import FrameSample, Video

MAX_ERRORS = 20
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class OcrConfig(AnalyzerConfig):
    fps: float = Field(0.5, gt=0, le=10, description="samples per second")
    max_side: int = Field(1280, ge=320, le=3840, description="longest side of the frames read")
    det_max_side: int = Field(960, ge=320, le=2048, description="longest side the text detector sees when reading")
    gate_side: int = Field(480, ge=160, le=1280, description="longest side the gate's text detector sees")
    min_score: float = Field(0.6, gt=0, lt=1, description="lowest recognition score kept")
    min_chars: int = Field(2, ge=1, description="shorter readings are dropped as noise")
    gate: bool = Field(True, description="skip frames without text and unchanged text (off: read every sample)")
    quick_score: float = Field(0.9, gt=0, le=1, description="read the gate's line boxes with the recogniser alone when "
                               "every line scores at least this (1.0: always run the full reading)")
    max_gap_samples: int = Field(1, ge=0, description="samples a text may be missing and still continue")
    precision: Literal["int8", "float32"] = Field(
        "int8", description="packaged text detector: int8 (faster, same readings on the test corpus) or float32")
    detector_model: str | None = Field(None, description="own PP-OCR detection ONNX file (replaces the packaged one)")
    recognizer_model: str | None = Field(None, description="own PP-OCR recognition ONNX file")
    threads: int = Field(1, ge=1, le=64)


@dataclass
class _Item:
    box: np.ndarray
    first_t: float
    last_t: float
    variants: Counter[str] = field(default_factory=Counter)
    best_score: float = 0.0
    samples: int = 0

    @property
    def text(self) -> str:
        return self.variants.most_common(1)[0][0]


def same_text(a: str, b: str) -> bool:
    """Two readings of one on-screen text: OCR jitter and partial reads match, changed numbers do not."""
    na, nb = "".join(a.casefold().split()), "".join(b.casefold().split())
    if na == nb:
        return True
    da, db = re.sub(r"\D", "", na), re.sub(r"\D", "", nb)
    if da and db and da != db:
        return False  # a clock, a score, a timecode: a different text
    if min(len(na), len(nb)) >= 4 and (na in nb or nb in na):
        return True
    return difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio() >= 0.8


def _language(text: str) -> str:
    if _CJK.search(text):
        return "zh"
    return "en" if re.search(r"[A-Za-z]", text) else "und"


def _crop_for(gate: GateResult, h: int, w: int) -> tuple[int, int, int, int]:
    """The region to read: around all candidate boxes, or the whole frame if they cover much of it."""
    b = gate.boxes
    margin = int(8 + 0.6 * float((b[:, 3] - b[:, 1]).max()))
    x1, y1 = max(0, int(b[:, 0].min()) - margin), max(0, int(b[:, 1].min()) - margin)
    x2, y2 = min(w, int(b[:, 2].max()) + margin), min(h, int(b[:, 3].max()) + margin)
    if (x2 - x1) * (y2 - y1) > 0.6 * w * h:
        return 0, 0, w, h
    return x1, y1, x2, y2


class OcrAnalyzer(Analyzer):
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="ocr", version="1.0.0", kind="analyzer",
        summary="On-screen text (Chinese, English) with time spans and boxes, de-duplicated across frames",
        license="Apache-2.0", models=("ocr.detector: PP-OCRv6 small, int8 (Apache-2.0)",
                                      "ocr.recognizer: PP-OCRv6 small (Apache-2.0)"),
        extras=("analysis",))
    Config: ClassVar[type[AnalyzerConfig]] = OcrConfig
    sampling: ClassVar[Sampling] = Sampling(fps=0.5, max_side=1280, pix_fmt="bgr24")
    config: OcrConfig

    def sampling_for(self, video: Video) -> Sampling:
        return Sampling(fps=self.config.fps, max_side=self.config.max_side, pix_fmt="bgr24")

    def _engine(self):  # noqa: ANN202 - vidlens.models.ocr.OcrEngine
        from vidlens.models.ocr import OcrEngine

        cfg = self.config
        return OcrEngine(cfg.detector_model, cfg.recognizer_model, precision=cfg.precision,
                         det_max_side=cfg.det_max_side,
                         gate_side=cfg.gate_side, min_score=cfg.min_score, threads=cfg.threads).load()

    def prepare(self, ctx: AnalysisContext) -> None:
        self._engine()

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        cfg = self.config
        engine = self._engine()
        period = 1.0 / cfg.fps
        open_items: list[_Item] = []
        done: list[_Item] = []
        last_gate: GateResult | None = None
        last_lines: list[tuple[str, np.ndarray, float]] = []
        stats = Counter(samples=0, gated_in=0, read=0, quick_read=0, reused=0)
        errors: list[dict[str, Any]] = []
        scale = 1.0
        duration = max(ctx.video.duration_s, 1e-6)
        for fs in frames:
            stats["samples"] += 1
            img = fs.image
            h, w = img.shape[:2]
            scale = ctx.video.display_size[0] / w
            try:
                gate = gate_result(img, engine.find_text(img)) if cfg.gate else None
                if gate is not None and len(gate.boxes) == 0:
                    lines: list[tuple[str, np.ndarray, float]] = []
                elif gate is not None and not regions_changed(last_gate, gate):
                    lines = last_lines
                    stats["reused"] += 1
                else:
                    quick = (engine.read_boxes(img, gate.boxes, cfg.quick_score)
                             if gate is not None and cfg.quick_score < 1 else None)
                    if quick is not None:
                        found, offset = quick, np.zeros(4, np.float32)
                        stats["quick_read"] += 1
                    else:
                        x1, y1, x2, y2 = _crop_for(gate, h, w) if gate is not None else (0, 0, w, h)
                        found = engine.read(np.ascontiguousarray(img[y1:y2, x1:x2]))
                        offset = np.array([x1, y1, x1, y1], np.float32)
                        stats["read"] += 1
                    lines = [(ln.text, ln.xyxy + offset, ln.score)
                             for ln in found if len(ln.text.replace(" ", "")) >= cfg.min_chars]
                if gate is not None and len(gate.boxes):
                    stats["gated_in"] += 1
                last_gate, last_lines = gate, lines
            except Exception as exc:  # one bad frame must not lose the video
                if len(errors) < MAX_ERRORS:
                    errors.append({"t": round(fs.t, 3), "error": f"{type(exc).__name__}: {exc}"})
                continue
            self._merge(open_items, lines, fs.t)
            still = []
            for it in open_items:
                (still if fs.t - it.last_t <= cfg.max_gap_samples * period + 1e-6 else done).append(it)
            open_items[:] = still
            ctx.progress(min(1.0, fs.t / duration))
        done.extend(open_items)
        end = max(ctx.video.duration_s, max((it.last_t for it in done), default=0.0))
        done.sort(key=lambda it: (it.first_t, float(it.box[1]), float(it.box[0])))
        texts = [{
            "text": it.text,
            "start_s": round(it.first_t, 3),
            "end_s": round(min(it.last_t + period, end), 3),
            "box": [round(float(v) * scale, 1) for v in it.box],
            "confidence": round(it.best_score, 3),
            "language": _language(it.text),
            "samples": it.samples,
        } for it in done]
        return {"texts": texts, "sample_fps": cfg.fps, "frames": dict(stats), "errors": errors}

    @staticmethod
    def _merge(items: list[_Item], lines: list[tuple[str, np.ndarray, float]], t: float) -> None:
        """Attach each reading to the open item at the same place with similar text, or open a new one."""
        taken: set[int] = set()
        boxes = np.stack([it.box for it in items]) if items else np.zeros((0, 4), np.float32)
        for text, box, score in lines:
            ious = iou_matrix(box[None], boxes)[0] if len(items) else np.zeros(0)
            best = -1
            for k in np.argsort(-ious):
                if ious[k] < 0.3:
                    break
                if k not in taken and items[k].last_t != t and same_text(text, items[k].text):
                    best = int(k)
                    break
            if best < 0:
                items.append(_Item(box.copy(), t, t))
                best = len(items) - 1
            it = items[best]
            taken.add(best)
            it.variants[text] += score
            it.last_t = t
            it.samples += 1
            if score > it.best_score:
                it.best_score, it.box = score, box.copy()

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.analyze.builtin._vision_examples import check_caption_texts, make_caption_clip

        return [AnalyzerExample("captions", make_caption_clip, check_caption_texts, config={"fps": 1.0})]
