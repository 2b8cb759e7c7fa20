"""The OCR engine behind explicit-label detection: PP-OCRv6 (Chinese + English) through RapidOCR.

The detector and recogniser ONNX files ship inside the ``rapidocr`` wheel and are
checked by the model registry (the same float32 files and sha256 as the OCR
analyzer's slots), then named explicitly so nothing is ever downloaded. Labels are
upright text, so the angle classifier is off.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from vidlens.errors import ConfigError
from vidlens.govern.explicit import Ocr, TextBox
from vidlens.models import catalog
from vidlens.models.registry import locate


def rapid_ocr(*, threads: int = 1, min_score: float = 0.5) -> Ocr:
    """An ``Ocr`` callable (RGB frame → text boxes) backed by RapidOCR's bundled models."""
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise ConfigError("explicit-label detection needs rapidocr and onnxruntime (pip install 'vidlens[govern]')"
                          ) from exc
    det, rec = locate(catalog.OCR_DET), locate(catalog.OCR_REC)  # ModelError naming the slot when missing or corrupt
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
