"""Visual fingerprint: 64-bit DCT codes at a fixed time rate, with query-side variants.

Per sampled frame (5 per second, grey, at most 160 px a side, from the single decode):

1. The *content box* is found per 30 s chunk: rows and columns that stay flat for
   the whole chunk (black or coloured letterbox/pillarbox bars) are trimmed.
2. *Picture-in-picture boxes* are looked for: rectangles of any film's shape, 10–70 %
   of the frame's area, whose sides are lines where two unrelated pictures meet: the
   difference between neighbouring pixels keeps changing there (each side moves on its
   own), while inside one picture it stays put, and a still edge of the scene scores
   nothing. The three best are measured (footage around an inset can outscore it), each
   with its own letterbox bars trimmed.
3. A region is reduced to a 32×32 thumbnail (box means from one integral image),
   transformed with a 2-D DCT, and its 64 lowest non-DC frequencies are
   thresholded at their median: a 64-bit code. Mirroring the picture only flips
   the sign of odd horizontal frequencies, so the mirrored code costs no pixels.

Every frame stores one code per slot of ``codes.VARIANTS`` (canonical, mirrored, crops,
insets, centre); ``codes`` says which reference code each stands for.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from vidlens.errors import MediaError
from vidlens.media.decode import Sampling, iter_frames
from vidlens.plugins import PluginManifest
from vidlens.protect.align import align_visual
from vidlens.protect.codes import CANON, VARIANTS, pack_bits, widened
from vidlens.protect.fingerprint import CorruptFingerprintError, Example, Fingerprint, Fingerprinter, Segment
from vidlens.protect.index import BinaryIndex
from vidlens.types import FrameSample, Video

RATE = 5.0
MAX_SIDE = 160  # the whole picture is measured at this size; insets on frames up to twice as fine
GRID = 32
CHUNK = 150
MIN_STD = 4.0
BAR_SHADE = 6.0  # grey levels a letterbox/pillarbox bar may vary across its lines
BAR_NOISE = 2.0  # spatial std of a bar line; still asphalt or sky under blur measures 2.5 and up
INSET_LINES = 12  # candidate lines per direction for picture-in-picture sides
INSET_AREA = (0.1, 0.7)  # an inset's share of the frame
INSET_ASPECT = (0.8, 2.6)  # an inset's width / height: portrait-ish phone clips to scope films
INSET_CAP = 16.0  # strength a single boundary pixel may contribute, in units of the frame's mean
INSET_BAR_SHARE = 0.5  # an inset's bars are flat while it is on screen, at least half a chunk
INSET_EDGE = 2  # lines of an inset's rim (fine frames) left out when its own bars are trimmed
INSET_MIN_SCORE = 6.0  # weakest side / mean boundary strength; insets measured 7.4-38, plain clips mostly < 6


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def _low_frequencies(count: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = sorted(((u, v) for u in range(12) for v in range(12) if (u, v) != (0, 0)),
                   key=lambda p: (p[0] + p[1], p[0]))
    sel = pairs[:count]
    return np.array([p[0] for p in sel]), np.array([p[1] for p in sel])


_DCT32 = _dct_matrix(GRID)[:12].astype(np.float32)
_FU, _FV = _low_frequencies(64)
_ODD_V = (_FV % 2 == 1)
def content_box(frames: np.ndarray, share: float = 1.0) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) after trimming bars that stay flat across ``frames`` (T, H, W).

    A bar line is flat (one shade along it, the same shade over time) in at least ``share`` of the
    frames: all of them for the whole picture; an inset is on screen for only part of a chunk, and
    the footage behind it fills its place before and after.
    """
    f = frames.astype(np.float32)

    def flat(g: np.ndarray, axis_keep: int) -> tuple[np.ndarray, np.ndarray]:
        other = 2 if axis_keep == 1 else 1
        on = g.std(axis=other) < BAR_NOISE  # (T, lines)
        mean = np.where(on, g.mean(axis=other), np.nan)
        enough = on.mean(axis=0) >= share - 1e-9
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN lines are not bars anyway
            temporal = np.nanmax(mean, axis=0) - np.nanmin(mean, axis=0)
            level = np.nanmean(mean, axis=0)
        return enough & (temporal < 10.0), np.nan_to_num(level)

    def trim(mask: np.ndarray, level: np.ndarray) -> tuple[int, int]:
        n = len(mask)
        lo = 0
        while lo < n and mask[lo]:
            lo += 1
        hi = n
        while hi > lo and mask[hi - 1]:
            hi -= 1
        # a bar is one colour from edge to edge; a still, smooth stretch of picture (a wall, the
        # sky under blur) shades across its lines and stays
        if lo and np.ptp(level[:lo]) > BAR_SHADE:
            lo = 0
        if hi < n and np.ptp(level[hi:]) > BAR_SHADE:
            hi = n
        if hi - lo < max(8, n // 4):
            return 0, n
        return lo, hi

    # pillars first, then the rows between them: windowboxed bars of two colours still trim
    x0, x1 = trim(*flat(f, 2))
    y0, y1 = trim(*flat(f[:, :, x0:x1], 1))
    return y0, y1, x0, x1


def _ridges(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary strength between neighbouring pixels: (H, W-1) across columns, (H-1, W) across rows.

    The temporal standard deviation of the difference between two neighbours: pixels of one
    picture move together and their difference stays put, while across an inset's border two
    unrelated pictures change independently. A still edge of the scene (a shelf, a kerb) keeps a
    constant difference and scores nothing. Only ridges count: stronger than the same measure two
    pixels to either side.
    """
    f = frames.astype(np.float32)
    gx = np.diff(f, axis=2).std(axis=0)
    gy = np.diff(f, axis=1).std(axis=0)
    rx = np.clip(gx - np.maximum(np.roll(gx, 2, axis=1), np.roll(gx, -2, axis=1)), 0, None)
    ry = np.clip(gy - np.maximum(np.roll(gy, 2, axis=0), np.roll(gy, -2, axis=0)), 0, None)
    rx[:, [0, -1]] = 0.0
    ry[[0, -1], :] = 0.0
    return rx, ry


def _line_candidates(ridge: np.ndarray, run: int, count: int) -> np.ndarray:
    """Positions (1 + boundary index) of the ``count`` strongest lines along axis 1 of ``ridge``.

    A line's strength is its best mean over ``run`` consecutive pixels, so an inset's side
    stands out even though it spans only part of the frame; neighbours within 3 px of a
    stronger line are suppressed.
    """
    c = np.vstack([np.zeros((1, ridge.shape[1])), np.cumsum(ridge, axis=0)])
    strength = ((c[run:] - c[:-run]) / run).max(axis=0)
    picked: list[int] = []
    for i in np.argsort(-strength, kind="stable"):
        if strength[i] <= 0 or len(picked) >= count:
            break
        if all(abs(int(i) - j) >= 3 for j in picked):
            picked.append(int(i))
    return np.array(picked, dtype=np.int64) + 1


def inset_box(frames: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The strongest picture-in-picture rectangle inside ``box``, or None when none stands out."""
    found = inset_candidates(frames, box, 1)
    return found[0][1] if found else None


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (y0, y1, x0, x1) boxes."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[2], b[2]))
    union = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2]) - inter
    return inter / union if union > 0 else 0.0


def inset_candidates(frames: np.ndarray, box: tuple[int, int, int, int],
                     count: int) -> list[tuple[float, tuple[int, int, int, int]]]:
    """Up to ``count`` picture-in-picture rectangles inside ``box`` that stand out, best first, as
    (score, (y0, y1, x0, x1)); each overlaps every better one by less than half.

    Candidate sides are the strongest vertical and horizontal boundary lines (``_ridges``);
    every rectangle they make with a plausible size (``INSET_AREA`` of the frame) and shape
    (``INSET_ASPECT``, any film's) is scored by its weakest side's mean strength relative to
    the frame's mean. Three sides must lie inside the frame; the fourth may be its edge.
    """
    y0, y1, x0, x1 = box
    f = frames[:, y0:y1, x0:x1]
    t, h, w = f.shape
    if h < 24 or w < 24 or t < 3:
        return []
    rx, ry = _ridges(f)
    level = float(rx.mean() + ry.mean()) / 2 + 1e-6
    # a side is strong along its length: no pixel counts for more than INSET_CAP times the mean,
    # so a short, very strong stretch (the edge of something moving across a still scene) cannot
    # stand for a whole side
    rx, ry = np.minimum(rx, INSET_CAP * level), np.minimum(ry, INSET_CAP * level)
    cols = np.unique(np.r_[0, w, _line_candidates(rx, max(4, h // 3), INSET_LINES)])
    rows = np.unique(np.r_[0, h, _line_candidates(ry.T, max(4, w // 3), INSET_LINES)])
    cx = np.vstack([np.zeros((1, rx.shape[1])), np.cumsum(rx, axis=0)])  # (h+1, w-1)
    cy = np.hstack([np.zeros((ry.shape[0], 1)), np.cumsum(ry, axis=1)])  # (h-1, w+1)
    xa, xb = np.triu_indices(len(cols), 1)
    ya, yb = np.triu_indices(len(rows), 1)
    bx0, bx1 = cols[xa][None, :], cols[xb][None, :]
    by0, by1 = rows[ya][:, None], rows[yb][:, None]
    bw, bh = (bx1 - bx0).astype(np.float64), (by1 - by0).astype(np.float64)

    def vertical(x: np.ndarray) -> np.ndarray:  # mean strength of the boundary left of column x
        col = np.clip(x - 1, 0, w - 2)
        return (cx[by1, col] - cx[by0, col]) / bh

    def horizontal(y: np.ndarray) -> np.ndarray:  # of the boundary above row y
        row = np.clip(y - 1, 0, h - 2)
        return (cy[row, bx1] - cy[row, bx0]) / bw

    sides = np.stack(np.broadcast_arrays(vertical(bx0), vertical(bx1), horizontal(by0), horizontal(by1)))
    inside = np.stack(np.broadcast_arrays(bx0 > 0, bx1 < w, by0 > 0, by1 < h))
    score = np.where(inside, sides, np.inf).min(axis=0) / level
    # a side on the frame's edge is unseen, not strong: such a box passes at best barely, so a
    # box whose fourth side is a real line wins
    score = np.where(inside.all(axis=0), score, np.minimum(score, INSET_MIN_SCORE))
    area = bw * bh / (w * h)
    aspect = bw / bh
    ok = ((inside.sum(axis=0) >= 3) & (area >= INSET_AREA[0]) & (area <= INSET_AREA[1])
          & (aspect >= INSET_ASPECT[0]) & (aspect <= INSET_ASPECT[1]))
    score = np.where(ok, score, 0.0)

    def rect(i: int, j: int) -> tuple[int, int, int, int]:
        return y0 + int(rows[ya[i]]), y0 + int(rows[yb[i]]), x0 + int(cols[xa[j]]), x0 + int(cols[xb[j]])

    out: list[tuple[float, tuple[int, int, int, int]]] = []
    for flat in np.argsort(-score, axis=None, kind="stable"):
        i, j = np.unravel_index(int(flat), score.shape)
        if score[i, j] < INSET_MIN_SCORE or len(out) >= count:
            break
        if any(_overlap(rect(i, j), r) >= 0.5 for _, r in out):
            continue
        out.append((float(score[i, j]), rect(i, j)))
        if len(out) == 1 and not inside[:, i, j].all():
            # the best box leans on the frame's edge: that edge is the inset's own side when the inset is
            # flush with it, or its real side there was weak (still footage on both sides of it); the box
            # closed by the strongest line inside is measured next, and the one that matches a work wins
            edge = int(np.flatnonzero(~inside[:, i, j])[0])
            same = {0: (np.arange(score.shape[0]) == i)[:, None] & (cols[xb] == cols[xb[j]])[None, :],
                    1: (np.arange(score.shape[0]) == i)[:, None] & (cols[xa] == cols[xa[j]])[None, :],
                    2: (rows[yb] == rows[yb[i]])[:, None] & (np.arange(score.shape[1]) == j)[None, :],
                    3: (rows[ya] == rows[ya[i]])[:, None] & (np.arange(score.shape[1]) == j)[None, :]}[edge]
            closed = same & ok & inside.all(axis=0)
            if closed.any():
                k, m = np.unravel_index(int(np.argmax(np.where(closed, sides[edge], -1.0))), score.shape)
                out.append((float(sides[:, k, m].min() / level), rect(k, m)))
    return out[:count]


def _scaled(box: tuple[int, int, int, int], scale: float) -> tuple[float, float, float, float]:
    y0, y1, x0, x1 = box
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    hh, hw = (y1 - y0) * scale / 2, (x1 - x0) * scale / 2
    return cy - hh, cy + hh, cx - hw, cx + hw


def thumbnails(integral: np.ndarray, region: tuple[float, float, float, float]) -> np.ndarray:
    """(T, GRID, GRID) box means of ``region`` from integral images (T, H+1, W+1)."""
    y0, y1, x0, x1 = region
    ys = np.round(np.linspace(y0, y1, GRID + 1)).astype(int)
    xs = np.round(np.linspace(x0, x1, GRID + 1)).astype(int)
    ys[1:] = np.maximum(ys[1:], ys[:-1] + 1)
    xs[1:] = np.maximum(xs[1:], xs[:-1] + 1)
    ys = np.clip(ys, 0, integral.shape[1] - 1)
    xs = np.clip(xs, 0, integral.shape[2] - 1)
    a, b = ys[:-1, None], ys[1:, None]
    c, d = xs[None, :-1], xs[None, 1:]
    s = integral[:, b, d] - integral[:, a, d] - integral[:, b, c] + integral[:, a, c]
    area = np.maximum((b - a) * (d - c), 1)
    return s.astype(np.float32) / area


def codes_from_thumbnails(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, G, G) → plain codes, mirrored codes (T,) uint64, and per-frame contrast (T,)."""
    coef = (_DCT32 @ thumbs @ _DCT32.T)[:, _FU, _FV]
    mirrored = np.where(_ODD_V, -coef, coef)
    plain = pack_bits(coef > np.median(coef, axis=1, keepdims=True))
    flip = pack_bits(mirrored > np.median(mirrored, axis=1, keepdims=True))
    return plain, flip, thumbs.reshape(len(thumbs), -1).std(axis=1)


def _integral(frames: np.ndarray) -> np.ndarray:
    """(T, H+1, W+1) summed-area tables; int32 is exact up to 255 * 320 * 320."""
    t, h, w = frames.shape
    out = np.zeros((t, h + 1, w + 1), dtype=np.int32)
    np.cumsum(frames, axis=1, dtype=np.int32, out=out[:, 1:, 1:])
    np.cumsum(out[:, 1:, 1:], axis=2, out=out[:, 1:, 1:])
    return out


def _refine_inset(fine: np.ndarray, inset: tuple[int, int, int, int], ratio: int) -> tuple[int, int, int, int]:
    """The inset's sides moved to the strongest boundary within a pixel on the fine frames.

    The inset is found on the coarse frames (1/``ratio`` of the fine size), where one pixel of error is
    a few per cent of a small inset's side and costs its codes several bits; each side is placed again
    where the fine frames' boundary strength along it peaks. A side on the frame's edge stays.
    """
    t, h, w = fine.shape
    y0, y1 = (min(h, v * ratio) for v in inset[:2])
    x0, x1 = (min(w, v * ratio) for v in inset[2:])
    r = ratio - 1
    rx, ry = _ridges(fine[:, max(0, y0 - r - 2):min(h, y1 + r + 2), max(0, x0 - r - 2):min(w, x1 + r + 2)])
    oy, ox = max(0, y0 - r - 2), max(0, x0 - r - 2)

    def best(pos: int, edge: int, strength: Callable[[int], float]) -> int:
        if pos in (0, edge):
            return pos
        return max(range(pos - r, pos + r + 1), key=lambda p: (strength(p), -abs(p - pos)))

    def col(x: int) -> float:  # mean strength of the boundary left of column x, along the inset's height
        i = x - 1 - ox
        return float(rx[y0 - oy:y1 - oy, i].mean()) if 0 <= i < rx.shape[1] else 0.0

    def row(y: int) -> float:
        i = y - 1 - oy
        return float(ry[i, x0 - ox:x1 - ox].mean()) if 0 <= i < ry.shape[0] else 0.0

    return best(y0, h, row), best(y1, h, row), best(x0, w, col), best(x1, w, col)


def spacing(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """(decoded side, fine pixels per coarse pixel) for a picture of this size.

    The decoder keeps every n-th pixel of a large picture. The whole picture is measured on the
    pixels it always was (every n-th, at most ``max_side`` a side); the frames are decoded at n/2
    where n is even, so that the coarse frames are exactly every second fine pixel, and at n where
    it is odd (no finer inset then). Unknown sizes get twice ``max_side``.
    """
    side = max(width, height)
    if side <= 0:
        return 2 * max_side, 2
    n = -(-side // max_side)
    fine = n // 2 if n % 2 == 0 else n
    return -(-side // fine), n // fine


def _inset_codes(fine: np.ndarray, inset: tuple[int, int, int, int], ratio: int,
                 scales: set[float]) -> tuple[dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]],
                                              tuple[int, int, int, int]] | None:
    """Codes of one inset (a coarse box) at each of ``scales`` and its box on the fine frames; None if small.

    Each side is placed again on the fine frames (``_refine_inset``); a film shown in picture brings its own
    letterbox bars, and its outermost lines blend with the footage around it when the frame was scaled, so
    the bars are looked for inside them.
    """
    y0, y1, x0, x1 = _refine_inset(fine, inset, ratio)
    e = INSET_EDGE
    crop = fine[:, y0 + e:y1 - e, x0 + e:x1 - e]
    if min(crop.shape[1:]) < 8:
        return None
    cy0, cy1, cx0, cx1 = content_box(crop, INSET_BAR_SHARE)
    region = crop[:, cy0:cy1, cx0:cx1]
    integral = _integral(region)
    full = (0, region.shape[1], 0, region.shape[2])
    codes = {scale: codes_from_thumbnails(thumbnails(integral, _scaled(full, scale))) for scale in scales}
    return codes, (y0 + e + cy0, y0 + e + cy1, x0 + e + cx0, x0 + e + cx1)


def _chunk_codes(fine: np.ndarray, ratio: int = 2) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Codes of one chunk of decoded frames (T, H, W).

    The whole picture is measured on coarse frames (every ``ratio``-th pixel, at most ``MAX_SIDE`` a
    side), as references always were; picture-in-picture insets, a fraction of the frame, are cut and
    measured on the fine ones. The best inset fills the ``inset`` slots; the next candidates fill
    ``inset2``, ``inset3``: when a stronger rectangle of the footage around it outranks the real inset,
    the inset is still measured, and the aligner keeps whichever matches a work.
    """
    frames = np.ascontiguousarray(fine[:, ::ratio, ::ratio])
    box = content_box(frames)
    regions = [name for name in dict.fromkeys(name for name, _, _ in VARIANTS) if name.startswith("inset")]
    found: dict[str, dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    boxes: list[list[int]] = []
    for name, (_, candidate) in zip(regions, inset_candidates(frames, box, len(regions))):
        measured = _inset_codes(fine, candidate, ratio, {sc for n, sc, _ in VARIANTS if n == name})
        if measured is not None:
            found[name] = measured[0]
            boxes.append(list(measured[1]))  # on the fine frames
    integral = _integral(frames)
    codes = np.zeros((len(frames), len(VARIANTS)), dtype=np.uint64)
    cache: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for slot, (region_name, scale, mirror) in enumerate(VARIANTS):
        if region_name in found:
            plain, flip, _ = found[region_name][scale]
        else:  # no such inset: its slots hold the whole picture's codes
            if scale not in cache:
                cache[scale] = codes_from_thumbnails(thumbnails(integral, _scaled(box, scale)))
            plain, flip, _ = cache[scale]
        codes[:, slot] = flip if mirror else plain
    contrast = cache[CANON][2] if CANON in cache else \
        codes_from_thumbnails(thumbnails(integral, _scaled(box, CANON)))[2]
    return codes, contrast >= MIN_STD, {"box": list(box), "inset": boxes[0] if boxes else None,
                                        "insets": boxes, "fine_per_coarse": ratio}


class VisualFingerprinter(Fingerprinter):
    """Per-frame 64-bit DCT codes at 5 fps with crop/mirror/inset variants."""

    name = "visual"
    version = 2
    manifest = PluginManifest(name, str(version), "fingerprinter",
                              "64-bit DCT codes of the picture at 5 frames a second, with crop, mirror and "
                              "picture-in-picture variants.")

    def __init__(self, rate: float = RATE, max_side: int = MAX_SIDE, threads: int = 2) -> None:
        self.rate = rate
        self.max_side = max_side
        self.threads = threads

    def sampling(self, video: Video | None = None) -> Sampling:
        side, _ = spacing(video.width or 0, video.height or 0, self.max_side) if video else spacing(0, 0, self.max_side)
        return Sampling(fps=self.rate, max_side=side, pix_fmt="gray")

    def fingerprint(self, video: Video) -> Fingerprint:
        frames = iter_frames(video, self.sampling(video), threads=self.threads, skip_nonref=True)
        return self.from_frames(frames, video.duration_s, spacing(video.width or 0, video.height or 0, self.max_side)[1])

    def from_frames(self, frames: Iterator[FrameSample], duration_s: float, ratio: int = 2) -> Fingerprint:
        """Fingerprint a stream of grey samples (also usable as a ``FrameFanout`` consumer)."""
        times: list[float] = []
        code_parts: list[np.ndarray] = []
        valid_parts: list[np.ndarray] = []
        boxes: list[dict[str, object]] = []
        buf: list[np.ndarray] = []
        shape: tuple[int, ...] | None = None

        def flush() -> None:
            if buf:
                c, v, info = _chunk_codes(np.stack(buf), ratio)
                code_parts.append(c)
                valid_parts.append(v)
                boxes.append(info)
                buf.clear()

        for sample in frames:
            img = sample.image
            if shape is None:
                shape = img.shape
            elif img.shape != shape:  # mid-stream resolution change: resample to the first size
                img = _resize_nearest(img, shape)
            buf.append(img)
            times.append(sample.t)
            if len(buf) >= CHUNK:
                flush()
        flush()
        if not times:
            raise MediaError("no frame could be sampled for the visual fingerprint")
        codes = np.concatenate(code_parts)
        valid = np.concatenate(valid_parts)
        t = np.asarray(times, dtype=np.float32)
        t -= t[0]
        return Fingerprint(
            kind=self.name, version=self.version, duration_s=max(float(duration_s), float(t[-1]) + 1 / self.rate),
            arrays={"times": t, "codes": codes, "valid": valid},
            meta={"rate": self.rate, "variants": [list(v) for v in VARIANTS], "chunks": boxes,
                  "empty": not bool(valid.any())})

    def validate(self, value: Fingerprint) -> Fingerprint:
        self._check_kind(value)
        a = value.arrays
        for name, dtype in (("times", np.float32), ("codes", np.uint64), ("valid", np.bool_)):
            if name not in a or a[name].dtype != dtype:
                raise CorruptFingerprintError(f"visual fingerprint: array '{name}' missing or not {np.dtype(dtype)}")
        n = len(a["times"])
        codes = widened(a["codes"])  # a work registered before the later inset slots needs no re-registration
        if codes.shape != (n, len(VARIANTS)) or a["valid"].shape != (n,):
            raise CorruptFingerprintError("visual fingerprint: array lengths disagree")
        if n and (not np.all(np.isfinite(a["times"])) or np.any(np.diff(a["times"]) < 0)):
            raise CorruptFingerprintError("visual fingerprint: frame times are not finite and increasing")
        return value if codes is a["codes"] else replace(value, arrays={**a, "codes": codes})

    def compare(self, query: Fingerprint, reference: Fingerprint) -> list[Segment]:
        return align_visual(self.validate(query), self.validate(reference))

    @classmethod
    def index_cls(cls) -> type[BinaryIndex]:
        return BinaryIndex

    @classmethod
    def examples(cls) -> list[Example]:
        src = "testsrc2=size=320x240:rate=25:duration={d}"
        other = "mandelbrot=size=320x240:rate=25,trim=duration={d}"
        return [
            Example("identical", f"{src},format=yuv420p[v]", f"{src},format=yuv420p[v]", True),
            Example("mirrored and blurred", f"{src},format=yuv420p[v]",
                    f"{src},hflip,boxblur=2,format=yuv420p[v]", True),
            Example("letterboxed at 180p", f"{src},format=yuv420p[v]",
                    f"{src},scale=240:135,pad=240:180:0:22,format=yuv420p[v]", True),
            Example("in picture, a third of the frame, over other footage", f"{src},format=yuv420p[v]",
                    f"{other}[bg];{src},scale=176:132[in];[bg][in]overlay=x=128:y=92,format=yuv420p[v]", True),
            Example("unrelated picture", f"{src},format=yuv420p[v]", f"{other},format=yuv420p[v]", False),
        ]


def _resize_nearest(img: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    ys = (np.arange(shape[0]) * img.shape[0] // shape[0]).clip(0, img.shape[0] - 1)
    xs = (np.arange(shape[1]) * img.shape[1] // shape[1]).clip(0, img.shape[1] - 1)
    return img[ys][:, xs]
