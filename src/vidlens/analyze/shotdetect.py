"""Shot-boundary detection: hard cuts, fades and dissolves from tiny YUV frames.

The detector only needs a 64-pixel YUV thumbnail per frame, taken straight from the
decoder's planes, so it costs a small fraction of decoding. ``push`` does a fixed,
vectorised amount of work per frame and keeps a few numbers (plus a 16-pixel luma
thumbnail) per frame; ``finish`` decides on the whole clip with array operations.

Stages, and why each exists:

1. **Features.** Each frame is pooled 2x2 (anti-aliasing the decoder's strided
   sampling, which would otherwise turn fine texture into noise) and chroma is
   weighted by ``chroma_weight``, so colour changes count but compression noise in
   the chroma planes does not dominate. Distances are mean absolute differences on
   the 0..255 scale.

2. **Cuts: cross-distance, not frame difference.** A plain frame difference also
   spikes on a flash, on a car passing in front of the lens, or on a whip-pan. A
   real cut makes *every* frame after it differ from *every* frame before it, while
   a transient disturbance ends with the picture coming back. So the cut score of
   frame ``i`` is the smallest distance over all pairs ``(a, b)`` with
   ``a < i <= b`` and ``b - a <= transient_frames``. A one-frame flash, or an
   occlusion of up to ``transient_frames - 1`` frames, leaves a similar pair that
   straddles it and scores near zero.

3. **Adaptive ratio.** Motion raises all frame distances. The score is divided by
   the local motion level (by default the median frame difference in a window around
   the candidate, its own neighbourhood left out, so a nearby cut does not hide this
   one), as PySceneDetect's AdaptiveDetector does, plus an absolute floor
   (``min_cut_score``) so noise in a static shot never counts.

4. **Structure test.** Auto-exposure, lights switching on or a cloud passing change
   brightness, not content. Before and after luma thumbnails are normalised to zero
   mean and unit variance; a cut or dissolve needs their distance to exceed
   ``min_structure_change`` (a cut to or from black always passes).

5. **Fades from the luma trajectory.** Black frames (low mean and low spread of
   luma) are found directly. A black run entered without a cut is the end of a
   fade-out, one left without a cut is the start of a fade-in; the fade's extent is
   where mean luma keeps changing at a fair share of the fade's pace next to the run.
   A fade-out, black, fade-in sequence is ONE boundary whose ``frame`` is the first
   frame of the fade-in (the first frame brighter than the black), with
   ``start_frame``/``end_frame`` spanning the whole sequence. A black run next to a
   cut, or at either end of the clip, is a segment of its own: a fade-in after a black
   leader starts a shot at its first brightening frame, a fade-out at the very end
   starts the black tail at its first fully black frame. A cut to or from black is a
   cut.

6. **Dissolves from a linear-mix test.** Inside a dissolve every frame is a blend of
   its neighbours: ``F[t] ~ (F[t-k] + F[t+k]) / 2`` while ``F[t+k]`` and ``F[t-k]``
   differ a lot. Most motion breaks that identity (a blend of two shifted pictures is
   not the middle picture) and static shots have no span. Slow, smooth motion can
   pass it locally, so a run of passing frames is widened to the frames that actually
   change (at most ``k`` each side) and kept only if, between the frames just before
   and just after it: the change beats the floor and, by ``dissolve_ratio``, both the
   local motion and the drift of the picture over as many frames beside the run; the
   structure test passes; most of the picture changes (``dissolve_min_coverage``, so a
   title fading over a shot or a car driving through is not a dissolve); and the
   frames a quarter, half and three quarters in are a least-squares mix of the two
   whose weight rises steadily (so a flash at one end is not a dissolve either). The
   boundary ``frame`` of a dissolve is its middle frame.

7. **Minimum shot length.** Boundaries closer than ``min_shot_frames`` are merged,
   keeping the most confident one.

Cost: about 0.1 ms of numpy per frame in ``push`` (a dozen small array operations,
no Python loop over pixels) and a few milliseconds per thousand frames in ``finish``.
Memory: about 200 bytes per frame (scalars and a 16-pixel luma thumbnail).

``score_boundaries`` evaluates detections against ground-truth cut lists and gradual
ranges the way ``bench/bench_shots.py`` reports them.

Frame numbers are the ``FrameSample.index`` values pushed (0-based decode order).

**Ranges.** Every per-frame number above depends only on the frame and the few before it (at most
``max(transient_frames, 2 * dissolve_half_span)``), and every decision only on numbers within a bounded
window of frames; but the decision runs over the whole clip (black runs, dissolve runs and the merging
of close boundaries can chain). So a video read in time ranges is decided exactly like this: each range
is read with a margin (``range_margin_frames``) on both sides, and ``features`` hands over its numbers
(plus, with the network, the frames around each unsure cut); the numbers of the frames each range owns
are joined in order, and ``replay`` runs the same verification schedule and ``finish`` over the whole
clip's numbers, so the boundaries at the seams are decided on both sides' frames, as in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field

from vidlens.errors import UsageError
from vidlens.media.decode import Sampling
from vidlens.types import FrameSample

_sum_rows = np.add.reduce

__all__ = ["Boundary", "ShotBoundaryDetector", "ShotDetectConfig", "ShotFeatures", "ShotScore",
           "detect_boundaries", "score_boundaries", "truth_units"]


@dataclass(frozen=True, slots=True)
class Boundary:
    """Start of a new shot.

    ``frame`` is the first frame of the new shot; ``start_frame``/``end_frame`` the first
    and last frame of the transition (both equal ``frame`` for a cut).
    """

    frame: int
    kind: str  # "cut" | "fade" | "dissolve"
    start_frame: int
    end_frame: int
    score: float


class ShotDetectConfig(BaseModel):
    """Tunables of :class:`ShotBoundaryDetector`; the defaults suit film, TV and CCTV."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cut_ratio: float = Field(3.0, gt=0, description=(
        "A cut needs its cross-distance to be this many times the local motion level (+1)."))
    min_cut_score: float = Field(8.0, ge=0, description=(
        "Absolute floor for a cut or dissolve: mean absolute YUV difference (0..255) between the "
        "pictures before and after it."))
    transient_frames: int = Field(6, ge=1, le=24, description=(
        "Longest disturbance (flash, occlusion) that is not a cut is one frame shorter than this."))
    motion_window: int = Field(8, ge=2, le=64, description=(
        "Half-width, in frames, of the window that measures the local motion level."))
    motion_percentile: float = Field(50.0, ge=50, le=100, description=(
        "Percentile of frame differences in the window taken as the local motion level."))
    chroma_weight: float = Field(0.5, ge=0, le=4, description="Weight of U and V against Y in distances.")
    min_structure_change: float = Field(0.3, ge=0, description=(
        "Minimum mean absolute difference of mean/variance-normalised luma thumbnails across a cut or "
        "dissolve; rejects exposure and lighting changes."))
    black_luma: float = Field(26.0, ge=0, le=255, description="A frame with mean luma below this ...")
    black_spread: float = Field(10.0, ge=0, description="... and luma standard deviation below this is black.")
    fade_edge_step: float = Field(0.5, ge=0, description=(
        "Inside a black run, a frame still belongs to the fade while mean luma changes by more than this "
        "per frame (the darkest frames of a fade already count as black)."))
    fade_step: float = Field(0.05, ge=0, description=(
        "Least per-frame change of mean luma that still counts as fading (at least a quarter of the fade's "
        "pace next to the black run is needed too, so slow changes within the shot do not extend it)."))
    dissolve_half_span: int = Field(6, ge=2, le=48, description=(
        "k of the linear-mix test F[t] ~ (F[t-k] + F[t+k]) / 2."))
    dissolve_linearity: float = Field(0.25, gt=0, lt=0.5, description=(
        "Largest residual of the linear-mix test, relative to |F[t+k] - F[t-k]|, inside a dissolve."))
    dissolve_min_span: float = Field(2.0, ge=0, description=(
        "Least |F[t+k] - F[t-k]| (0..255) for a frame to be tested as part of a dissolve."))
    dissolve_ratio: float = Field(1.5, gt=0, description=(
        "A dissolve needs the change across it to be this many times (+1) the larger of the local motion "
        "level and the drift of the picture over the same number of frames next to it."))
    dissolve_min_frames: int = Field(3, ge=1, description="Shortest run of frames passing the linear-mix test.")
    dissolve_min_coverage: float = Field(0.45, ge=0, le=1, description=(
        "Least fraction of normalised luma-thumbnail cells that change by more than half a standard deviation "
        "across a dissolve; a title or logo fading over a shot, or a car driving through, changes only part "
        "of the picture."))
    min_shot_frames: int = Field(3, ge=1, description="Boundaries closer than this are merged.")
    verify_ratio: float = Field(1.75, gt=0, description=(
        "A cut whose ratio to the local motion lies between this and cut_ratio is not rejected outright: "
        "its evidence is weighed (see verify_*_weight) and the transition network scores it (when one is given)."))
    verify_min_score: float = Field(5.0, ge=0, description=(
        "Least cross-distance of an unsure cut (low-contrast cuts between shots of one colour fall below "
        "min_cut_score)."))
    verify_ratio_weight: float = Field(2.5, ge=0, description=(
        "Feature evidence of an unsure cut, in log-odds: this times ln(ratio / cut_ratio), plus ..."))
    verify_structure_weight: float = Field(2.0, ge=0, description=(
        "... this times (structure change - 0.5), plus ..."))
    verify_coverage_weight: float = Field(4.0, ge=0, description=(
        "... this times (fraction of the picture that changes - 0.5). Below verify_min_evidence the cut is "
        "rejected without asking the network; otherwise the cut stands when it plus the network's log-odds is "
        "positive."))
    verify_min_evidence: float = Field(0.6, description=(
        "Feature evidence (log-odds) below which an unsure cut is rejected without asking the network: so "
        "little support needs the network to be sure of a cut, and on the tune clips it never was (every "
        "candidate there below 0.45 was rejected with the network, the lowest it accepted scored 0.78). Each "
        "candidate asked costs the network on about 25 frames, 15-20 CPU-ms each."))
    verify_sure_evidence: float = Field(1.3, ge=0, description=(
        "Feature evidence (log-odds, see verify_coverage_weight) at or above which an unsure cut stands without "
        "asking the network (not within transient_frames of a black frame: a fade from or to black changes "
        "the picture as a cut does there; nor less than transient_frames after a sure cut: the pairs that would "
        "bridge a disturbance at the start of the new shot straddle that cut, so the cross-distance cannot tell "
        "the disturbance from a second cut there). Chosen on the tune clips: every unsure candidate there at or "
        "above 1.3 was a cut (the lowest cut: 1.30), every one that was not a cut scored at most 0.45."))
    verify_context: int = Field(8, ge=4, le=48, description=(
        "Frames of context on each side of a cut the transition network scores: 8 is the network's widest "
        "temporal dilation, so each of its dilated taps around the cut reads a real frame, not padding (12 "
        "cost half as much again and found the same boundaries, within a frame, on the tune and seen clips)."))


@dataclass
class ShotFeatures:
    """The per-frame numbers ``finish`` decides on, for frames ``0 .. len - 1`` of one pass.

    ``frames`` holds the picture of each frame (by position) that a window of the transition
    network needs; it is filled only by a detector made with ``keep_frames``.
    """

    pairs: np.ndarray  # (T, K) float32
    span: np.ndarray  # (T,) float64, NaN where not known
    resid: np.ndarray
    luma: np.ndarray
    thumbs: np.ndarray  # (T, cells) uint8
    frames: dict[int, np.ndarray]

    def __len__(self) -> int:
        return len(self.luma)

    def part(self, lo: int, hi: int, shift: int = 0) -> ShotFeatures:
        """The numbers of frames ``lo .. hi - 1``; kept pictures (of any frame) renumbered ``f + shift``."""
        return ShotFeatures(self.pairs[lo:hi], self.span[lo:hi], self.resid[lo:hi], self.luma[lo:hi],
                            self.thumbs[lo:hi], {f + shift: img for f, img in self.frames.items()})

    @staticmethod
    def join(parts: list[ShotFeatures]) -> ShotFeatures:
        """One clip's numbers from its parts in order (kept pictures: the first part that has a frame wins)."""
        frames: dict[int, np.ndarray] = {}
        for p in parts:
            for f, img in p.frames.items():
                frames.setdefault(f, img)
        return ShotFeatures(np.concatenate([p.pairs for p in parts]), np.concatenate([p.span for p in parts]),
                            np.concatenate([p.resid for p in parts]), np.concatenate([p.luma for p in parts]),
                            np.concatenate([p.thumbs for p in parts]), frames)


def range_margin_frames(config: ShotDetectConfig) -> int:
    """Frames a range must read beyond the frames it owns, on each side, for its numbers, its unsure
    cuts and their network windows to be those of one pass over the whole clip."""
    c = config
    return c.transient_frames + 2 * c.dissolve_half_span + c.motion_window + 2 * c.verify_context + 2


Scorer = Callable[[np.ndarray], np.ndarray]
"""(T, H, W, 3) YUV frames -> (T,) P(frame t is the last frame of a shot); see ``vidlens.models.transitions``."""


class ShotBoundaryDetector:
    """Streaming detector: ``push`` every decoded frame in order, then ``finish``.

    With a ``scorer`` (the transition network), cuts the features alone are unsure of are
    scored on a short window of frames kept while streaming; without one they are rejected.
    With ``keep_frames`` (a range of a video, decided later by ``replay``) those windows' frames
    are kept in ``features().frames`` instead of scored.
    """

    SAMPLING: ClassVar[Sampling] = Sampling(fps=None, max_side=64, pix_fmt="yuv")

    def __init__(self, config: ShotDetectConfig | None = None, scorer: Scorer | None = None, *,
                 keep_frames: bool = False) -> None:
        self.config = config or ShotDetectConfig()
        self.scorer = scorer
        self.kept: dict[int, np.ndarray] | None = {} if keep_frames else None
        self._verifying = scorer is not None or keep_frames
        c = self.config
        # Verification: frame i is looked at once the local motion around it is known (lag frames
        # later); its window [i - C, i + C] is scored once frame i + C has arrived. Nearby candidates
        # share one window of at most _win_max frames, all of which the ring of raw frames holds.
        self._lag = max(c.transient_frames, c.motion_window)  # cross-distance and black frames up to i + K
        self._win_max = 4 * c.verify_context + 1
        self._raw: list[np.ndarray | None] | dict[int, np.ndarray] = [None] * (self._win_max + self._lag + 1)
        self._looked = 0  # frames [1, _looked) have been looked at
        self._last_sure = -(10**9)  # the latest frame looked at that is a sure cut by cross-distance and ratio
        self._windows: list[list[int]] = []  # pending [first, last, candidates...]
        self.verified: dict[int, float] = {}  # candidate position -> network probability
        self.scored_frames = 0
        self._k = c.dissolve_half_span
        self._K = c.transient_frames
        self._ring_len = max(2 * self._k, self._K) + 1
        self._ring: np.ndarray | None = None  # 2R rows: frame n at rows n % R and n % R + R
        self._shape: tuple[int, ...] | None = None
        self._weights: np.ndarray | None = None
        self._n = 0
        self._index: list[int] = []
        self._pairs: list[np.ndarray] = []  # row t: distance of frame t to frames t-1 .. t-K
        self._span: list[float] = []  # linear-mix test, stored at the centre frame
        self._resid: list[float] = []
        self._luma: list[float] = []
        self._inv_len = 1.0
        self._thumbs: list[np.ndarray] = []
        self._finished = False

    # -- streaming ------------------------------------------------------------
    def push(self, sample: FrameSample) -> None:
        """Add the next frame (in decode order)."""
        if self._finished:
            raise UsageError("ShotBoundaryDetector.push() after finish()")
        if self._index and sample.index <= self._index[-1]:
            raise UsageError(f"frames must be pushed in order: got index {sample.index} after {self._index[-1]}")
        img = sample.image
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[0] < 4 or img.shape[1] < 4:
            raise UsageError(f"shot detection needs (H, W[, C]) frames of at least 4x4, got {sample.image.shape}")
        if self._shape is None:
            self._start(img.shape)
        elif img.shape != self._shape:  # resolution change mid-stream: resample to the first size
            img = _resample(img, self._shape)
        v, thumb = self._features(img)
        ring = self._ring
        assert ring is not None
        n, R, K, k = self._n, self._ring_len, self._K, self._k
        s = n % R
        # np.add.reduce instead of .mean(): the same sums without numpy's Python-level wrapper,
        # which costs more than the arithmetic on arrays this small. Each frame is stored twice in
        # the ring, so the K frames before any slot are one contiguous block (oldest first).
        inv = self._inv_len
        if n >= K:
            row = _sum_rows(np.abs(ring[s + R - K: s + R] - v), axis=1)[::-1] * inv
        else:
            row = np.full(K, np.nan, np.float32)
            if n:
                row[:n] = _sum_rows(np.abs(ring[s + R - n: s + R] - v), axis=1)[::-1] * inv
        self._pairs.append(row)
        self._span.append(np.nan)
        self._resid.append(np.nan)
        if n >= 2 * k:
            a = ring[(n - 2 * k) % R]
            self._span[n - k] = float(_sum_rows(np.abs(v - a))) * inv
            self._resid[n - k] = float(_sum_rows(np.abs(ring[(n - k) % R] - 0.5 * (a + v)))) * inv
        ring[s] = v
        ring[s + R] = v
        thumb = thumb.ravel()
        self._luma.append(float(_sum_rows(thumb)) / thumb.size)
        self._thumbs.append(thumb.astype(np.uint8))
        self._index.append(sample.index)
        self._n += 1
        if self._verifying:
            self._raw[n % len(self._raw)] = img
            self._verify_upto(n - self._lag)

    # -- verification by the transition network --------------------------------------
    def _verify_upto(self, last: int) -> None:
        """Look at frames up to ``last`` for unsure cuts; score the windows that are complete."""
        c = self.config
        C, h = c.verify_context, c.motion_window
        while self._looked <= last:
            i = self._looked
            self._looked += 1
            if i == 0 or not self._pairs[i][0] >= c.verify_min_score:  # cross <= frame difference: cheap test
                continue
            cross = _cross_at(self._pairs, i)
            if not cross >= c.verify_min_score:
                continue
            lo = max(0, i - h)
            m = _motion_at([p[0] for p in self._pairs[lo: i + h + 1]], i - lo, h, c.motion_percentile)
            ratio = cross / (m + 1.0)
            if cross >= c.min_cut_score and ratio >= c.cut_ratio:
                self._last_sure = i
                continue  # a cut the features are sure of
            if ratio < c.verify_ratio:
                continue  # no cut
            a, b = self._thumbs[i - 1].astype(np.float32), self._thumbs[i].astype(np.float32)
            black_side = self._black(i - 1, a) or self._black(i, b)
            if not black_side and _structure(a, b) < c.min_structure_change:
                continue  # an exposure change, which _cuts rejects before asking
            evidence = _evidence(c, ratio, 2.0 if black_side else _structure(a, b), _coverage(a, b))
            near_black = any(self._black(j, self._thumbs[j].astype(np.float32))
                             for j in range(max(0, i - self._K), min(self._n, i + self._K + 1)))
            undecided = near_black or i - self._last_sure < self._K
            if evidence < c.verify_min_evidence or (evidence >= c.verify_sure_evidence and not undecided):
                continue  # the features decide: _cuts rejects or keeps it whatever the network says
            w = self._windows[-1] if self._windows else None
            if w is not None and i - C <= w[1] + 1 and i + C - w[0] < self._win_max:
                w[1] = i + C
                w.append(i)
            else:
                self._windows.append([i - C, i + C, i])
        while self._windows and self._windows[0][1] < self._n:
            self._score(self._windows.pop(0))

    def _black(self, i: int, thumb: np.ndarray) -> bool:
        """Whether frame ``i`` is black, as ``finish`` decides it."""
        return bool(self._luma[i] < self.config.black_luma and thumb.std() < self.config.black_spread)

    def _frame(self, f: int) -> np.ndarray:
        if isinstance(self._raw, dict):  # replayed: the frames the ranges kept
            if f not in self._raw:
                raise UsageError(f"frame {f} of a network window was kept by no range (a range's margin is too short)")
            return self._raw[f]
        img = self._raw[f % len(self._raw)]
        assert img is not None
        return img

    def _score(self, w: list[int]) -> None:
        """Run the network on window ``w`` (padded by repeating the edge frames) and keep its verdicts."""
        first, last, cands = w[0], w[1], w[2:]
        lo, hi = max(first, 0), min(last, self._n - 1)
        if self.kept is not None:
            self.kept.update((f, self._frame(f)) for f in range(lo, hi + 1))
            return
        assert self.scorer is not None
        frames = [self._frame(f) for f in range(lo, hi + 1)]
        frames = [frames[0]] * (lo - first) + frames + [frames[-1]] * (last - hi)
        p = np.asarray(self.scorer(np.stack(frames)), np.float32)
        self.scored_frames += len(frames)
        for i in cands:  # the network marks the last frame of the old shot: i - 1, give or take one
            self.verified[i] = float(p[max(0, i - 2 - first): i + 1 - first].max())

    def _start(self, shape: tuple[int, ...]) -> None:
        self._shape = shape
        h, w, ch = shape[0] // 4 * 2, shape[1] // 4 * 2, shape[2]
        wts = np.array([1.0] + [self.config.chroma_weight] * (ch - 1), np.float32)
        self._weights = wts / wts.mean()
        self._ring = np.zeros((2 * self._ring_len, h * w * ch), np.float32)
        self._inv_len = 1.0 / (h * w * ch)

    def _features(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pooled, chroma-weighted feature vector, and the luma thumbnail (pooled 4x4).

        OpenCV's area resize at exactly half size is the 2x2 mean, computed exactly here (pixel values
        are integers, their means multiples of 1/4 and 1/16), in a fraction of numpy's time on strided views.
        """
        assert self._shape is not None and self._weights is not None
        h, w, ch = self._shape[0] // 4 * 4, self._shape[1] // 4 * 4, self._shape[2]
        a = img[:h, :w].astype(np.float32)
        p = cv2.resize(a, (w // 2, h // 2), interpolation=cv2.INTER_AREA).reshape(h // 2, w // 2, ch)
        thumb = cv2.resize(np.ascontiguousarray(p[..., 0]), (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        p *= self._weights
        return p.ravel(), thumb

    # -- ranges -----------------------------------------------------------------
    def features(self) -> ShotFeatures:
        """The numbers of the frames pushed so far (and, with ``keep_frames``, the windows' frames)."""
        self._finished = True
        if self._verifying:
            self._verify_upto(self._n - 1)
            for w in self._windows:
                self._score(w)
            self._windows = []
        K = self._K
        return ShotFeatures(np.vstack(self._pairs) if self._pairs else np.zeros((0, K), np.float32),
                            np.asarray(self._span, np.float64), np.asarray(self._resid, np.float64),
                            np.asarray(self._luma, np.float64),
                            np.vstack(self._thumbs) if self._thumbs else np.zeros((0, 0), np.uint8),
                            dict(self.kept or {}))

    @classmethod
    def replay(cls, features: ShotFeatures, config: ShotDetectConfig | None = None,
               scorer: Scorer | None = None) -> ShotBoundaryDetector:
        """A detector that has seen the clip whose numbers ``features`` holds (frames numbered from 0),
        ready for ``finish``: the network's windows form as they would have while streaming."""
        det = cls(config, scorer)
        det._pairs = list(features.pairs)
        det._span, det._resid = features.span.tolist(), features.resid.tolist()
        det._luma = features.luma.tolist()
        det._thumbs = list(features.thumbs)
        det._index = list(range(len(features)))
        if scorer is not None:
            det._raw = features.frames
            for n in range(len(features)):  # push's schedule: frame n arrives, then n - lag is looked at
                det._n = n + 1
                det._verify_upto(n - det._lag)
        det._n = len(features)
        return det

    # -- decision -------------------------------------------------------------
    def finish(self) -> list[Boundary]:
        """All boundaries of the frames pushed so far, sorted by frame."""
        self._finished = True
        T = self._n
        if self.scorer is not None:
            self._verify_upto(T - 1)
            for w in self._windows:
                self._score(w)
            self._windows = []
            self._raw = []
        if T < 2:
            return []
        c = self.config
        pairs = np.vstack(self._pairs)  # (T, K): [t, j-1] = D(t, t-j)
        d1 = pairs[:, 0]
        ym = np.asarray(self._luma, np.float64)
        thumbs = np.vstack(self._thumbs).astype(np.float32)
        black = (ym < c.black_luma) & (thumbs.std(axis=1) < c.black_spread)
        motion = _local_motion(d1, c.motion_window, c.motion_percentile)

        cuts = self._cuts(pairs, motion, thumbs, black)
        cut_frames = {b.frame for b in cuts}
        fades, faded = self._fades(ym, black, cut_frames)
        dissolves = self._dissolves(d1, motion, thumbs, black, faded, cut_frames)
        merged = _suppress(sorted(cuts + fades + dissolves, key=lambda b: b.frame), c.min_shot_frames)
        idx = self._index
        return [Boundary(idx[b.frame], b.kind, idx[b.start_frame], idx[b.end_frame], b.score) for b in merged]

    def _cuts(self, pairs: np.ndarray, motion: np.ndarray, thumbs: np.ndarray,
              black: np.ndarray) -> list[Boundary]:
        c = self.config
        T, K = pairs.shape
        cross = np.full(T, np.inf)
        for ob in range(K):  # b = i + ob, a = b - j with j > ob, so a < i
            for j in range(ob + 1, K + 1):
                col = np.full(T, np.nan)
                col[: T - ob] = pairs[ob:, j - 1]
                cross = np.fmin(cross, col)
        cross[0] = np.nan
        cross[~np.isfinite(cross)] = 0.0
        ratio = cross / (motion + 1.0)
        sure = (cross >= c.min_cut_score) & (ratio >= c.cut_ratio)
        unsure = ~sure & (cross >= c.verify_min_score) & (ratio >= c.verify_ratio)
        out = []
        for i in np.flatnonzero(sure | unsure):
            black_side = bool(black[i] or black[i - 1])
            structure = 2.0 if black_side else _structure(thumbs[i - 1], thumbs[i])
            if structure < c.min_structure_change:
                continue
            score = _confidence(ratio[i], c.cut_ratio)
            if unsure[i]:
                evidence = _evidence(c, ratio[i], structure, _coverage(thumbs[i - 1], thumbs[i]))
                p = self.verified.get(int(i))
                if (evidence >= c.verify_sure_evidence and not black[max(0, i - K): i + K + 1].any()
                        and not sure[max(0, i - K + 1): i].any()):
                    p = 0.5  # decided by the features alone
                elif evidence < c.verify_min_evidence or p is None:
                    continue
                total = evidence + _logit(p)
                if total < 0:
                    continue
                score = float(1.0 / (1.0 + np.exp(-total)))
            out.append(Boundary(int(i), "cut", int(i), int(i), score))
        return out

    def _fades(self, ym: np.ndarray, black: np.ndarray, cut_frames: set[int]) -> tuple[list[Boundary], np.ndarray]:
        """Fade boundaries around black runs, and a mask of every frame in a fade or black run."""
        c = self.config
        T = len(ym)
        faded = black.copy()
        out: list[Boundary] = []
        step = c.fade_step

        def near_cut(f: int) -> bool:
            return any(f + d in cut_frames for d in (-1, 0, 1))

        for b0, b1 in _runs(black):
            fade_out = fade_in = None
            edge = c.fade_edge_step
            if b0 > 0 and not near_cut(b0):
                s = b0 - 1
                pace = max(step, 0.25 * float(np.median(np.abs(np.diff(ym[max(0, b0 - 4): b0 + 1])))))
                while s > 1 and ym[s - 2] > ym[s - 1] + pace and not black[s - 1]:  # s - 1 darkened too
                    s -= 1
                e = b0 - 1  # the last frames of a fade-out may already count as black
                while e + 2 <= b1 and ym[e + 2] < ym[e + 1] - edge:
                    e += 1
                if s < e:
                    fade_out = (s, e)
            if b1 < T - 1 and not near_cut(b1 + 1):
                e = b1 + 1
                pace = max(step, 0.25 * float(np.median(np.abs(np.diff(ym[b1: b1 + 5])))))
                while e < T - 1 and ym[e + 1] > ym[e] + pace and not black[e + 1]:
                    e += 1
                s = b1 + 1  # likewise the first frames of a fade-in
                while s - 2 >= b0 and ym[s - 1] > ym[s - 2] + edge and (fade_out is None or s - 1 > fade_out[1]):
                    s -= 1
                if e > s:
                    fade_in = (s, e - 1)  # frame e is the first at full brightness
            peak = max(ym[fade_out[0]] if fade_out else 0.0, ym[fade_in[1]] if fade_in else 0.0)
            score = float(np.clip((peak - c.black_luma) / 64.0, 0.05, 1.0))
            if fade_out:
                faded[fade_out[0]: fade_out[1] + 1] = True
            if fade_in:
                faded[fade_in[0]: fade_in[1] + 1] = True
            if fade_out and fade_in:
                out.append(Boundary(fade_in[0], "fade", fade_out[0], fade_in[1], score))
            elif fade_in:
                out.append(Boundary(fade_in[0], "fade", fade_in[0], fade_in[1], score))
            elif fade_out:
                out.append(Boundary(fade_out[1] + 1, "fade", fade_out[0], fade_out[1], score))
        return out, faded

    def _dissolves(self, d1: np.ndarray, motion: np.ndarray, thumbs: np.ndarray, black: np.ndarray,
                   faded: np.ndarray, cut_frames: set[int]) -> list[Boundary]:
        c = self.config
        T = len(d1)
        span = np.asarray(self._span)
        resid = np.asarray(self._resid)
        with np.errstate(invalid="ignore", divide="ignore"):
            linear = (span >= c.dissolve_min_span) & (resid < c.dissolve_linearity * span)
        out = []
        for r0, r1 in _runs(linear):
            if r1 - r0 + 1 < c.dissolve_min_frames:
                continue
            level = 0.5 * float(np.median(d1[r0: r1 + 1]))
            k = self._k
            first, last = r0, r1 + 1  # widen to the frames that actually change, at most k each side
            while first > max(1, r0 - k) and d1[first - 1] >= level:
                first -= 1
            while last < min(T - 1, r1 + k) and d1[last + 1] >= level:
                last += 1
            last -= 1  # d1[last + 1] is the change into the first clean frame
            before, after = first - 1, last + 1
            if before < 0 or after >= T or faded[before: after + 1].any() or black[[before, after]].any():
                continue
            if any(first - 1 <= f <= last + 1 for f in cut_frames):
                continue
            tb, ta = thumbs[before], thumbs[after]
            total = float(np.abs(ta - tb).mean())
            # Slow smooth motion also passes the linear-mix test; it drifts as much over the same span
            # on either side of the run, a dissolve between two shots does not.
            n = after - before
            drifts = [float(np.abs(tb - thumbs[before - n]).mean())
                      for _ in (0,) if before - n >= 0 and not any(before - n < f <= before for f in cut_frames)]
            drifts += [float(np.abs(thumbs[after + n] - ta).mean())
                       for _ in (0,) if after + n < T and not any(after < f <= after + n for f in cut_frames)]
            if not drifts:  # no room to tell it from slow motion
                continue
            drift = min(drifts)
            ratio = total / (max(motion[before], motion[after], drift) + 1.0)
            if total < c.min_cut_score or ratio < c.dissolve_ratio:
                continue
            if _structure(tb, ta) < c.min_structure_change or _coverage(tb, ta) < c.dissolve_min_coverage:
                continue
            if not _progresses(thumbs, before, after):
                continue
            out.append(Boundary((first + last + 1) // 2, "dissolve", first, last, _confidence(ratio, c.cut_ratio)))
        return out


def detect_boundaries(frames: Iterable[FrameSample], config: ShotDetectConfig | None = None,
                      scorer: Scorer | None = None) -> list[Boundary]:
    """Run the detector over ``frames`` (sampled as ``ShotBoundaryDetector.SAMPLING``)."""
    det = ShotBoundaryDetector(config, scorer)
    for f in frames:
        det.push(f)
    return det.finish()


# -- helpers -------------------------------------------------------------------
def _resample(img: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    rows = np.arange(shape[0]) * img.shape[0] // shape[0]
    cols = np.arange(shape[1]) * img.shape[1] // shape[1]
    out = img[rows[:, None], cols[None, :]]
    if out.shape[2] != shape[2]:
        out = np.concatenate([out[..., :1], np.full(out.shape[:2] + (shape[2] - 1,), 128, np.uint8)], axis=2)
    return out


def _cross_at(pairs: list[np.ndarray], i: int) -> float:
    """The cut score of ``_cuts`` at one frame: the least distance of a pair straddling ``i``."""
    K = len(pairs[i])
    vals = [pairs[b][b - i:] for b in range(i, min(i + K, len(pairs)))]  # b = i + ob, distances to a < i
    v = np.concatenate(vals)
    v = v[np.isfinite(v)]
    return float(v.min()) if len(v) else 0.0


def _motion_at(d1: Sequence[float], i: int, half: int, pct: float) -> float:
    """``_local_motion`` at one position ``i`` of ``d1`` (which must hold ``i +- half`` where they exist).

    The same numbers, sorted, and the same rank pick, in plain Python: on one window of ``2 * half + 1``
    numbers that costs about 6 CPU-us against 140 for the array form, and streaming asks it for every
    frame that moves.
    """
    lo = max(i - half, 0)
    vals = sorted(v for j, v in enumerate(map(float, d1[lo: i + half + 1]), lo) if abs(j - i) > 1 and v == v)
    if not vals:
        return 0.0
    return vals[max(0, round((len(vals) - 1) * pct / 100.0))]


def _local_motion(d1: np.ndarray, half: int, pct: float) -> np.ndarray:
    """Percentile of frame differences around each frame, leaving out the frame and its neighbours.

    ``d1[0]`` is NaN (the first frame has no predecessor), like every position outside the clip.
    """
    pad = np.concatenate([np.full(half, np.nan), d1.astype(np.float64), np.full(half, np.nan)])
    win = sliding_window_view(pad, 2 * half + 1).copy()
    win[:, half - 1: half + 2] = np.nan
    count = np.isfinite(win).sum(axis=1)
    ranked = np.sort(win, axis=1)  # NaN sorts last, so the valid values come first
    pick = np.clip(np.round((count - 1) * pct / 100.0).astype(int), 0, None)
    m = ranked[np.arange(len(win)), pick]
    return np.where(count > 0, m, 0.0)


def _structure(a: np.ndarray, b: np.ndarray) -> float:
    """Distance of two luma thumbnails after normalising mean and contrast (gain/offset invariant)."""
    sa, sb = float(a.std()), float(b.std())
    if sa < 1.0 or sb < 1.0:  # a flat picture has no structure to compare
        return 0.0 if abs(float(a.mean()) - float(b.mean())) < 8.0 else 2.0
    return float(np.abs((a - a.mean()) / sa - (b - b.mean()) / sb).mean())


def _robust_z(a: np.ndarray) -> np.ndarray:
    med = float(np.median(a))
    return (a - med) / (1.4826 * float(np.median(np.abs(a - med))) + 1.0)


def _coverage(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of thumbnail cells whose luma changes by more than half a (robust) standard deviation.

    Median/MAD normalisation, so a bright object moving over a dark background, which changes
    only the cells it covers, does not change the scale of every other cell.
    """
    return float((np.abs(_robust_z(a) - _robust_z(b)) > 0.5).mean())


def _progresses(thumbs: np.ndarray, before: int, after: int) -> bool:
    """Whether frames a quarter, half and three quarters into the span mix before into after, in order.

    The mix weight is fitted by least squares on the luma thumbnails. A dissolve moves it steadily from
    0 to 1; a flash or any other transient at either end of the span does not.
    """
    a = thumbs[before]
    d = thumbs[after] - a
    dd = float(d @ d)
    if dd <= 0:
        return False
    alpha = [float((thumbs[round(before + f * (after - before))] - a) @ d) / dd for f in (0.25, 0.5, 0.75)]
    return alpha[0] < alpha[1] < alpha[2] and 0.2 <= alpha[1] <= 0.8


def _evidence(c: ShotDetectConfig, ratio: float, structure: float, coverage: float) -> float:
    """Log-odds that the features give an unsure cut (see ``ShotDetectConfig.verify_ratio_weight``).

    A cut between two shots changes most of the picture and its structure, well above the local
    motion; a fast object entering the frame changes only part of it, a fast pan changes it about as
    much as the motion around it does.
    """
    return float(c.verify_ratio_weight * np.log(max(float(ratio), 1e-6) / c.cut_ratio)
                 + c.verify_structure_weight * (min(structure, 2.0) - 0.5)
                 + c.verify_coverage_weight * (coverage - 0.5))


def _logit(p: float) -> float:
    q = min(max(float(p), 1e-4), 1 - 1e-4)
    return float(np.log(q / (1 - q)))


def _confidence(ratio: float, threshold: float) -> float:
    """0.5 at the threshold, approaching 1 as the evidence grows."""
    return float(np.clip(1.0 - 0.5 * threshold / max(float(ratio), 1e-9), 0.0, 1.0))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] of each run of True."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(s), int(e) - 1) for s, e in zip(edges[0::2], edges[1::2])]


def _suppress(bounds: list[Boundary], min_gap: int) -> list[Boundary]:
    """Merge boundaries closer than ``min_gap`` frames, keeping the most confident."""
    out: list[Boundary] = []
    for b in bounds:
        if out and b.frame - out[-1].frame < min_gap:
            if b.score > out[-1].score:
                out[-1] = b
            continue
        out.append(b)
    return out


# -- evaluation against ground truth ----------------------------------------------
@dataclass(frozen=True, slots=True)
class ShotScore:
    """Matches of detected boundaries against ground truth (see :func:`score_boundaries`)."""

    tp: int
    fp: int
    fn: int
    cut_tp: int
    cut_fp: int
    cut_fn: int

    @staticmethod
    def f1(tp: int, fp: int, fn: int) -> float:
        return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)

    @property
    def all_f1(self) -> float:
        return self.f1(self.tp, self.fp, self.fn)

    @property
    def cut_f1(self) -> float:
        return self.f1(self.cut_tp, self.cut_fp, self.cut_fn)


def truth_units(truth: dict) -> tuple[list[int], list[tuple[int, int]]]:
    """Hard cuts and gradual ranges of one ``shots.json`` entry.

    A fade-out and a fade-in separated only by a listed run of black frames are ONE shot change
    (the detector reports one boundary for them), so they are merged into one range.
    """
    cuts = sorted(int(c) for c in truth.get("cuts", []))
    gradual = sorted((int(g["frames"][0]), int(g["frames"][1])) for g in truth.get("gradual", []))
    blacks = {(int(a), int(b)) for a, b in truth.get("black_frames", [])}
    merged: list[tuple[int, int]] = []
    for g in gradual:
        if merged and (merged[-1][1] + 1, g[0] - 1) in blacks:
            merged[-1] = (merged[-1][0], g[1])
        else:
            merged.append(g)
    return cuts, merged


def score_boundaries(found: Iterable[int], truth: dict, tolerance: int = 1) -> ShotScore:
    """Count hits of detected boundary frames against one ground-truth entry.

    A detection hits a hard cut within ``tolerance`` frames, and a gradual transition
    ``[first, last]`` anywhere inside ``[first - tolerance, last + tolerance]``; each truth
    and each detection matches at most once (nearest first). For the hard-cut score,
    detections that hit a gradual transition are left out (they are right, just not cuts).
    """
    cuts, gradual = truth_units(truth)
    det = sorted({int(f) for f in found})
    units = [(c - tolerance, c + tolerance, c, True) for c in cuts] + \
            [(a - tolerance, b + tolerance, (a + b) / 2, False) for a, b in gradual]
    pairs = sorted((abs(d - u[2]) if u[3] else 0.0, di, ui)
                   for di, d in enumerate(det) for ui, u in enumerate(units) if u[0] <= d <= u[1])
    used_d: set[int] = set()
    used_u: dict[int, int] = {}
    for _dist, di, ui in pairs:
        if di not in used_d and ui not in used_u:
            used_d.add(di)
            used_u[ui] = di
    tp = len(used_u)
    in_gradual = {di for ui, di in used_u.items() if not units[ui][3]}
    in_gradual |= {di for di, d in enumerate(det) if di not in used_d
                   and any(u[0] <= d <= u[1] for u in units if not u[3])}
    cut_tp = sum(1 for ui in used_u if units[ui][3])
    cut_fp = len(det) - len(in_gradual) - cut_tp
    return ShotScore(tp=tp, fp=len(det) - tp, fn=len(units) - tp,
                     cut_tp=cut_tp, cut_fp=cut_fp, cut_fn=len(cuts) - cut_tp)
