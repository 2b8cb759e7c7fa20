"""Temporal alignment: frame matches → copied segments with timecodes.

Close frame pairs (query i, reference j) vote in a Hough space of
``reference_time = speed · query_time + offset`` for speeds 0.75–1.25. A pair's vote
is its similarity divided by the number of separate reference seconds its query
frame fits about as well: on a fixed camera most frames fit everywhere, and only the
frames that show something happening say where the copy sits. The strongest
(speed, offset) line is refined (vote, then least squares, never outside the speeds
searched), the query frames on it are split into runs wherever the copy pauses for
more than ``gap_s``, and each dense run becomes a ``Segment`` whose reference span is
its query span times its speed. The run's pairs are removed and the search repeats,
so one upload can carry several copies of one work.

The visual fingerprint's pairs are near matches, so it does more (``align_visual``):
the speed is measured on the distinctive frames' best matches and kept at 1.0 unless
they show it (``_fit_speed``); a ``LineProbe`` reads the frames on the chosen line off
the codes themselves rather than from the few nearest pairs kept per frame, so a still
stretch of a copy is not cut off; and each segment's place is weighed against every
other offset into the work (``placement_confidence``), so still footage that fits
many places is reported as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from vidlens.protect.codes import CANON, REF_SLOT, VARIANTS, distinct_slots, hamming
from vidlens.protect.fingerprint import Fingerprint, Segment

SPEEDS = np.round(np.arange(0.75, 1.2501, 0.05), 3)
SPEED_RANGE = (float(SPEEDS[0]), float(SPEEDS[-1]))
SPEED_WINDOW_S = 2.0  # a frame's best match this close to the voted line measures the speed
SPEED_MIN_POINTS = 6  # distinctive frames needed to measure a speed
SPEED_SIGMAS = 3.0  # standard errors by which a measured speed must differ from 1.0

# (speed, offset, query frame indices, tolerance s) -> (best distance, winning variant) per frame, 255
# where no reference frame lies within the tolerance of the line
LineProbe = Callable[[float, float, np.ndarray, float], tuple[np.ndarray, np.ndarray]]


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
    slack: float = 2.0          # a pair this close to its frame's best pair fits "about as well"
    other_place_s: float = 1.5  # another placement is one at least this far from the reported offset
    margin: float = 0.1         # similarity (1.5 bits) by which a frame must prefer one placement
    prior: float = 3.0          # frames' worth of doubt before any frame takes a side


DEFAULT = AlignParams()


def frame_pairs(query: Fingerprint, reference: Fingerprint, params: AlignParams = DEFAULT,
                block: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Close pairs: (query index, reference index, distance, winning variant)."""
    qc, qv = query.arrays["codes"], query.arrays["valid"]
    slots = distinct_slots(qc)  # a repeated slot would only repeat its distances
    qc = qc[:, slots]
    rc, rv = reference.arrays["codes"][:, REF_SLOT[slots]].T, reference.arrays["valid"]  # (V, Nr)
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
        out_v.append(slots[np.take_along_axis(var, top, axis=1)[keep]])
    if not out_i:
        return (np.zeros(0, int),) * 2 + (np.zeros(0, np.uint8), np.zeros(0, int))  # type: ignore[return-value]
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d), np.concatenate(out_v)


def visual_probe(query: Fingerprint, reference: Fingerprint, params: AlignParams = DEFAULT) -> LineProbe:
    """Measure query frames against the reference frames a line maps them to (all variants)."""
    qc, qv = query.arrays["codes"], query.arrays["valid"]
    slots = distinct_slots(qc)
    qc = qc[:, slots]
    qt = query.arrays["times"].astype(np.float64)
    rc = reference.arrays["codes"][:, REF_SLOT[slots]]  # (Nr, V): the reference code each variant stands for
    rt = reference.arrays["times"].astype(np.float64)
    rv = reference.arrays["valid"]
    rate = float(reference.meta.get("rate", 5.0))

    def probe(a: float, b: float, frames: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
        target = a * qt[frames] + b
        span = int(np.ceil(2 * tol * rate)) + 2
        j = np.searchsorted(rt, target - tol)[:, None] + np.arange(span)[None, :]
        inside = (j < len(rt))
        jc = np.minimum(j, len(rt) - 1)
        inside &= (np.abs(rt[jc] - target[:, None]) <= tol) & rv[jc] & qv[frames][:, None]
        d = hamming(qc[frames][:, None, :], rc[jc])  # (n, span, V)
        var = d.argmin(axis=2)
        best = np.where(inside, np.take_along_axis(d, var[:, :, None], axis=2)[:, :, 0], 255)
        pick = best.argmin(axis=1)
        return (best[np.arange(len(frames)), pick].astype(np.uint8), slots[var[np.arange(len(frames)), pick]])

    return probe


def _distinctiveness(qi: np.ndarray, rj: np.ndarray, dist: np.ndarray, rt_all: np.ndarray,
                     slack: float) -> np.ndarray:
    """Per pair: 1 / the number of separate reference seconds its query frame fits about as well."""
    if len(qi) == 0:
        return np.zeros(0)
    n = int(qi.max()) + 1
    best = np.full(n, np.inf)
    np.minimum.at(best, qi, dist)
    near = dist <= best[qi] + slack
    sec = np.floor(rt_all[rj]).astype(np.int64)
    width = int(sec.max()) + 1
    places = np.bincount(np.unique(qi[near] * width + sec[near]) // width, minlength=n)
    return 1.0 / np.maximum(places[qi], 1)


def _best_line(qt: np.ndarray, rt: np.ndarray, w: np.ndarray, qi: np.ndarray,
               params: AlignParams) -> tuple[float, float]:
    """(speed, offset) of the strongest line; each query frame votes once per bin."""
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
    return best[0], best[1]


def _choose_line(qt: np.ndarray, rt: np.ndarray, w: np.ndarray, qi: np.ndarray, dist: np.ndarray,
                 distinct: np.ndarray, params: AlignParams, measure_speed: bool) -> tuple[float, float]:
    """The line of the copy: the best-voted one, refined.

    With ``measure_speed`` (a fingerprint whose pairs are near matches, not exact ones) the
    speed is then measured, not voted: see ``_fit_speed``.
    """
    a, b = _best_line(qt, rt, w, qi, params)
    on = np.abs(rt - (a * qt + b)) <= params.tol_s
    a, b = _refine(qt[on], rt[on], w[on], a, b)
    if not measure_speed:
        return a, b
    return _fit_speed(qt, rt, qi, dist, distinct, a, b, params)


def _fit_speed(qt: np.ndarray, rt: np.ndarray, qi: np.ndarray, dist: np.ndarray, distinct: np.ndarray,
               a: float, b: float, params: AlignParams) -> tuple[float, float]:
    """Speed and offset measured on the distinctive frames near the line ``(a, b)``.

    Each query frame that fits at most two separate seconds of the work (a still frame fits
    them all and says nothing) gives one point: its best match within ``SPEED_WINDOW_S`` of the
    line. A Theil-Sen line through the points, then least squares on its inliers, gives the
    speed and its standard error. The copy plays at real time unless the speed is further from
    1.0 than ``SPEED_SIGMAS`` standard errors (and 0.03) and drifts at least ``tol_s`` from real
    time across the points; too few points, or too short a stretch of them, also means real
    time. The speed stays in the range searched.
    """
    on = np.abs(rt - (a * qt + b)) <= params.tol_s
    # without enough evidence: real time, crossing the voted line amid its pairs
    real = (1.0, b + (a - 1.0) * float(np.median(qt[on] if on.any() else qt)))
    near = (np.abs(rt - (a * qt + b)) <= SPEED_WINDOW_S) & (distinct >= 0.5)
    if near.sum() < SPEED_MIN_POINTS:
        return real
    f, r, d = qi[near], rt[near], dist[near]
    order = np.lexsort((d, f))
    f, r, d, t = f[order], r[order], d[order], qt[near][order]
    first = np.r_[True, f[1:] != f[:-1]]
    best = np.repeat(d[first], np.diff(np.r_[np.flatnonzero(first), len(f)]))
    ties = d == best  # equally close reference frames: their mean time
    _, inverse = np.unique(f[ties], return_inverse=True)
    ref_t = np.bincount(inverse, weights=r[ties]) / np.bincount(inverse)
    q_t = np.bincount(inverse, weights=t[ties]) / np.bincount(inverse)
    # a reference frame that is the best match of several query frames (a still stretch, or the
    # sharpest frame of a slow one) is one observation, at their mean time
    ref_t, inverse = np.unique(ref_t, return_inverse=True)
    q_t = np.bincount(inverse, weights=q_t) / np.bincount(inverse)
    if len(q_t) < SPEED_MIN_POINTS:
        return real
    i, j = np.triu_indices(len(q_t), 1)
    apart = (q_t[j] - q_t[i]) >= params.tol_s
    if not apart.any():
        return real
    slope = float(np.median((ref_t[j] - ref_t[i])[apart] / (q_t[j] - q_t[i])[apart]))
    inl = np.abs(ref_t - (slope * q_t + float(np.median(ref_t - slope * q_t)))) <= params.tol_s
    tq, tr = q_t[inl], ref_t[inl]
    if len(tq) < SPEED_MIN_POINTS or np.ptp(tq) < 2 * params.tol_s:
        return real
    sxx = float(((tq - tq.mean()) ** 2).sum())
    ls = float(((tq - tq.mean()) * (tr - tr.mean())).sum() / sxx)
    resid = tr - (tr.mean() + ls * (tq - tq.mean()))
    se = float(np.sqrt((resid ** 2).sum() / max(1, len(tq) - 2) / sxx))
    if abs(ls - 1.0) <= max(0.03, SPEED_SIGMAS * se) or abs(ls - 1.0) * float(np.ptp(tq)) < params.tol_s:
        return 1.0, float(np.median(tr - tq))
    speed = float(np.clip(round(ls, 3), *SPEED_RANGE))
    return speed, float(np.median(tr - speed * tq))


def align_pairs(qt_all: np.ndarray, rt_all: np.ndarray, qi: np.ndarray, rj: np.ndarray, dist: np.ndarray,
                variant: np.ndarray, q_valid: np.ndarray, q_duration: float, r_duration: float,
                rate: float, params: AlignParams = DEFAULT, probe: LineProbe | None = None) -> list[Segment]:
    """Segments from frame pairs (shared by the visual and audio paths)."""
    segments: list[Segment] = []
    alive = np.ones(len(qi), dtype=bool)
    free = q_valid.copy()  # query frames not yet spent on a segment
    period = 1.0 / rate
    sim = 1.0 - dist / (params.max_dist + 1.0)
    distinct = _distinctiveness(qi, rj, dist, rt_all, params.slack)
    weight = sim * distinct
    for _ in range(params.max_segments * 2):
        if len(segments) >= params.max_segments or alive.sum() < params.min_hits:
            break
        idx = np.flatnonzero(alive)
        qt, rt = qt_all[qi[idx]], rt_all[rj[idx]]
        a, b = _choose_line(qt, rt, weight[idx], qi[idx], dist[idx], distinct[idx], params, probe is not None)
        on = np.abs(rt - (a * qt + b)) <= params.tol_s
        if len(np.unique(qi[idx][on])) < params.min_hits * 0.5:
            break
        if probe is not None:
            # every free frame the line maps into the reference is measured, not only the kept pairs
            cand = np.flatnonzero(free)
            d_line, v_line = probe(a, b, cand, params.tol_s)
            hit = d_line <= params.max_dist
            hit_frames, f_dist, f_var = cand[hit], d_line[hit].astype(np.float64), v_line[hit]
        else:
            hit_frames, f_dist, f_var = _frame_best(qi[idx][on], dist[idx][on], variant[idx][on])
            keep = free[hit_frames]
            hit_frames, f_dist, f_var = hit_frames[keep], f_dist[keep], f_var[keep]
        found = False
        for run in _runs(qt_all[hit_frames], params.gap_s):
            ra, rb = _run_line(qt_all[hit_frames[run]], a, b, params)
            seg = _segment(hit_frames[run], f_dist[run], f_var[run], qt_all, q_valid, ra, rb, period,
                           q_duration, r_duration, params)
            if seg is not None and probe is None:
                seg = replace(seg, confidence=_pair_confidence(hit_frames[run], qi, rj, sim, qt_all, rt_all,
                                                               ra, rb, params))
            if seg is not None:
                segments.append(seg)
                found = True
            # either way these query frames are spent: one moment of the upload copies one place
            free[hit_frames[run]] = False
            alive[np.isin(qi, hit_frames[run])] = False
        if not found:
            # drop the line's pairs so the next strongest line gets its turn
            alive[idx[on]] = False
    return _contested(_merge(segments), params)


def _run_line(times: np.ndarray, a: float, b: float, params: AlignParams) -> tuple[float, float]:
    """The line for one run: real time, crossing the line at the run's middle, when the run is too
    short for the speed to drift ``tol_s`` from it (one line can join runs far apart)."""
    if a == 1.0 or abs(a - 1.0) * float(np.ptp(times)) >= params.tol_s:
        return a, b
    mid = (float(times.min()) + float(times.max())) / 2
    return 1.0, b + (a - 1.0) * mid


def _pair_confidence(frames: np.ndarray, qi: np.ndarray, rj: np.ndarray, sim: np.ndarray, qt_all: np.ndarray,
                     rt_all: np.ndarray, a: float, b: float, params: AlignParams) -> float:
    """``placement_confidence`` from the pairs themselves, for signals that keep every pair (audio)."""
    frames = np.sort(frames)
    mine = np.isin(qi, frames)
    local = np.searchsorted(frames, qi[mine])
    offset = rt_all[rj[mine]] - a * qt_all[qi[mine]]
    return _offset_confidence(local, offset, sim[mine], len(frames), b, params)


def _frame_best(frames: np.ndarray, dist: np.ndarray, variant: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]:
    """Each query frame once, with its closest pair's distance and variant."""
    order = np.lexsort((dist, frames))
    f = frames[order]
    first = order[np.r_[True, f[1:] != f[:-1]]] if len(f) else order
    return frames[first], dist[first].astype(np.float64), variant[first]


def _refine(qt: np.ndarray, rt: np.ndarray, w: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """Fine speed and offset: the line through most (weighted) pairs within 0.25 s.

    A vote count, not least squares, so a few stray pairs cannot tilt the line. Real
    time wins when it is in reach and within 10 % of the best support (a short or
    static stretch fits several speeds about equally well). The speed never leaves the
    range the coarse search covered: a slope outside it is a fit to noise.
    """
    if len(qt) == 0:
        return a, b
    fine = np.round(a + np.arange(-0.05, 0.0501, 0.005), 3)
    fine = fine[(fine >= SPEED_RANGE[0]) & (fine <= SPEED_RANGE[1])]
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


def _segment(frames: np.ndarray, f_dist: np.ndarray, f_var: np.ndarray, qt_all: np.ndarray, q_valid: np.ndarray,
             a: float, b: float, period: float, q_duration: float, r_duration: float,
             params: AlignParams) -> Segment | None:
    if len(frames) < params.min_hits:
        return None
    t0, t1 = float(qt_all[frames].min()), float(qt_all[frames].max())
    in_span = (qt_all >= t0) & (qt_all <= t1) & q_valid
    density = len(frames) / max(1, int(in_span.sum()))
    mean_d = float(np.mean(f_dist))
    if density < params.min_density or mean_d > params.max_mean_dist:
        return None
    # the query span, cut where the line leaves the reference, so both spans keep the speed's ratio
    q0 = max(0.0, t0, -b / a)
    q1 = min(q_duration, t1 + period, (r_duration - b) / a)
    if q1 - q0 < 0.5 * period:
        return None
    similarity = max(0.0, 1.0 - mean_d / 32.0)
    score = round(min(1.0, density) * similarity, 4)
    return Segment(q0, q1, a * q0 + b, a * q1 + b, score, speed=round(a, 3), hints=_hints(list(f_var), a))


def _hints(variants: list[int], speed: float) -> dict[str, object]:
    if not variants:
        return {}
    counts = np.bincount(np.asarray(variants), minlength=len(VARIANTS))
    top = int(np.argmax(counts))
    region, scale, mirror = VARIANTS[top] if top < len(VARIANTS) else ("content", CANON, False)
    hints: dict[str, object] = {"mirrored": bool(mirror), "picture_in_picture": region.startswith("inset")}
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
    """Join segments that continue one another on the same line (a split run).

    The joined segment's speed is its reference span over its query span, so the two
    spans always agree with the speed reported.
    """
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
                q1, r1 = max(p.query_end_s, s.query_end_s), max(p.reference_end_s, s.reference_end_s)
                speed = round((r1 - p.reference_start_s) / max(q1 - p.query_start_s, 1e-9), 3)
                hints = {k: v for k, v in p.hints.items() if k != "speed"}
                if abs(speed - 1.0) >= 0.04:
                    hints["speed"] = speed
                out[-1] = Segment(p.query_start_s, q1, p.reference_start_s, r1, round(score, 4), speed, hints,
                                  min(p.confidence, s.confidence))
                continue
        out.append(s)
    return out


def placement_confidence(seg: Segment, query: Fingerprint, reference: Fingerprint, probe: LineProbe,
                         params: AlignParams = DEFAULT, samples: int = 120, block: int = 8192) -> float:
    """How sure the segment's place in the work is: 1.0 nowhere else fits, near 0 many places do.

    Up to ``samples`` of the segment's frames are compared with every reference frame, each in
    the variant (mirrored, cropped, inset...) that matched it at the reported place; each close
    pair says how well the frame fits the offset it implies at the segment's speed, and
    ``_offset_confidence`` weighs the reported offset against every other. Footage from a still
    camera fits every still moment of the work as well: its place is one of several.
    """
    qt = query.arrays["times"].astype(np.float64)
    frames = np.flatnonzero((qt >= seg.query_start_s) & (qt < seg.query_end_s) & query.arrays["valid"])
    if len(frames) == 0:
        return 0.0
    frames = frames[np.linspace(0, len(frames) - 1, min(samples, len(frames))).round().astype(int)]
    a = seg.speed
    here = seg.reference_start_s - a * seg.query_start_s
    _, var = probe(a, here, frames, params.tol_s)
    qc = query.arrays["codes"][frames, var]  # (n,)
    rc = reference.arrays["codes"][:, REF_SLOT[var]]  # (Nr, n)
    rv = reference.arrays["valid"]
    rt = reference.arrays["times"].astype(np.float64)
    rows, offsets, sims = [], [], []
    for start in range(0, len(rc), block):
        d = hamming(qc[:, None], rc[start:start + block].T)  # (n, block)
        d[:, ~rv[start:start + block]] = 255
        f, j = np.nonzero(d <= params.max_dist)
        rows.append(f)
        offsets.append(rt[start + j] - a * qt[frames][f])
        sims.append(1.0 - d[f, j] / (params.max_dist + 1.0))
    return _offset_confidence(np.concatenate(rows), np.concatenate(offsets), np.concatenate(sims), len(frames),
                              here, params)


def _offset_confidence(frame: np.ndarray, offset: np.ndarray, weight: np.ndarray, n_frames: int, here: float,
                       params: AlignParams) -> float:
    """How clearly the frames prefer the offset ``here`` to the best other one, in [0, 1].

    Each frame keeps its best weight per offset (within ``tol_s``). Against every offset at least
    ``other_place_s`` away, a frame sides with the one it fits by ``margin`` more, or with
    neither; the score is (for here - for there) / (for here + for there + ``prior``), the worst
    over all other offsets. Still frames fit everywhere and side with nobody; a handful of frames
    that show something happening settle the place.
    """
    if len(frame) == 0:
        return 0.0
    step = params.tol_s / 2
    lo = min(float(offset.min()), here) - params.tol_s
    bins = np.floor((offset - lo) / step).astype(np.int64)
    n_bins = int(max(bins.max(), (here - lo) / step)) + 2
    best = np.zeros((n_frames, n_bins))
    np.maximum.at(best, (frame, bins), weight)
    # a frame on a line within tol_s of an offset counts for it: a running max over neighbouring bins
    reach = round(params.tol_s / step)
    padded = np.pad(best, ((0, 0), (reach, reach)))
    best = np.max([padded[:, k:k + n_bins] for k in range(2 * reach + 1)], axis=0)
    centres = lo + (np.arange(n_bins) + 0.5) * step
    near = np.flatnonzero(np.abs(centres - here) <= step)
    at = best[:, near].max(axis=1, initial=0.0)  # (frames,)
    if not at.any():
        return 0.0
    others = best[:, np.abs(centres - here) >= params.other_place_s]
    if others.shape[1] == 0:
        return 1.0
    for_here = (at[:, None] > others + params.margin).sum(axis=0)
    for_there = (others > at[:, None] + params.margin).sum(axis=0)
    score = (for_here - for_there) / (for_here + for_there + params.prior)
    return round(float(np.clip(score.min(), 0.0, 1.0)), 3)


def align_visual(query: Fingerprint, reference: Fingerprint, params: AlignParams = DEFAULT) -> list[Segment]:
    if query.empty or reference.empty:
        return []
    qi, rj, d, v = frame_pairs(query, reference, params)
    if len(qi) < params.min_hits:
        return []
    rate = float(query.meta.get("rate", 5.0))
    qt = query.arrays["times"].astype(np.float64)
    probe = visual_probe(query, reference, params)
    segs = align_pairs(qt, reference.arrays["times"].astype(np.float64), qi, rj, d.astype(np.float64), v,
                       query.arrays["valid"], query.duration_s, reference.duration_s, rate, params, probe)
    return _contested([replace(s, confidence=placement_confidence(s, query, reference, probe, params))
                       for s in segs], params)


def _contested(segments: list[Segment], params: AlignParams) -> list[Segment]:
    """Segments whose query spans overlap while they place it at different offsets: each is unsure.

    One moment of an upload shows one moment of the work; when it was matched to two places (still
    footage fits several, and the second line found its own frames), neither place can be trusted,
    however clearly each line's own frames preferred it.
    """
    out = list(segments)
    for i, a in enumerate(segments):
        for j, b in enumerate(segments[:i]):
            overlap = min(a.query_end_s, b.query_end_s) - max(a.query_start_s, b.query_start_s)
            apart = abs((a.reference_start_s - a.speed * a.query_start_s)
                        - (b.reference_start_s - b.speed * b.query_start_s))
            if overlap > 0 and apart >= params.other_place_s:
                out[i], out[j] = replace(out[i], confidence=0.0), replace(out[j], confidence=0.0)
    return out
