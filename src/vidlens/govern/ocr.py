"""The OCR engine behind explicit-label detection: PP-OCRv6 (Chinese + English) through RapidOCR.

The detector and recogniser ONNX files ship inside the ``rapidocr`` wheel; they are
named explicitly so nothing is ever downloaded. Labels are upright text, so the
angle classifier is off.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vidlens.errors import ConfigError
from vidlens.govern.explicit import Ocr, TextBox

MODELS = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")


def rapid_ocr(*, threads: int = 1, min_score: float = 0.5) -> Ocr:
    """An ``Ocr`` callable (RGB frame → text boxes) backed by RapidOCR's bundled models."""
    try:
        import rapidocr
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise ConfigError("explicit-label detection needs rapidocr and onnxruntime (pip install 'vidlens[govern]')"
                          ) from exc
    models = Path(rapidocr.__file__).parent / "models"
    det, rec = (models / name for name in MODELS)
    if not (det.is_file() and rec.is_file()):
        raise ConfigError(f"rapidocr's bundled models are missing under {models} (reinstall rapidocr==3.10.0)")
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    engine = RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False, "Global.text_score": min_score,
                              "Det.model_path": str(det), "Rec.model_path": str(rec),
                              "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1})

    def run(rgb: np.ndarray) -> Sequence[TextBox]:
        result = engine(np.ascontiguousarray(rgb[:, :, ::-1]))
        if result.boxes is None or result.txts is None:
            return []
        return [TextBox(text, (float(quad[:, 0].min()), float(quad[:, 1].min()),
                               float(quad[:, 0].max()), float(quad[:, 1].max())))
                for text, quad in zip(result.txts, np.asarray(result.boxes), strict=True)]

    return run
