"""An invisible, geometry-tolerant video watermark carrying 64 bits.

Design (details and the reasons in docs/govern.md):

* **Payload**: 64 bits + CRC-16, rate-1/2 K=7 convolutional code (172 coded
  bits, soft-decision Viterbi, see ``ecc``), scrambled with a keyed ±1 sequence.
* **Tile**: 16 × 16 chips at keyed positions: 84 carry a keyed sync pattern,
  172 the coded bits. The tile is repeated over the
  whole frame, chips are ``short side / 48`` pixels (at least 3), upsampled with a
  cubic kernel so the pattern has no sharp edges (low-to-mid frequencies, which
  H.264 keeps at CRF 32 and which survive a 0.5× downscale).
* **Embedding**: added to luma only, scaled by a local-activity mask (more in
  texture, less in flat areas), the same pattern on every frame: maximal temporal
  redundancy, no flicker, and nothing to resynchronise after trimming or a frame-
  rate change.
* **Detection**: each frame's luma is high-passed and clipped (so content and edges
  do not dominate), frames are averaged, then for each candidate chip size (a fine
  geometric grid, which absorbs any uniform rescale and the change of scale from
  cropping) the average is resampled to 4-pixel chips and folded onto one tile;
  a cyclic FFT correlation with the sync pattern finds the tile offset (which
  absorbs any crop). The best peak's data chips are read, descrambled and Viterbi-decoded;
  a matching CRC (and a significant sync peak) means found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import MediaError, UsageError
from vidlens.govern import ecc

N = 16  # chips per tile side
CHIP_FRACTION = 48  # chip size = short side / CHIP_FRACTION (48 beat 32, 40 and 64 on CRF 32 and 0.5x)
MIN_CHIP = 3.0
DETECT_CHIP = 4  # pixels per chip in the detector's resampled grid
STRENGTH = 2.3  # luma levels (0-255) before the activity mask
EMBED_PSNR = 41.5  # dB of the mark alone; the re-encode costs a little more
MAX_EMBED_MSE = 255.0**2 / 10 ** (EMBED_PSNR / 10)
PAYLOAD_BITS = 64
CODED = ecc.coded_length(PAYLOAD_BITS)  # 172 coded bits; the other 84 chips carry sync
Z_FOUND = 4.0  # sync peak significance needed besides a matching CRC (1 in 65536 false accept)
DEFAULT_KEY = b"vidlens-watermark-v1"


def _pn(key: bytes, label: str, n: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(key + b"/" + label.encode()).digest()[:8], "big")
    return np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=n)


@dataclass(frozen=True)
class _Layout:
    sync_mask: np.ndarray  # (N, N) bool
    sync: np.ndarray  # (N, N) ±1 on sync chips, 0 elsewhere
    data_index: tuple[np.ndarray, np.ndarray]  # chip coordinates of coded bit k
    scramble: np.ndarray  # ±1 per coded bit


def _layout(key: bytes) -> _Layout:
    order = np.random.default_rng(int.from_bytes(hashlib.sha256(key + b"/perm").digest()[:8], "big")).permutation(
        N * N)
    cells = np.stack(np.unravel_index(order, (N, N)), axis=1)
    sync_cells, data_cells = cells[:N * N - CODED], cells[N * N - CODED:]
    sync_mask = np.zeros((N, N), bool)
    sync_mask[sync_cells[:, 0], sync_cells[:, 1]] = True
    sync = np.where(sync_mask, _pn(key, "sync", N * N).reshape(N, N), 0.0)
    return _Layout(sync_mask, sync, (data_cells[:, 0], data_cells[:, 1]), _pn(key, "scramble", CODED))


def encode_payload(payload: bytes, key: bytes = DEFAULT_KEY) -> np.ndarray:
    """The (N, N) chip tile (±1) for an 8-byte payload."""
    if len(payload) != 8:
        raise UsageError(f"watermark payload must be 8 bytes (64 bits), got {len(payload)}")
    coded = ecc.encode(np.unpackbits(np.frombuffer(payload, np.uint8)))
    lay = _layout(key)
    tile = lay.sync.copy()
    tile[lay.data_index] = (coded.astype(np.float64) * 2 - 1) * lay.scramble
    return tile


def _periodic_upsample(tile: np.ndarray, chip: float, height: int, width: int) -> np.ndarray:
    """Repeat ``tile`` over (height, width) with chips of ``chip`` pixels, cubic-smoothed."""
    import cv2

    reps_y = int(np.ceil(height / (N * chip))) + 2
    reps_x = int(np.ceil(width / (N * chip))) + 2
    grid = np.tile(tile, (reps_y, reps_x)).astype(np.float32)
    out_h, out_w = int(round(grid.shape[0] * chip)), int(round(grid.shape[1] * chip))
    big = cv2.resize(grid, (out_w, out_h), interpolation=cv2.INTER_CUBIC)
    off = int(round(N * chip))  # skip the first tile: cubic edge effects
    return big[off:off + height, off:off + width]


def chip_size(width: int, height: int) -> float:
    return max(MIN_CHIP, min(width, height) / CHIP_FRACTION)


def pattern_for(width: int, height: int, payload: bytes, key: bytes = DEFAULT_KEY) -> np.ndarray:
    """The float32 luma pattern (unit amplitude) for a frame size."""
    return _periodic_upsample(encode_payload(payload, key), chip_size(width, height), height, width)


def activity_mask(y: np.ndarray) -> np.ndarray:
    """Local texture in [0.35, 1.6], mean about 1: hide the mark where the picture is busy."""
    import cv2

    f = y.astype(np.float32)
    mean = cv2.blur(f, (9, 9))
    var = cv2.blur(f * f, (9, 9)) - mean * mean
    std = np.sqrt(np.maximum(var, 0))
    return np.clip(0.35 + std / 10.0, 0.35, 1.6)


def luma_delta(y: np.ndarray, pattern: np.ndarray, strength: float = STRENGTH, psnr: float = EMBED_PSNR
               ) -> np.ndarray:
    """The masked pattern to add to ``y``, scaled down where needed so the mark alone stays at or above
    ``psnr`` dB. A caller whose frames share one background may compute it once and reuse it."""
    delta = strength * activity_mask(y) * pattern
    mse = float(np.mean(delta * delta))
    cap = 255.0**2 / 10 ** (psnr / 10)
    if mse > cap:
        delta *= np.float32(np.sqrt(cap / mse))
    return delta.astype(np.float32)


def add_delta(y: np.ndarray, delta: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(y.astype(np.float32) + delta), 0, 255).astype(np.uint8)


def delta_parts(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``delta`` rounded to whole levels and split into what it adds and what it takes away (uint8 each): a
    caller adding one delta to many frames then needs two saturating integer passes a frame (``add_parts``)."""
    d = np.rint(delta)
    return np.clip(d, 0, 255).astype(np.uint8), np.clip(-d, 0, 255).astype(np.uint8)


def add_parts(y: np.ndarray, parts: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``add_delta`` with a delta split by ``delta_parts`` (the same but where ``y + delta`` ends in exactly .5)."""
    import cv2

    return cv2.subtract(cv2.add(y, parts[0]), parts[1])


def embed_luma(y: np.ndarray, pattern: np.ndarray, strength: float = STRENGTH) -> np.ndarray:
    """Add the masked pattern (``luma_delta``) to one frame's luma."""
    return add_delta(y, luma_delta(y, pattern, strength))


def embed_video(src: Path, dst: Path, payload: bytes, *, key: bytes = DEFAULT_KEY, crf: int = 17,
                preset: str = "medium", strength: float = STRENGTH) -> dict[str, Any]:
    """Re-encode ``src`` into ``dst`` (H.264, audio copied) with the watermark in every frame."""
    from vidlens.media.decode import Sampling, read_frames
    from vidlens.media.ffmpeg import raw_frames_encoder
    from vidlens.media.source import open_source

    source = open_source(src)
    with source.open() as container:
        if not container.streams.video:
            raise UsageError(f"{src.name} has no video stream")
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or Fraction(25)
        width, height = vs.codec_context.width, vs.codec_context.height
    w2, h2 = width - width % 2, height - height % 2
    pattern = pattern_for(w2, h2, payload, key)
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w2}x{h2}", "-r", str(rate), "-i", "-",
            "-i", str(src), "-map", "0:v", "-map", "1:a?", "-map_metadata", "1",
            "-c:v", "libx264", "-crf", str(crf), "-preset", preset, "-pix_fmt", "yuv420p",
            "-c:a", "copy", "-shortest", str(dst)]
    frames = 0
    decoded = read_frames(source, Sampling(pix_fmt="yuv420p", upright=False))
    with raw_frames_encoder(args, what="the watermark encode", path=str(src)) as write:
        try:
            for sample in decoded:
                yuv = sample.image
                yuv[:h2] = embed_luma(yuv[:h2], pattern, strength)
                write(yuv.tobytes())
                frames += 1
        finally:
            decoded.close()
    return {"frames": frames, "width": w2, "height": h2, "chip_px": chip_size(w2, h2)}


class Accumulator:
    """Running mean of high-passed, clipped luma frames: the detector's only state."""

    def __init__(self) -> None:
        self.sum: np.ndarray | None = None
        self.count = 0

    def add(self, y: np.ndarray) -> None:
        import cv2

        f = y.astype(np.float32)
        sigma = max(1.0, 0.55 * min(f.shape) / CHIP_FRACTION)  # about half a chip of an unscaled mark
        residual = f - cv2.GaussianBlur(f, (0, 0), sigma)
        local = np.sqrt(cv2.GaussianBlur(residual * residual, (0, 0), 2.3 * sigma)) + 1.0
        residual = np.clip(residual / local, -2.0, 2.0)
        if self.sum is None:
            self.sum = residual.astype(np.float64)
        elif self.sum.shape != residual.shape:
            return  # a resolution change mid-stream: keep the first size
        else:
            self.sum += residual
        self.count += 1

    def mean(self) -> np.ndarray:
        if self.sum is None:
            raise MediaError("no frames to detect a watermark in")
        return (self.sum / self.count).astype(np.float32)


@dataclass
class Detection:
    found: bool
    payload: str | None
    z: float
    chip_px: float
    offset: tuple[int, int]
    frames: int
    bit_confidence: float
    raw_payload: str  # the decoder's best guess even when the CRC fails (for bit-accuracy figures)

    def to_dict(self) -> dict[str, Any]:
        return {"found": self.found, "payload": self.payload, "z": round(self.z, 2), "chip_px": round(self.chip_px, 3),
                "offset": list(self.offset), "frames": self.frames, "bit_confidence": round(self.bit_confidence, 3)}


def _template(tile: np.ndarray) -> np.ndarray:
    size = N * DETECT_CHIP
    return _periodic_upsample(tile, DETECT_CHIP, size, size)


def _fold(img: np.ndarray) -> np.ndarray:
    size = N * DETECT_CHIP
    h, w = img.shape
    hh, ww = -(-h // size) * size, -(-w // size) * size
    padded = np.zeros((hh, ww), np.float64)
    padded[:h, :w] = img
    counts = np.zeros((hh, ww), np.float64)
    counts[:h, :w] = 1
    tiles = padded.reshape(hh // size, size, ww // size, size).sum(axis=(0, 2))
    n = counts.reshape(hh // size, size, ww // size, size).sum(axis=(0, 2))
    return tiles / np.maximum(n, 1)


def candidate_chips(width: int, height: int, step: float = 0.004) -> np.ndarray:
    """Chip sizes to try, relative to the expected size at this resolution (a uniform rescale keeps the ratio).

    0.6× to 1.7× covers crops of up to 40 % and odd rescales; 0.4 % steps keep the fold coherent across a frame.
    """
    base = chip_size(width, height)
    lo, hi = max(2.2, base * 0.6), base * 1.7
    return np.exp(np.arange(np.log(lo), np.log(hi), step))


def detect_mean(mean: np.ndarray, frames: int, key: bytes = DEFAULT_KEY) -> Detection:
    """Search scale and offset in an averaged residual and decode the payload."""
    import cv2

    lay = _layout(key)
    template = _template(lay.sync)
    t_fft = np.conj(np.fft.rfft2(template))
    h, w = mean.shape
    best: tuple[float, float, tuple[int, int], np.ndarray] | None = None
    for chip in candidate_chips(w, h):
        k = DETECT_CHIP / chip
        size = (max(1, int(round(w * k))), max(1, int(round(h * k))))
        resized = cv2.resize(mean, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        folded = _fold(resized)
        corr = np.fft.irfft2(np.fft.rfft2(folded) * t_fft, s=folded.shape)
        peak = int(np.argmax(corr))
        dy, dx = divmod(peak, corr.shape[1])
        z = float((corr.flat[peak] - corr.mean()) / (corr.std() + 1e-12))
        if best is None or z > best[0]:
            best = (z, float(chip), (dy, dx), folded)
    assert best is not None
    z, chip, (dy, dx), folded = best
    aligned = np.roll(folded, (-dy, -dx), axis=(0, 1))
    # matched filter per chip: correlate with the upsampled single-chip kernel (separable, same as embedding)
    kernel = _template(np.pad(np.ones((1, 1)), ((0, N - 1), (0, N - 1))))
    k_fft = np.conj(np.fft.rfft2(kernel))
    response = np.fft.irfft2(np.fft.rfft2(aligned) * k_fft, s=aligned.shape)
    chips = response[::DETECT_CHIP, ::DETECT_CHIP][:N, :N]
    soft = chips[lay.data_index] * lay.scramble
    confidence = float(np.abs(soft).mean() / (np.std(soft) + 1e-12))
    bits, crc_ok = ecc.decode(soft / (np.std(soft) + 1e-12), PAYLOAD_BITS)
    raw = np.packbits(bits).tobytes().hex()
    payload = raw if crc_ok and z >= Z_FOUND else None
    return Detection(payload is not None, payload, z, chip, (dy, dx), frames, confidence, raw)


def detect_frames(frames: Iterable[np.ndarray], key: bytes = DEFAULT_KEY) -> Detection:
    acc = Accumulator()
    for y in frames:
        acc.add(y)
    return detect_mean(acc.mean(), acc.count, key)


def luma_frames(path: Path, *, max_seconds: float = 30.0, max_frames: int = 900) -> Iterable[np.ndarray]:
    """Full-resolution luma, as stored (no rotation), of the first ``max_seconds`` of a video."""
    from itertools import islice

    from vidlens.media.decode import Sampling, read_frames
    from vidlens.media.source import open_source

    frames = read_frames(open_source(path, end=max_seconds), Sampling(pix_fmt="gray", upright=False))
    for sample in islice(frames, max_frames):
        yield sample.image


def detect_video(path: Path, *, key: bytes = DEFAULT_KEY, max_seconds: float = 30.0) -> Detection:
    return detect_frames(luma_frames(path, max_seconds=max_seconds), key)


def parse_payload(hex16: str) -> bytes:
    if len(hex16) != 16:
        raise UsageError(f"payload must be 16 hex digits (64 bits), got {len(hex16)} characters")
    try:
        return bytes.fromhex(hex16)
    except ValueError as exc:
        raise UsageError(f"payload {hex16!r} is not hexadecimal") from exc
