"""Chinese + English OCR with PaddleOCR PP-OCRv6 (small) via RapidOCR on ONNX Runtime.

The detector and recogniser files come from the ``rapidocr`` wheel and are verified
by the registry before RapidOCR is pointed at them, so it never looks elsewhere or
downloads. Text in video is upright, so the angle classifier is skipped. The default
detector is the wheel's float32 detector quantised to int8 (shipped with VidLens, made
by scripts/quantize_ppocr_det.py): 1.2-1.5 times faster, the same readings on the
test corpus. ``precision="float32"`` selects the wheel's own file.

This is the one RapidOCR wrapper: the OCR analyzer and Govern's explicit-label check
(``vidlens.govern.explicit.default_ocr``) both read through ``OcrEngine``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from vidlens.errors import ModelError
from vidlens.models import catalog
from vidlens.models.registry import locate
from vidlens.models.runtime import borrow


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    quad: np.ndarray  # (4, 2) corner points, image pixels
    score: float

    @property
    def xyxy(self) -> np.ndarray:
        return np.array([*self.quad.min(axis=0), *self.quad.max(axis=0)], np.float32)


DETECTORS = {"int8": catalog.OCR_DET_INT8, "float32": catalog.OCR_DET}
GATE_BOX_THRESH = 0.6
BLOCK_MIN_SCORE = 0.8


class OcrEngine:
    """Detect and read text lines in a BGR image."""

    def __init__(self, detector: str | Path | None = None, recognizer: str | Path | None = None, *,
                 precision: str = "int8", det_max_side: int = 960, gate_side: int = 480,
                 min_score: float = 0.6, threads: int = 1, det_limit: Literal["max", "min"] = "max") -> None:
        """``detector``/``recognizer``: own ONNX files; ``precision`` picks the packaged detector otherwise.

        ``det_limit="max"`` scales a reading's image so its longest side is at most ``det_max_side``
        (analysis: big frames, bounded cost); ``"min"`` so its shortest side is at least that (small
        text on small frames, read at the detector's working size).
        """
        if precision not in DETECTORS:
            raise ModelError(f"model slot 'ocr.detector': precision must be one of {sorted(DETECTORS)}, "
                             f"got {precision!r}", details={"slot": "ocr.detector"})
        self.det_path = locate(DETECTORS[precision], detector)
        self.rec_path = locate(catalog.OCR_REC, recognizer)
        self.det_max_side = det_max_side
        self.det_limit = det_limit
        self.gate_side = gate_side
        self.min_score = min_score
        self.threads = threads
        self._key = f"{self.det_path}|{self.rec_path}|{threads}|{min_score}"  # text_score is set per engine

    def _new(self, det_side: int, limit: str = "max"):  # noqa: ANN202 - rapidocr.RapidOCR
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise ModelError("model slot 'ocr.detector' needs rapidocr (pip install 'vidlens[analysis]' or "
                             "'vidlens[govern]')",
                             details={"slot": "ocr.detector"}) from exc
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        params = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.text_score": self.min_score,
            "Det.model_path": str(self.det_path),
            "Rec.model_path": str(self.rec_path),
            "Det.limit_type": limit,
            "Det.limit_side_len": det_side,
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        try:
            return RapidOCR(params=params)
        except Exception as exc:  # rapidocr wraps onnxruntime's untyped load errors
            raise ModelError(f"model slot 'ocr.detector/recognizer': RapidOCR could not load "
                             f"{self.det_path.name} / {self.rec_path.name}: {str(exc).splitlines()[0][:200]}",
                             details={"slot": "ocr", "expected": [str(self.det_path), str(self.rec_path)]}) from None

    def load(self) -> OcrEngine:
        """Load every model now, so a bad file fails before the first frame, not on every frame."""
        for engines, with_rec in ((self._gate, False), (self._reader, True)):
            with engines() as engine:
                try:
                    engine._load_det_model()  # noqa: SLF001 - rapidocr 3.10 loads lazily otherwise
                    if with_rec:
                        engine._load_rec_model()  # noqa: SLF001
                except Exception as exc:  # onnxruntime's untyped load errors
                    raise ModelError(f"model slot 'ocr.detector/recognizer': could not load "
                                     f"{self.det_path.name} / {self.rec_path.name}: {str(exc).splitlines()[0][:200]}",
                                     details={"slot": "ocr", "expected": [str(self.det_path), str(self.rec_path)]}
                                     ) from None
        return self

    def _gate(self):  # noqa: ANN202 - a borrowed rapidocr.RapidOCR
        return borrow("ocr", f"{self._key}|{self.gate_side}", lambda: self._new(self.gate_side))

    def _reader(self):  # noqa: ANN202 - a borrowed rapidocr.RapidOCR
        return borrow("ocr", f"{self._key}|{self.det_limit}{self.det_max_side}",
                      lambda: self._new(self.det_max_side, self.det_limit))

    def find_text(self, bgr: np.ndarray) -> np.ndarray:
        """Text boxes (K, 4) found by the detector alone at ``gate_side`` resolution: the cheap gate.

        Boxes need a mean text probability of 0.6 (PaddleOCR's own default; RapidOCR's 0.5 lets
        foliage and fur through at this resolution, each costing a full reading for nothing). A box
        that covers over a fifth of the picture, is not line-shaped and is only weakly text-like is
        texture too (a big title block scores high): it is dropped.
        """
        with self._gate() as engine:
            out = engine(bgr, use_det=True, use_cls=False, use_rec=False, box_thresh=GATE_BOX_THRESH)
        quads = getattr(out, "boxes", None)
        if quads is None or len(quads) == 0:
            return np.zeros((0, 4), np.float32)
        q = np.asarray(quads, np.float32).reshape(-1, 4, 2)
        boxes = np.concatenate([q.min(axis=1), q.max(axis=1)], axis=1)
        scores = np.asarray(getattr(out, "scores", None) or [1.0] * len(boxes), np.float32)
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        texture = (w * h > 0.2 * bgr.shape[0] * bgr.shape[1]) & (w < 3 * h) & (scores < BLOCK_MIN_SCORE)
        return boxes[~texture]

    def read(self, bgr: np.ndarray) -> list[TextLine]:
        """Text lines in ``bgr`` (a frame or a crop of one), boxes in ``bgr``'s pixels."""
        import cv2

        # The detector misses text that fills a tight crop: a replicated border of 32+ pixels, up to
        # a multiple of 32 (the detector's stride, so it does not resize), restores the context.
        h, w = bgr.shape[:2]
        ph, pw = -(-(h + 64) // 32) * 32 - h, -(-(w + 64) // 32) * 32 - w
        top, left = ph // 2, pw // 2
        padded = cv2.copyMakeBorder(bgr, top, ph - top, left, pw - left, cv2.BORDER_REPLICATE)
        # OCR objects are not thread-safe (they keep per-call state, the use_* flags included, hence
        # passed on every call), so each thread borrows one
        with self._reader() as engine:
            out = engine(padded, use_det=True, use_cls=False, use_rec=True)
            if not getattr(out, "txts", None):
                return []
            lines = []
            for text, quad, score in zip(out.txts, out.boxes, out.scores):
                text = " ".join(str(text).split())
                if text and float(score) >= self.min_score:
                    line = TextLine(text, np.asarray(quad, np.float32).reshape(4, 2), float(score))
                    lines += [TextLine(ln.text, ln.quad - (left, top), ln.score)
                              for ln in self._split_stacked(engine, padded, line)]
        return lines

    def read_boxes(self, bgr: np.ndarray, boxes: np.ndarray, min_score: float) -> list[TextLine] | None:
        """Read each of the gate's ``boxes`` with the recogniser alone (no second detection), or None.

        The gate's low-resolution detector already placed the lines; recognising those crops of the
        full frame costs a fifth of a full reading. Only single lines read with confidence count:
        a box that is not line-shaped, or any reading under ``min_score``, returns None and the
        caller falls back to a full reading.
        """
        h, w = bgr.shape[:2]
        lines = []
        with self._reader() as engine:
            for x1, y1, x2, y2 in boxes:
                bh = y2 - y1
                if bh < 4 or x2 - x1 < 3 * bh:
                    return None
                m = 0.1 * bh
                a, b, c, d = int(max(0, x1 - m)), int(max(0, y1 - m)), int(min(w, x2 + m)), int(min(h, y2 + m))
                text, score = _recognise(engine, bgr[b:d, a:c])
                if not text or score < min_score:
                    return None
                lines.append(TextLine(text, np.array([[a, b], [c, b], [c, d], [a, d]], np.float32), score))
        return lines

    def _split_stacked(self, engine, image: np.ndarray, line: TextLine) -> list[TextLine]:  # noqa: ANN001
        """Two stacked lines the detector joined (large titles whose letters touch), read as two.

        A box less than 3 times as wide as it is high is rarely one line of text; its upper and lower
        halves are recognised apart (two recogniser calls, no detection) and kept only when both
        read with a higher score than the whole box did.
        """
        x1, y1, x2, y2 = (int(round(v)) for v in line.xyxy)
        x1, y1 = max(0, x1), max(0, y1)
        x2, y2 = min(image.shape[1], x2), min(image.shape[0], y2)
        if x2 - x1 < 8 or y2 - y1 < 16 or x2 - x1 >= 3 * (y2 - y1):
            return [line]
        mid = (y1 + y2) // 2
        halves = []
        for a, b in ((y1, mid), (mid, y2)):
            text, score = _recognise(engine, image[a:b, x1:x2])
            if not text or score <= max(line.score, self.min_score):
                return [line]
            quad = np.array([[x1, a], [x2, a], [x2, b], [x1, b]], np.float32)
            halves.append(TextLine(text, quad, score))
        return halves


class LineRecogniser:
    """PP-OCRv6's recogniser alone, straight on ONNX Runtime: a picture of one line of text in, its text and
    score out.

    For text whose box is already known (a label we drew and placed): no detector, and none of RapidOCR's
    start-up, whose YAML configuration alone costs more CPU than loading this model and reading a label. The
    pre-processing and the CTC decoding are RapidOCR's: height 48, width by the aspect ratio (padded to at
    least 320), scaled to [-1, 1]; repeats, then blanks dropped; the score is the mean of the kept
    characters' probabilities. The character list is the one stored in the model file.
    """

    HEIGHT, MIN_WIDTH = 48, 320

    def __init__(self, recognizer: str | Path | None = None, *, threads: int = 1) -> None:
        from vidlens.models.runtime import onnx_session

        self.path = locate(catalog.OCR_REC, recognizer)
        self.session = onnx_session("ocr.recognizer", self.path, threads)
        characters = self.session.get_modelmeta().custom_metadata_map.get("character")
        if not characters:
            raise ModelError(f"model slot 'ocr.recognizer': {self.path.name} holds no character list",
                             details={"slot": "ocr.recognizer", "expected": str(self.path)})
        self.characters = ["", *characters.splitlines(), " "]  # 0: the CTC blank
        self.input = self.session.get_inputs()[0].name

    def read(self, bgr: np.ndarray) -> tuple[str, float]:
        """The text of the line in ``bgr`` and its score (0 when nothing was read)."""
        import math

        import cv2

        h, w = bgr.shape[:2]
        width = max(1, math.ceil(self.HEIGHT * w / max(h, 1)))
        line = cv2.resize(bgr, (width, self.HEIGHT)).astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
        batch = np.zeros((1, 3, self.HEIGHT, max(width, self.MIN_WIDTH)), np.float32)
        batch[0, :, :, :width] = line
        probs = self.session.run(None, {self.input: batch})[0][0]
        best, prob = probs.argmax(axis=1), probs.max(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        if not keep.any():
            return "", 0.0
        return "".join(self.characters[i] for i in best[keep]), float(prob[keep].mean())


def _recognise(engine, crop: np.ndarray) -> tuple[str, float]:  # noqa: ANN001 - rapidocr.RapidOCR
    """The recogniser alone on one line image: its text (whitespace normalised) and score."""
    out = engine(np.ascontiguousarray(crop), use_det=False, use_cls=False, use_rec=True)
    text = " ".join(str((getattr(out, "txts", None) or ("",))[0]).split())
    return text, float((getattr(out, "scores", None) or (0.0,))[0])

