"""Detect the public ``invisible-watermark`` (imwatermark) dwtDct marks used by image generators.

Stable Diffusion's reference scripts mark every image with dwtDct: v1/v2 with the
bytes ``StableDiffusionV1`` (136 bits), SDXL (diffusers) with a fixed 48-bit
message. A frame carries a mark when the decoded bits match a known message far
above chance (0.5); we vote over several frames so one lucky frame does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

SDXL_BITS = [int(b) for b in bin(0b101100111110110010010000011110111011000110011110)[2:]]
KNOWN: dict[str, list[int]] = {
    "stable-diffusion-xl": SDXL_BITS,
    "stable-diffusion-v1": [int(b) for byte in b"StableDiffusionV1" for b in f"{byte:08b}"],
}
MATCH = 0.8  # mean bit agreement needed: unmarked frames give 0.5 ± 0.05 (at most 0.63 over the corpus)
MIN_PIXELS = 256 * 256  # imwatermark refuses smaller images


SCALE = 36.0  # imwatermark's default quantisation step for the U channel
BLOCK = 4


def _blocks(ca: np.ndarray) -> np.ndarray:
    """The LL band's 4 × 4 blocks in imwatermark's row-major order, as rows of 16 values (a view when possible)."""
    rb, cb = ca.shape[0] // BLOCK, ca.shape[1] // BLOCK
    return ca[:rb * BLOCK, :cb * BLOCK].reshape(rb, BLOCK, cb, BLOCK).transpose(0, 2, 1, 3).reshape(rb * cb, 16)


def _u_band(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    import cv2
    import pywt

    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    ca, details = pywt.dwt2(yuv[:rows, :cols, 1], "haar")
    return yuv, ca, details


def _peaks(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block: index of the largest-magnitude coefficient other than the first, and its value."""
    pos = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    return pos, blocks[np.arange(len(blocks)), pos]


def decode_bits(bgr: np.ndarray, length: int) -> list[int]:
    """What ``WatermarkDecoder('bits', length).decode(bgr, 'dwtDct')`` returns (invisible-watermark 0.2)."""
    _, ca, _ = _u_band(bgr)
    _, val = _peaks(_blocks(ca))
    scores = (np.abs(val) % SCALE > 0.5 * SCALE).astype(np.float64)
    which = np.arange(len(scores)) % length
    means = np.bincount(which, scores, minlength=length) / np.maximum(np.bincount(which, minlength=length), 1)
    return [int(m * 255 > 127) for m in means]


def embed_bits(bgr: np.ndarray, bits: list[int]) -> np.ndarray:
    """What ``WatermarkEncoder`` with ``set_watermark('bits', bits)`` and ``dwtDct`` produces, bit for bit.

    Each 4 × 4 block of the U channel's Haar LL band quantises its largest AC value so that its remainder
    modulo 36 sits at 9 (bit 0) or 27 (bit 1); bits repeat over the blocks in row-major order.
    """
    import cv2
    import pywt

    yuv, ca, (h, v, d) = _u_band(bgr)
    blocks = _blocks(ca).copy()
    pos, val = _peaks(blocks)
    bit = np.array(bits, np.float64)[np.arange(len(blocks)) % len(bits)]
    blocks[np.arange(len(blocks)), pos] = np.sign(val + (val == 0)) * (np.abs(val) // SCALE + 0.25 + 0.5 * bit) * SCALE
    rb, cb = ca.shape[0] // BLOCK, ca.shape[1] // BLOCK
    ca[:rb * BLOCK, :cb * BLOCK] = blocks.reshape(rb, cb, BLOCK, BLOCK).transpose(0, 2, 1, 3).reshape(
        rb * BLOCK, cb * BLOCK)
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    # imwatermark passes the detail bands back as (v, h, d) and stores the float result in a uint8 array
    yuv[:rows, :cols, 1] = pywt.idwt2((ca, (v, h, d)), "haar")
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)


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
