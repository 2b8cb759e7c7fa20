"""Detect the public ``invisible-watermark`` (imwatermark) dwtDct marks used by image generators.

Stable Diffusion's reference scripts mark every image with dwtDct: v1/v2 with the
bytes ``StableDiffusionV1`` (136 bits), SDXL (diffusers) with a fixed 48-bit
message. A frame carries a mark when the decoded bits match a known message far
above chance (0.5); we vote over several frames so one lucky frame does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import ConfigError

SDXL_BITS = [int(b) for b in bin(0b101100111110110010010000011110111011000110011110)[2:]]
KNOWN: dict[str, list[int]] = {
    "stable-diffusion-xl": SDXL_BITS,
    "stable-diffusion-v1": [int(b) for byte in b"StableDiffusionV1" for b in f"{byte:08b}"],
}
MATCH = 0.9  # mean bit agreement needed (random content gives about 0.5)
MIN_PIXELS = 256 * 256  # imwatermark refuses smaller images


@lru_cache(maxsize=1)
def _max_dct() -> Any:
    """imwatermark's dwtDct class, loaded without the package ``__init__`` (which imports torch for rivaGan)."""
    import importlib.util

    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("invisible-watermark is not installed (pip install --no-deps invisible-watermark PyWavelets)")
    path = Path(next(iter(spec.submodule_search_locations))) / "maxDct.py"
    module_spec = importlib.util.spec_from_file_location("_vidlens_imwatermark_maxdct", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.EmbedMaxDct


def available() -> bool:
    """Whether the optional ``invisible-watermark`` package is installed."""
    import importlib.util

    return importlib.util.find_spec("imwatermark") is not None


def decode_bits(bgr: np.ndarray, length: int) -> list[int]:
    """What ``WatermarkDecoder('bits', length).decode(bgr, 'dwtDct')`` returns."""
    return [int(b) for b in _max_dct()(watermarks=[], wmLen=length).decode(bgr)]


def embed_bits(bgr: np.ndarray, bits: list[int]) -> np.ndarray:
    """What ``WatermarkEncoder`` with ``set_watermark('bits', bits)`` and ``dwtDct`` produces."""
    return _max_dct()(watermarks=list(bits), wmLen=len(bits)).encode(bgr)


def detect_frames(frames_bgr: Iterable[np.ndarray], known: dict[str, list[int]] | None = None) -> dict[str, Any]:
    """Per known message: mean bit agreement over the frames, and whether it counts as found."""
    known = KNOWN if known is None else known
    scores: dict[str, list[float]] = {name: [] for name in known}
    frames = 0
    for bgr in frames_bgr:
        if bgr.shape[0] * bgr.shape[1] < MIN_PIXELS:
            continue
        frames += 1
        for name, bits in known.items():
            got = decode_bits(bgr, len(bits))
            scores[name].append(float(np.mean(np.array(got) == np.array(bits))))
    marks = {name: round(float(np.mean(s)), 3) if s else None for name, s in scores.items()}
    found = [name for name, score in marks.items() if score is not None and score >= MATCH]
    return {"found": bool(found), "marks": found, "agreement": marks, "frames": frames}
