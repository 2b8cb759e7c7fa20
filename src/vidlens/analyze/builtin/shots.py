"""Shot detection analyzer: boundaries, then one keyframe and one thumbnail per shot.

Two samplings come from the same decode: every frame as a tiny YUV image for the
boundary detector, and about two frames a second at keyframe size as keyframe
candidates. A shot's keyframe is the sharpest candidate in the middle half of the
shot. Shots are known only at the end, so the candidates wait: the newest
``RAW_HELD`` as decoded pictures, older ones as JPEG bytes (so a short video encodes
only the keyframes it picks, a long one each candidate once, as before); past
``MAX_JPEGS`` of them (about 8 minutes of video) the less sharp of each neighbouring
pair drops its picture, so memory stays bounded on a day-long file.

A long video can be read in time ranges on several workers (``splits``): each range hands over
the detector's per-frame numbers and its keyframe candidates (every one, with its picture), and
``merge_ranges`` decides the boundaries over the whole clip's numbers and thins the candidates in
order, so the document is the one a single pass makes. Each range is checked against its
neighbours (the same frames in the margins, enough of them, no gap in the timestamps that would
shift the candidates' clock); where a check fails the merge says so and the caller runs it whole.
"""

from __future__ import annotations

import bisect
import importlib.util
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from PIL import Image
from pydantic import Field

from vidlens.analyze.base import (
    AnalysisContext,
    Analyzer,
    AnalyzerConfig,
    AnalyzerExample,
    SeamMismatch,
    Span,
)
from vidlens.analyze.shotdetect import (
    Boundary,
    ShotBoundaryDetector,
    ShotDetectConfig,
    ShotFeatures,
    range_margin_frames,
)
from vidlens.media.decode import Sampling, frame_at
from vidlens.models.transitions import TransitionNet
from vidlens.plugins import PluginManifest
from vidlens.timebase import TimeRange
from vidlens.types import FrameSample, Shot, Video


class ShotConfig(AnalyzerConfig):
    detector: ShotDetectConfig = Field(default_factory=ShotDetectConfig, description="Boundary detector tunables.")
    keyframe_side: int = Field(640, ge=64, le=1920, description="Longer side of stored keyframes, in pixels.")
    thumbnail_side: int = Field(320, ge=32, le=1280, description="Longer side of stored thumbnails, in pixels.")
    candidates_per_s: float = Field(2.0, gt=0, le=30, description="Keyframe candidates kept per second.")
    min_shot_frames: int = Field(3, ge=1, description="Shorter shots are merged into the previous one.")
    transitions: bool = Field(True, description=(
        "Let the TransNetV2 transition network decide the cuts the detector's own features are unsure of "
        "(low-contrast cuts between shots of one colour, cuts in fast action); needs onnxruntime, and without "
        "it the features decide alone (the document says so)."))
    transition_model: str | None = Field(None, description=(
        "own ONNX file in TransNetV2's form: input uint8 (1, T, 27, 48, 3) RGB, first output (1, T) "
        "P(frame t is the last of a shot)"))


MAX_JPEGS = 1024  # keyframe candidates held as pictures (about 60 MB at 640 px)
RAW_HELD = 48  # the newest candidates wait unencoded (about 33 MB at 640x360): most are never picked


@dataclass
class _Candidate:
    index: int
    pts: int
    sharpness: float
    jpeg: bytes | None  # None: thinned out (see the module docstring), or not encoded yet (``rgb``)
    rgb: np.ndarray | None = None  # the picture until it is encoded

    @property
    def held(self) -> bool:
        return self.jpeg is not None or self.rgb is not None

    def encode(self) -> None:
        """Turn the waiting picture into JPEG bytes (the same bytes, whenever it happens)."""
        if self.rgb is not None:
            self.jpeg, self.rgb = _jpeg(self.rgb), None

    def drop(self) -> None:
        self.jpeg = self.rgb = None


class _Candidates:
    """Keyframe candidates in frame order, at most ``limit`` of them with their picture, the newest
    ``raw`` of those not yet encoded."""

    def __init__(self, limit: int = MAX_JPEGS, raw: int = RAW_HELD) -> None:
        self.limit = limit
        self.raw = raw
        self.items: list[_Candidate] = []
        self._indexes: list[int] = []
        self._waiting: deque[_Candidate] = deque()
        self._pictures = 0

    def add(self, c: _Candidate) -> None:
        self.items.append(c)
        self._indexes.append(c.index)
        self._pictures += 1
        if c.rgb is not None:
            self._waiting.append(c)
            while len(self._waiting) > self.raw:
                self._waiting.popleft().encode()
        if self._pictures > self.limit:
            held = [x for x in self.items if x.held]
            for a, b in zip(held[0::2], held[1::2]):
                (b if b.sharpness < a.sharpness else a).drop()
                self._pictures -= 1

    def pick(self, shot: Shot) -> _Candidate | None:
        """The sharpest held candidate in the middle half of ``shot`` (else anywhere in it), or None."""
        lo_i = bisect.bisect_left(self._indexes, shot.start_frame)
        hi_i = bisect.bisect_left(self._indexes, shot.end_frame)
        inside = [c for c in self.items[lo_i:hi_i] if c.held]
        if not inside:
            return None
        length = shot.end_frame - shot.start_frame
        lo, hi = shot.start_frame + length // 4, shot.start_frame + (3 * length) // 4
        middle = [c for c in inside if lo <= c.index <= hi] or inside
        best = max(middle, key=lambda c: c.sharpness)
        best.encode()
        return best


@dataclass
class _RangePart:
    """What one range hands over: every frame it read (``pts``, the detector's numbers), which of them
    are its own (``own``: positions lo, hi), its own keyframe candidates, and whether its frames came
    steadily (no gap as long as the candidates' interval)."""

    pts: list[int]
    time_base: Fraction
    own: tuple[int, int]
    features: ShotFeatures
    candidates: list[_Candidate]
    steady: bool


def _check_joins(parts: list[_RangePart], shifts: list[int], pts_of: list[int], margin: int) -> None:
    """Every range read a run of the one pass's frames (``pts_of``, its own frames joined) and at least
    ``margin`` of them beyond its own on each side, or up to the video's start or end."""
    for i, (part, shift) in enumerate(zip(parts, shifts)):
        lo, hi = part.own
        if lo == hi:
            continue
        if shift < 0 or part.pts != pts_of[shift: shift + len(part.pts)]:
            raise SeamMismatch(f"range {i} decoded other frames than its neighbours around its seams")
        if (lo < margin and shift > 0) or (len(part.pts) - hi < margin and shift + len(part.pts) < len(pts_of)):
            raise SeamMismatch(f"range {i} read {lo} and {len(part.pts) - hi} frames beyond its own, "
                               f"{margin} are needed on each side")


def _sharpness(rgb: np.ndarray) -> float:
    """Mean absolute vertical plus horizontal gradient of the grey picture.

    Grey is the channel sum (exact in float32) divided by three: the values of
    ``rgb.mean(axis=2, dtype=np.float32)``, without numpy's slow reduction over a 3-wide axis.
    """
    g = rgb[..., 0].astype(np.float32)
    g += rgb[..., 1]
    g += rgb[..., 2]
    g /= 3
    dy = np.subtract(g[1:], g[:-1])
    dx = np.subtract(g[:, 1:], g[:, :-1])
    return float(np.abs(dy, out=dy).mean() + np.abs(dx, out=dx).mean())


def _jpeg(rgb: np.ndarray, max_side: int | None = None, quality: int = 85) -> bytes:
    img = Image.fromarray(rgb)
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


class ShotDetector(Analyzer):
    manifest = PluginManifest(name="shots", version="1.1", kind="analyzer",
                              summary="Hard cuts, fades and dissolves; a keyframe and thumbnail per shot.",
                              models=("shots.transitions: TransNetV2 (MIT)",))
    Config = ShotConfig
    config: ShotConfig
    splits = True

    @property
    def sampling(self) -> tuple[Sampling, ...]:  # type: ignore[override]
        return (ShotBoundaryDetector.SAMPLING,
                Sampling(fps=self.config.candidates_per_s, max_side=self.config.keyframe_side, pix_fmt="rgb24"))

    def sampling_for(self, video: Video) -> tuple[Sampling, ...]:
        return self.sampling

    def _network(self) -> TransitionNet | None:
        """The transition network, or None when it is switched off or onnxruntime is not installed."""
        if not self.config.transitions or importlib.util.find_spec("onnxruntime") is None:
            return None
        return TransitionNet.load(self.config.transition_model)

    def prepare(self, ctx: AnalysisContext) -> None:
        self._network()

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        net = self._network()
        scorer = None if net is None else net.score_window
        detector = ShotBoundaryDetector(self.config.detector, scorer)
        candidates = _Candidates()
        time_base: Fraction = ctx.video.time_base
        pts_of: list[int] = []
        duration = max(ctx.video.duration_s, 1e-6)
        for sample in frames:
            if sample.stream == 0:
                detector.push(sample)
                pts_of.append(sample.pts)
                time_base = sample.time_base
                if len(pts_of) % 25 == 0:
                    ctx.progress(min(1.0, sample.t / duration))
            else:
                candidates.add(_Candidate(sample.index, sample.pts, _sharpness(sample.image), None, sample.image))
        return self._document(ctx, detector, pts_of, time_base, candidates, net)

    # -- a long video in ranges (see the module docstring) --------------------------------------------
    def range_margin_s(self, video: Video) -> float:
        fps = float(video.fps or 25)
        return (range_margin_frames(self.config.detector) + 2) / fps + 0.5

    def analyze_range(self, ctx: AnalysisContext, frames: Iterator[FrameSample], span: Span) -> _RangePart:
        detector = ShotBoundaryDetector(self.config.detector, keep_frames=self._network() is not None)
        candidates: list[_Candidate] = []
        pts_of: list[int] = []
        times: list[float] = []
        time_base: Fraction = ctx.video.time_base
        steady = True
        for sample in frames:
            t = sample.t
            if sample.stream == 0:
                detector.push(sample)
                steady = steady and (not times or t - times[-1] < 1.0 / self.config.candidates_per_s)
                pts_of.append(sample.pts)
                times.append(t)
                time_base = sample.time_base
            elif span.owns(t):
                candidates.append(_Candidate(sample.index, sample.pts, _sharpness(sample.image), _jpeg(sample.image)))
        own = [i for i, t in enumerate(times) if span.owns(t)]
        return _RangePart(pts_of, time_base, (own[0], own[-1] + 1) if own else (0, 0), detector.features(),
                          candidates, steady)

    def merge_ranges(self, ctx: AnalysisContext, spans: list[Span], parts: list[Any]) -> dict[str, Any]:
        """Raises ``SeamMismatch`` where the ranges do not join into one pass."""
        pieces: list[ShotFeatures] = []
        pts_of: list[int] = []
        shifts: list[int] = []
        candidates = _Candidates()
        for i, part in enumerate(parts):
            if not part.steady:
                raise SeamMismatch(f"range {i} has a gap in its timestamps: the candidates' clock could shift")
            lo, hi = part.own
            shifts.append(len(pts_of) - lo)  # position in the range -> frame number in the video
            if lo < hi:
                pieces.append(part.features.part(lo, hi, shifts[-1]))
            pts_of.extend(part.pts[lo:hi])
            for c in part.candidates:
                candidates.add(_Candidate(c.index + shifts[-1], c.pts, c.sharpness, c.jpeg))
        _check_joins(parts, shifts, pts_of, range_margin_frames(self.config.detector))
        if not pts_of:
            return {"frames": 0, "shots": [], "boundaries": []}
        net = self._network()
        scorer = None if net is None else net.score_window
        detector = ShotBoundaryDetector.replay(ShotFeatures.join(pieces), self.config.detector, scorer)
        return self._document(ctx, detector, pts_of, parts[0].time_base, candidates, net)

    def _document(self, ctx: AnalysisContext, detector: ShotBoundaryDetector, pts_of: list[int],
                  time_base: Fraction, candidates: _Candidates, net: TransitionNet | None) -> dict[str, Any]:
        """The shots document from a detector that has seen every frame, and the keyframe candidates."""
        if not pts_of:
            return {"frames": 0, "shots": [], "boundaries": []}
        boundaries = self._merge_short(detector.finish(), len(pts_of))
        if net is not None:
            network: dict[str, Any] = {"model": net.name, "checked_cuts": len(detector.verified),
                                       "scored_frames": detector.scored_frames}
        else:
            network = {"model": None, "why": "switched off" if not self.config.transitions
                       else "onnxruntime is not installed (pip install -e '.[analysis]')"}
        shots = self._shots(ctx.video, boundaries, pts_of, time_base)
        out = []
        for shot in shots:
            entry = shot.to_dict()
            cand = candidates.pick(shot) or self._grab(ctx.video, shot)
            if cand is not None and ctx.blobs is not None:
                entry["keyframe_frame"], entry["keyframe_pts"] = cand.index, cand.pts
                entry["keyframe_blob"] = ctx.blobs.put_bytes(cand.jpeg, ".jpg")
                thumb = np.asarray(Image.open(io.BytesIO(cand.jpeg)).convert("RGB"))
                entry["thumbnail_blob"] = ctx.blobs.put_bytes(_jpeg(thumb, self.config.thumbnail_side, 80), ".jpg")
            elif cand is not None:
                entry["keyframe_frame"], entry["keyframe_pts"] = cand.index, cand.pts
            out.append(entry)
        return {
            "frames": len(pts_of),
            "time_base": str(time_base),
            "shots": out,
            "boundaries": [{"frame": b.frame, "kind": b.kind, "start_frame": b.start_frame,
                            "end_frame": b.end_frame, "score": round(b.score, 4)} for b in boundaries],
            "transition_network": network,
        }

    def _merge_short(self, boundaries: list[Boundary], n_frames: int) -> list[Boundary]:
        kept: list[Boundary] = []
        prev = 0
        for b in sorted(boundaries, key=lambda b: b.frame):
            if b.frame <= 0 or b.frame >= n_frames:
                continue
            if b.frame - prev < self.config.min_shot_frames and b.kind == "cut":
                continue
            kept.append(b)
            prev = b.frame
        return kept

    @staticmethod
    def _shots(video: Video, boundaries: list[Boundary], pts_of: list[int], tb: Fraction) -> list[Shot]:
        n = len(pts_of)
        starts = [0] + [b.frame for b in boundaries]
        kinds = ["start"] + [b.kind for b in boundaries]
        ends = starts[1:] + [n]
        step = (pts_of[-1] - pts_of[0]) // max(1, n - 1) if n > 1 else 1
        shots = []
        for i, (s, e, kind) in enumerate(zip(starts, ends, kinds)):
            start_pts = pts_of[s]
            end_pts = pts_of[e] if e < n else pts_of[-1] + max(1, step)
            mid = (s + e - 1) // 2
            shots.append(Shot(video.id, i, TimeRange(start_pts, max(start_pts, end_pts), tb), s, e,
                              pts_of[mid], mid, kind))
        return shots

    def _grab(self, video: Video, shot: Shot) -> _Candidate | None:
        """Seek for the middle frame of a shot too short to hold a sampled candidate."""
        sampling = Sampling(max_side=self.config.keyframe_side, pix_fmt="rgb24")
        sample = frame_at(video, shot.keyframe_pts, sampling)
        if sample is None:
            return None
        return _Candidate(shot.keyframe_frame, sample.pts, _sharpness(sample.image), _jpeg(sample.image))

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.testing.synth import make_cut_clip

        def make(d: Any) -> Any:
            return make_cut_clip(d / "cuts.mp4")[0]

        def check(doc: dict[str, Any]) -> None:
            starts = [s["start_frame"] for s in doc["shots"]]
            assert starts == [0, 30, 55, 90], f"expected shots starting at 0, 30, 55, 90; got {starts}"
            assert doc["frames"] == 110
            assert all(s["end_frame"] > s["start_frame"] for s in doc["shots"])

        return [AnalyzerExample("four scenes joined by hard cuts", make, check)]
