"""Temporal alignment: frame matches → copied segments with timecodes.

Close frame pairs (query i, reference j) vote in a Hough space of
``reference_time = speed · query_time + offset`` for speeds 0.75–1.25; the
strongest (speed, offset) line is refined (vote, then least squares), the query frames on
it are split into runs wherever the copy pauses for more than ``gap_s``, and each
dense run becomes a ``Segment``. The run's pairs are removed and the search
repeats, so one upload can carry several copies of one work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidlens.protect.fingerprint import Fingerprint, Segment
from vidlens.protect.visual import CANON, REF_SLOT, VARIANTS, hamming

SPEEDS = np.round(np.arange(0.75, 1.2501, 0.05), 3)


@dataclass(frozen=True)
class AlignParams:
    max_dist: int = 14          # a frame pair closer than this (of 64 bits) is a hit
    top_k: int = 32             # hits kept per query frame (static shots match many frames)
    bin_s: float = 0.5          # offset histogram bin
    tol_s: float = 0.6          # distance from the line that still counts as on it
    gap_s: float = 2.0          # a pause longer than this splits a segment
    min_hits: int = 5           # ~1 s at 5 fps
    min_density: float = 0.4    # hits / valid query frames inside the segment
    max_mean_dist: float = 11.0  # mean best distance of the segment's hits
    max_segments: int = 12


DEFAULT = AlignParams()


def frame_pairs(query: Fingerprint, reference: Fingerprint, params: AlignParams = DEFAULT,
                block: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Close pairs: (query index, reference index, distance, winning variant)."""
    qc, qv = query.arrays["codes"], query.arrays["valid"]
    rc, rv = reference.arrays["codes"][:, REF_SLOT].T, reference.arrays["valid"]  # (V, Nr)
    out_i, out_j, out_d, out_v = [], [], [], []
    r_ok = np.flatnonzero(rv)
    if len(r_ok) == 0:
        return (np.zeros(0, int),) * 2 + (np.zeros(0, np.uint8), np.zeros(0, int))  # type: ignore[return-value]
    rcodes = rc[:, r_ok]
    k = min(params.top_k, len(r_ok))
    for start in range(0, len(qc), block):
        idx = np.arange(start, min(start + block, len(qc)))
        idx = idx[qv[idx]]
        if len(idx) == 0:
            continue
        d = hamming(qc[idx][:, :, None], rcodes[None, :, :])  # (b, V, Nr)
        var = d.argmin(axis=1)
        dmin = np.take_along_axis(d, var[:, None, :], axis=1)[:, 0, :]
        top = np.argpartition(dmin, k - 1, axis=1)[:, :k] if k < dmin.shape[1] else \
            np.tile(np.arange(dmin.shape[1]), (len(idx), 1))
        dt = np.take_along_axis(dmin, top, axis=1)
        keep = dt <= params.max_dist
        rows = np.repeat(idx[:, None], top.shape[1], axis=1)[keep]
        cols = top[keep]
        out_i.append(rows)
        out_j.append(r_ok[cols])
        out_d.append(dt[keep])
        out_v.append(np.take_along_axis(var, top, axis=1)[keep])
    if not out_i:
        return (np.zeros(0, int),) * 2 + (np.zeros(0, np.uint8), np.zeros(0, int))  # type: ignore[return-value]
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d), np.concatenate(out_v)


def _best_line(qt: np.ndarray, rt: np.ndarray, w: np.ndarray, qi: np.ndarray,
               params: AlignParams) -> tuple[float, float, float]:
    """(speed, offset, votes) of the strongest line; each query frame votes once per bin."""
    best = (1.0, 0.0, 0.0)
    for a in SPEEDS:
        b = rt - a * qt
        bins = np.floor(b / params.bin_s).astype(np.int64)
        lo = bins.min()
        key = (bins - lo) * (qi.max() + 1) + qi
        # one vote per (bin, query frame): keep the best weight for duplicates
        order = np.lexsort((-w, key))
        sk = key[order]
        firsts = order[np.r_[True, sk[1:] != sk[:-1]]]
        votes = np.bincount((bins[firsts] - lo), weights=w[firsts])
        # neighbouring bins share a line that sits on a bin edge
        smooth = votes + np.r_[votes[1:], 0] if len(votes) > 1 else votes
        m = int(np.argmax(smooth))
        # real time wins ties: static shots fit many speeds about equally well
        gain = 1.0 if a == 1.0 else 0.9
        if smooth[m] * gain > best[2]:
            center = (m + lo + 1.0) * params.bin_s if len(votes) > 1 else (m + lo + 0.5) * params.bin_s
            best = (float(a), float(center), float(smooth[m] * gain))
    return best


def align_pairs(qt_all: np.ndarray, rt_all: np.ndarray, qi: np.ndarray, rj: np.ndarray, dist: np.ndarray,
                variant: np.ndarray, q_valid: np.ndarray, q_duration: float, r_duration: float,
                rate: float, params: AlignParams = DEFAULT) -> list[Segment]:
    """Segments from frame pairs (shared by the visual and audio paths)."""
    segments: list[Segment] = []
    alive = np.ones(len(qi), dtype=bool)
    period = 1.0 / rate
    for _ in range(params.max_segments * 2):
        if len(segments) >= params.max_segments or alive.sum() < params.min_hits:
            break
        idx = np.flatnonzero(alive)
        qt, rt = qt_all[qi[idx]], rt_all[rj[idx]]
        w = 1.0 - dist[idx] / (params.max_dist + 1.0)
        a, b, votes = _best_line(qt, rt, w, qi[idx], params)
        if votes < params.min_hits * 0.5:
            break
        on = np.abs(rt - (a * qt + b)) <= params.tol_s
        a, b = _refine(qt[on], rt[on], w[on], a, b)
        on = np.abs(rt - (a * qt + b)) <= params.tol_s
        hit_frames = np.unique(qi[idx][on])
        found = False
        for run in _runs(qt_all[hit_frames], params.gap_s):
            frames = hit_frames[run]
            seg = _segment(frames, idx[on], qi, dist, variant, qt_all, q_valid, a, b, period,
                           q_duration, r_duration, params)
            if seg is not None:
                segments.append(seg)
                found = True
            # either way these query frames are spent: one moment of the upload copies one place
            alive[np.isin(qi, frames)] = False
        if not found:
            # drop the line's pairs so the next strongest line gets its turn
            alive[idx[on]] = False
    return _merge(segments)


def _refine(qt: np.ndarray, rt: np.ndarray, w: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """Fine speed and offset: the line through most (weighted) pairs within 0.25 s.

    A vote count, not least squares, so a few stray pairs cannot tilt the line. Real
    time wins when it is in reach and within 10 % of the best support (a short or
    static stretch fits several speeds about equally well).
    """
    if len(qt) == 0:
        return a, b
    fine = np.round(a + np.arange(-0.05, 0.0501, 0.005), 3)
    res = rt[None, :] - fine[:, None] * qt[None, :]
    nb = np.median(res, axis=1)
    score = (w[None, :] * (np.abs(res - nb[:, None]) <= 0.25)).sum(axis=1)
    k = int(np.argmax(score))
    real = np.flatnonzero(fine == 1.0)
    if len(real) and score[real[0]] >= 0.9 * score[k]:
        return 1.0, float(nb[real[0]])
    # several speeds fit a short stretch about equally: a weighted least-squares line through
    # the winner's pairs settles it, kept inside the range that was searched
    on = np.abs(res[k] - nb[k]) <= 0.25
    if on.sum() >= 2 and np.ptp(qt[on]) > 0:
        slope, _ = np.polyfit(qt[on], rt[on], 1, w=np.sqrt(w[on]))
        na = float(np.clip(round(slope, 3), fine[0], fine[-1]))
        return na, float(np.median(rt[on] - na * qt[on]))
    return float(fine[k]), float(nb[k])


def _runs(times: np.ndarray, gap: float) -> list[np.ndarray]:
    if len(times) == 0:
        return []
    order = np.argsort(times)
    t = times[order]
    cuts = np.flatnonzero(np.diff(t) > gap) + 1
    return [order[r] for r in np.split(np.arange(len(t)), cuts)]


def _segment(frames: np.ndarray, pair_idx: np.ndarray, qi: np.ndarray, dist: np.ndarray, variant: np.ndarray,
             qt_all: np.ndarray, q_valid: np.ndarray, a: float, b: float, period: float, q_duration: float,
             r_duration: float, params: AlignParams) -> Segment | None:
    if len(frames) < params.min_hits:
        return None
    t0, t1 = float(qt_all[frames].min()), float(qt_all[frames].max())
    in_span = (qt_all >= t0) & (qt_all <= t1) & q_valid
    density = len(frames) / max(1, int(in_span.sum()))
    mine = pair_idx[np.isin(qi[pair_idx], frames)]
    # best distance per frame
    best: dict[int, tuple[int, int]] = {}
    for p in mine:
        f = int(qi[p])
        if f not in best or dist[p] < best[f][0]:
            best[f] = (int(dist[p]), int(variant[p]))
    mean_d = float(np.mean([d for d, _ in best.values()]))
    if density < params.min_density or mean_d > params.max_mean_dist:
        return None
    q0 = max(0.0, t0)
    q1 = min(q_duration, t1 + period)
    r0 = min(max(0.0, a * q0 + b), r_duration)
    r1 = min(max(0.0, a * q1 + b), r_duration)
    if r1 - r0 < 0.5 * period:
        return None
    similarity = max(0.0, 1.0 - mean_d / 32.0)
    score = round(min(1.0, density) * similarity, 4)
    return Segment(q0, q1, r0, r1, score, speed=round(a, 3), hints=_hints([v for _, v in best.values()], a))


def _hints(variants: list[int], speed: float) -> dict[str, object]:
    if not variants:
        return {}
    counts = np.bincount(np.asarray(variants), minlength=len(VARIANTS))
    top = int(np.argmax(counts))
    region, scale, mirror = VARIANTS[top] if top < len(VARIANTS) else ("content", CANON, False)
    hints: dict[str, object] = {"mirrored": bool(mirror), "picture_in_picture": region == "inset"}
    if region == "content" and scale > CANON:
        hints["cropped_pct"] = int(round((1 - CANON / scale) * 100))
    if abs(speed - 1.0) >= 0.04:
        hints["speed"] = round(speed, 3)
    return hints


def _suppress(segments: list[Segment]) -> list[Segment]:
    """Drop a segment whose query span mostly lies inside a better one (static shots echo)."""
    kept: list[Segment] = []
    for s in sorted(segments, key=lambda x: -x.score * x.query_duration_s):
        inside = sum(max(0.0, min(s.query_end_s, k.query_end_s) - max(s.query_start_s, k.query_start_s))
                     for k in kept)
        if inside <= 0.5 * s.query_duration_s:
            kept.append(s)
    return kept


def _merge(segments: list[Segment]) -> list[Segment]:
    """Join segments that continue one another on the same line (a split run)."""
    segs = sorted(_suppress(segments), key=lambda s: s.query_start_s)
    out: list[Segment] = []
    for s in segs:
        if out:
            p = out[-1]
            gap_q = s.query_start_s - p.query_end_s
            expected_r = p.reference_end_s + gap_q * s.speed
            if -0.5 <= gap_q <= 2.5 and abs(s.reference_start_s - expected_r) <= 1.0:
                span_p, span_s = p.query_duration_s, s.query_duration_s
                score = (p.score * span_p + s.score * span_s) / max(span_p + span_s, 1e-9)
                out[-1] = Segment(p.query_start_s, max(p.query_end_s, s.query_end_s), p.reference_start_s,
                                  max(p.reference_end_s, s.reference_end_s), round(score, 4),
                                  p.speed, p.hints)
                continue
        out.append(s)
    return out


def align_visual(query: Fingerprint, reference: Fingerprint, params: AlignParams = DEFAULT) -> list[Segment]:
    if query.empty or reference.empty:
        return []
    qi, rj, d, v = frame_pairs(query, reference, params)
    if len(qi) < params.min_hits:
        return []
    rate = float(query.meta.get("rate", 5.0))
    return align_pairs(query.arrays["times"].astype(np.float64), reference.arrays["times"].astype(np.float64),
                       qi, rj, d.astype(np.float64), v, query.arrays["valid"], query.duration_s,
                       reference.duration_s, rate, params)
