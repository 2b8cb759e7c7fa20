"""Objects: COCO detection on sampled frames, tracked per shot.

Per-frame boxes are noise to a reader; the result is one item per tracked object
("person, 12.0–31.5 s, best box ...") plus per-label counts ("3 person, 1 car").
Detection runs at ``fps`` samples a second on the whole frame shrunk to the detector
input; tracking (``vidlens.analyze.tracking``) links the samples and ends tracks at
time gaps and at shot changes.

Small objects: a frame much larger than the detector input also arrives at up to
``max_side`` pixels, and where something small moves in a still view, or a small
object the whole-frame pass has lost was last seen, a square region is cut from it
and detected closer (``vidlens.analyze.regions``, as Frigate does around motion), its
boxes merged with the whole frame's. Those looks are budgeted: a look that finds nothing
the whole frame missed uses up a small allowance, one that finds something is free. An
object seen once, confidently, while moving across a still view is reported even if it
left before the next sample. Tracks whose size is impossible for their class against the
people and vehicles of the same shot, or against those beside them (a car seen from above
called "cell phone" among cars), are dropped (``vidlens.analyze.object_priors``), and so are
tracks of things that only move when carried (a phone, a bag) that moved out of their own place
across a still view with no one beside them, under whatever names the detector gave them on the way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample, sample_rate
from vidlens.analyze.motion import MotionGate, MotionMap
from vidlens.analyze.object_priors import CARRIED, SceneScale, Sighting, moves_on_its_own, reach, travelled_alone
from vidlens.analyze.regions import RegionPlanner, detect_regions, in_region, merge
from vidlens.analyze.tracking import CutDetector, Tracker, TrackState, iou_matrix
from vidlens.media.decode import Sampling, target_size
from vidlens.plugins import PluginManifest
from vidlens.types import Detections, FrameSample, Video

MAX_ERRORS = 20
STILL = 0.25  # a sample whose motion map changed less than this share of the view is a still view with movers in it
AT_REST = 0.01  # ... and less than this, a view at rest (where tiles are probed for still small objects)
BUSY = 12  # more separate movers than this that no detection explains: the view is busy, motion is no guide


class ObjectsConfig(AnalyzerConfig):
    fps: float = Field(1.0, gt=0, le=30, description="samples per second sent to the detector")
    min_samples: int = Field(10, ge=1, le=100, description="short videos are sampled faster to get at least this many looks")
    detector: Literal["yolov4-tiny", "yolov4-tiny-fp32", "nanodet"] = Field(
        "yolov4-tiny", description="packaged detector: YOLOv4-tiny int8 in ONNX Runtime, the same model in float32 "
        "in OpenCV DNN, or NanoDet-m (docs/benchmarks.md, section objects, compares them)")
    input_size: int = Field(416, ge=128, le=1280,
                            description="detector input side in pixels (only yolov4-tiny-fp32 and own models: "
                            "the others are fixed at 416)")
    confidence: float = Field(0.25, gt=0, lt=1, description="lowest detection score kept (weak boxes only extend tracks)")
    track_confidence: float = Field(0.4, gt=0, lt=1, description="score a box needs to start a track")
    nms_iou: float = Field(0.45, gt=0, lt=1)
    classes: list[str] | None = Field(None, description="keep only these labels (default: all)")
    min_track_samples: int = Field(2, ge=1, description="samples a track needs to be reported")
    max_gap_samples: int = Field(3, ge=0, description="missed samples after which a track ends")
    lost_s: float = Field(1.5, ge=0, le=60, description="seconds a lost track is kept at least (whichever of this and "
                          "max_gap_samples is longer), so someone passing behind a sign or a person keeps their id")
    model: str | None = Field(None, description="path of an own YOLO-style ONNX detector (replaces `detector`)")
    labels: list[str] | None = Field(None, description="class names of the own model (default: COCO-80)")
    threads: int = Field(1, ge=1, le=64, description="inference threads")
    motion_gate: bool = Field(True, description="skip the detector on samples where nothing moved (reuse its last boxes)")
    motion_area: float = Field(0.002, gt=0, lt=1, description="share of a 96-px thumbnail that must change to detect again")
    max_skip_samples: int = Field(10, ge=0, description="detect at least every this many samples even without motion")
    max_side: int = Field(1920, ge=128, le=7680,
                          description="long side up to which frames are kept for regions at full resolution")
    regions: int = Field(2, ge=0, le=16, description="most extra detector runs a sample may spend on regions around "
                         "small moving or lost objects, in a shot where small objects were seen (0: the whole frame only)")
    probe_every: int = Field(8, ge=0, le=1000, description="in a shot where nothing small was seen yet, one closer look "
                             "(around what moves, else the next tile of the frame) per this many samples (0: never)")
    region_rate: float = Field(0.5, ge=0, le=16, description="in a shot where small objects were seen, closer looks "
                               "a sample earns on average; a look that finds a small confident object the whole "
                               "frame missed costs nothing, so looks that keep finding run up to `regions` a sample")
    moving_confidence: float = Field(0.6, gt=0, le=1, description="score at which one look at a person, vehicle or "
                                     "animal moving across a still view is enough to report it (1: always min_track_samples)")
    plausible_sizes: bool = Field(True, description="drop tracks far too large for their class against the people and "
                                  "vehicles of the same shot")
    plausible_motion: bool = Field(True, description="drop tracks of things that move only when carried (a phone, a "
                                   "bag) that moved out of their own place (half their length or more) across a still "
                                   "view with no one beside them")
    paths: bool = Field(False, description="give each object its box at every sample it was matched (`path`: "
                        "[t, x1, y1, x2, y2] in frame pixels), for tracking metrics and for zones and lines")


def _looks(frames: Iterator[FrameSample], two: bool) -> Iterator[tuple[FrameSample, np.ndarray | None]]:
    """(the sample at detector size, the same frame at full resolution or None), from one or two streams."""
    pending: FrameSample | None = None
    for fs in frames:
        if not two:
            yield fs, None
        elif fs.stream == 0:
            if pending is not None:
                yield pending, None
            pending = fs
        elif pending is not None and fs.index == pending.index:
            yield pending, fs.image
            pending = None
    if pending is not None:
        yield pending, None


def _scaled(d: Detections, k: float) -> Detections:
    return d if k == 1.0 or not len(d) else Detections(d.xyxy * np.float32(k), d.confidence, d.class_name,
                                                       d.tracker_id, dict(d.data))


def _moving_alone(d: Detections, movers: np.ndarray) -> np.ndarray:
    """Which detections lie on a moving blob that no other detection explains.

    Motion is evidence that something is there, independent of the detector, but only for
    an object that moves on its own: a box largely inside another box (a bag, a skateboard,
    a rider) moves with that one and gets no such credit.
    """
    if not len(d) or not len(movers):
        return np.zeros(len(d), bool)
    on_motion = _covered(d.xyxy, movers, share=0.25)
    inside = np.zeros(len(d), bool)
    for i in range(len(d)):
        others = np.delete(d.xyxy, i, axis=0)
        inside[i] = bool(_covered(d.xyxy[i:i + 1], others, share=0.25)[0]) if len(others) else False
    return on_motion & ~inside


def _touches(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which of ``boxes`` overlap at least one of ``others``."""
    if len(boxes) == 0 or len(others) == 0:
        return np.zeros(len(boxes), bool)
    w = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(boxes[:, None, 0], others[None, :, 0])
    h = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(boxes[:, None, 1], others[None, :, 1])
    return ((w > 0) & (h > 0)).any(1)


def _covered(boxes: np.ndarray, by: np.ndarray, share: float = 0.5) -> np.ndarray:
    """Which of ``boxes`` have at least ``share`` of their area inside one of ``by``."""
    if len(boxes) == 0 or len(by) == 0:
        return np.zeros(len(boxes), bool)
    w = (np.minimum(boxes[:, None, 2], by[None, :, 2]) - np.maximum(boxes[:, None, 0], by[None, :, 0])).clip(0)
    h = (np.minimum(boxes[:, None, 3], by[None, :, 3]) - np.maximum(boxes[:, None, 1], by[None, :, 1])).clip(0)
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clip(1e-6)
    return ((w * h) / area[:, None] >= share).any(1)


def _covered_jointly(boxes: np.ndarray, by: np.ndarray, share: float = 0.5, grid: int = 8) -> np.ndarray:
    """Which of ``boxes`` have at least ``share`` of their area inside the union of ``by``.

    A moving blob is often two or three people walking together: no one box holds half of it, but
    their boxes together do. The share is measured on a ``grid`` x ``grid`` raster of each box.
    """
    if len(boxes) == 0 or len(by) == 0:
        return np.zeros(len(boxes), bool)
    f = (np.arange(grid, dtype=np.float32) + 0.5) / grid
    xs = boxes[:, :1] + f[None] * (boxes[:, 2:3] - boxes[:, :1])  # (M, grid) raster columns
    ys = boxes[:, 1:2] + f[None] * (boxes[:, 3:4] - boxes[:, 1:2])
    in_x = (xs[:, :, None] >= by[None, None, :, 0]) & (xs[:, :, None] <= by[None, None, :, 2])  # (M, grid, N)
    in_y = (ys[:, :, None] >= by[None, None, :, 1]) & (ys[:, :, None] <= by[None, None, :, 3])
    inside = (in_y[:, :, None, :] & in_x[:, None, :, :]).any(-1)  # (M, grid y, grid x)
    return inside.mean((1, 2)) >= share


def _finds(found: Detections, whole: Detections, conf: float, small: np.ndarray) -> bool:
    """Whether a closer look found a small confident object (``small``: per box of ``found``) that no box of
    its class in the whole-frame pass matches: what the look was for. A large object the whole frame
    happened to miss does not count; the whole frame sees it again at the next sample."""
    strong = found[(found.confidence >= conf) & small] if len(found) else found
    for label in set(strong.class_name.tolist()):
        same = whole.xyxy[whole.class_name == label]
        mine = strong.xyxy[strong.class_name == label]
        if not len(same) or (iou_matrix(mine, same).max(1) < 0.3).any():
            return True
    return False


def _journeys(tracks: list[TrackState], within_s: float) -> list[list[TrackState]]:
    """Tracks of carried classes joined where one object was named again: a track that starts within
    ``within_s`` after another of a different carried class ended, its first box within one length of
    that one's last (the detector called a car seen from above "suitcase", then "cell phone").

    The tracker keeps one label per track, so a misnamed object whose name flickers leaves several
    short tracks; whether it travelled alone is a question about the object, not about each name.
    """
    carried = sorted((tr for tr in tracks if tr.data.get("sightings")), key=lambda tr: tr.start_t)
    after: dict[int, TrackState] = {}  # a track's id -> the track that took it over
    taken: set[int] = set()
    for b in carried:
        first = b.data["sightings"][0]
        for a in carried:
            last = a.data["sightings"][-1]
            if (a.id not in after and a.label != b.label and a.last_t < b.start_t <= a.last_t + within_s
                    and np.hypot(first.x - last.x, first.y - last.y) <= max(first.size, last.size)):
                after[a.id] = b
                taken.add(b.id)
                break
    out = []
    for tr in carried:
        if tr.id in taken:
            continue
        chain = [tr]
        while chain[-1].id in after:
            chain.append(after[chain[-1].id])
        out.append(chain)
    return out


def make_tracker(cfg: ObjectsConfig) -> Tracker:
    """The tracker the analyzer links its samples with (IoU 0.3 first, as chosen on tests/unit/tracking_scenes.py)."""
    return Tracker(high_conf=cfg.track_confidence, max_gap=cfg.max_gap_samples, min_hits=cfg.min_track_samples,
                   reach=reach, lost_s=cfg.lost_s, iou_min=0.3)


class _CloserLooks:
    """Which regions of a sample get a closer look, and the merge of what they find.

    In a shot where a small object has been seen (a confident box the whole-frame pass
    sees below ``RegionPlanner.small``), detections look closer at what that pass cannot
    explain: movers no box (nor several boxes together) lies on, and small tracked objects it
    lost, up to ``planner.max_regions`` regions. Those looks are paid for: each sample earns
    ``rate`` looks (saved up to ``SAVED`` samples at full regions), each look spends one, and a look
    that finds a small confident object the whole frame missed earns its cost back. A busy scene of
    people the whole frame already sees costs about ``rate`` looks a sample, a view whose small
    objects only the closer looks find keeps all of them. Until then the video is probed: one
    region per ``probe_every`` samples on average, around the first unexplained mover, or,
    when the view is at rest, the next tile of the frame (a still small object in an idle
    fixed view is found within one round of tiles). A film that never shows small objects
    pays a few looks.
    """

    BURST = 2  # probes that can be saved up while nothing needs one
    SAVED = 3  # samples' worth of looks (at ``planner.max_regions`` each) a quiet stretch can save for a busy one

    def __init__(self, planner: RegionPlanner, probe_every: int, rate: float) -> None:
        self.planner = planner
        self.probe_every = probe_every
        self.rate = rate
        self.runs = 0  # extra detector runs
        self.finds = 0  # ... that found a small confident object the whole frame missed
        self.hunting = False
        # probes are budgeted, not scheduled: one more is earned every `probe_every` samples (kept across
        # cuts, so films with many shots pay no more), so two movers in a row can both be looked at
        self.budget = 1.0 if probe_every else 0.0  # one look at the start, as Frigate scans at start-up
        self.most = float(self.SAVED * planner.max_regions)
        self.credit = self.most  # looks in a shot with small objects, earned at `rate` a sample
        self.tile = 0

    def cut(self) -> None:
        """A new shot has shown no small object yet."""
        self.hunting = False

    def tick(self) -> None:
        """One sample went by (detected or not: an idle fixed view saves up its probes)."""
        if self.probe_every:
            self.budget = min(self.BURST, self.budget + 1 / self.probe_every)
        self.credit = min(self.most, self.credit + self.rate)

    def run(self, d: Detections, detect: Callable[[np.ndarray], Detections], image: np.ndarray,
            movers: np.ndarray, at_rest: bool, live: list[TrackState], track_conf: float, iou: float) -> Detections:
        """``d`` (the whole-frame pass, in ``image`` pixels) merged with this sample's closer looks, if any."""
        shape = image.shape
        aims = self._unexplained(d, movers, live, shape)
        tile = False
        if self.hunting:
            todo = self.planner.around(shape, aims)[:int(self.credit)]  # at most planner.max_regions
            self.credit -= len(todo)
        elif self.budget >= 1:
            todo = self.planner.around(shape, aims)[:1]
            if not len(todo) and at_rest:
                tiles = self.planner.tiles(shape)
                todo, tile = tiles[self.tile % len(tiles)][None], True
                self.tile += 1
            self.budget -= len(todo)
        else:
            todo = np.zeros((0, 4), np.int32)
        if len(todo):
            self.runs += len(todo)
            found = detect_regions(detect, image, todo)
            if not tile:  # a look aimed at a mover or a lost object answers for that, not for its surroundings
                found = [f[_touches(f.xyxy, aims)] for f in found]
            finds = sum(_finds(f, d, track_conf, self.planner.is_small(shape, f.xyxy)) for f in found)
            self.finds += finds
            if self.hunting:
                self.credit = min(self.most, self.credit + finds)
            d = merge([in_region(d, (0, 0, shape[1], shape[0]), shape), *found], iou)
        strong = d.xyxy[d.confidence >= track_conf]
        self.hunting = self.hunting or bool(self.planner.is_small(shape, strong).any())
        return d

    def _unexplained(self, d: Detections, movers: np.ndarray, live: list[TrackState],
                     shape: tuple[int, ...]) -> np.ndarray:
        """Movers no box (nor boxes together) lies on, then the predicted boxes of small tracks the whole
        frame lost.

        A mover may be a group of small objects (a few people walking together), so it is
        looked at whatever its size, as long as a region can see it finer (the planner decides).
        Over a dozen unexplained movers at once (the surveillance clips show at most 8) is a
        busy view, where motion points at nothing in particular.
        """
        boxes = movers[~_covered_jointly(movers, d.xyxy)]
        if len(boxes) > BUSY:  # wind in leaves, water, an animated background: motion that is not objects
            boxes = boxes[:0]
        if live:
            pred = np.stack([tr.predicted() for tr in live])
            labels = np.array([tr.label for tr in live], dtype=object)
            seen = np.zeros(len(live), bool)
            for label in set(labels.tolist()):
                mine = labels == label
                same = d.xyxy[d.class_name == label]
                if len(same):
                    seen[mine] = (iou_matrix(pred[mine], same) > 0.1).any(1)
            lost = pred[~seen]
            boxes = np.concatenate([boxes, lost[self.planner.is_small(shape, lost)]])
        return boxes


class ObjectsAnalyzer(Analyzer):
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="objects", version="1.3.2", kind="analyzer",
        summary="COCO objects (people, vehicles, animals ...) tracked per shot, with counts and spans",
        license="Apache-2.0",
        models=("objects.detector: YOLOv4-tiny int8 or float32 (public domain), or NanoDet-m 416 (Apache-2.0)",),
        extras=("analysis",))
    Config: ClassVar[type[AnalyzerConfig]] = ObjectsConfig
    sampling: ClassVar[Sampling] = Sampling(fps=1.0, max_side=416, pix_fmt="bgr24")
    config: ObjectsConfig

    def sampling_for(self, video: Video) -> Sampling | tuple[Sampling, Sampling]:
        """The frame at detector size and, where regions can see finer, the frame up to ``max_side``."""
        fps = self.fps_for(video)
        small = Sampling(fps=fps, max_side=self.config.input_size, pix_fmt="bgr24")
        if not self._regions_help(video):
            return small
        return small, Sampling(fps=fps, max_side=self.config.max_side, pix_fmt="bgr24")

    def fps_for(self, video: Video) -> float:
        return sample_rate(self.config.fps, self.config.min_samples, video.duration_s)

    def _planner(self) -> RegionPlanner:
        cfg = self.config
        fixed = cfg.model is None and cfg.detector in ("yolov4-tiny", "nanodet")  # both take 416 px whatever is asked
        return RegionPlanner(model_size=416 if fixed else cfg.input_size, max_regions=cfg.regions)

    def _regions_help(self, video: Video) -> bool:
        w, h = target_size(*video.display_size, self.config.max_side)
        return self.config.regions > 0 and self._planner().gain((h, w)) >= 1.5

    def _detector(self):  # noqa: ANN202 - vidlens.models.detector.ObjectDetector
        from vidlens.models.detector import load_detector

        cfg = self.config
        return load_detector(cfg.detector, cfg.model, cfg.labels, cfg.input_size, cfg.threads)

    def prepare(self, ctx: AnalysisContext) -> None:
        self._detector()

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        cfg = self.config
        det = self._detector()
        keep = set(cfg.classes) if cfg.classes else None
        tracker = make_tracker(cfg)
        cuts = CutDetector()
        gate = MotionGate(min_area=cfg.motion_area, max_skip=cfg.max_skip_samples) if cfg.motion_gate else None
        two = self._regions_help(ctx.video)
        looks = _CloserLooks(self._planner(), cfg.probe_every, cfg.region_rate)
        motion = MotionMap()
        scenes = [SceneScale()]
        last: Detections | None = None
        errors: list[dict[str, Any]] = []
        samples = detected = 0
        scale = 1.0
        live_by_t: list[tuple[float, list[TrackState]]] = []
        paths: dict[int, list[list[float]]] = {}
        duration = max(ctx.video.duration_s, 1e-6)

        def detect(image: np.ndarray) -> Detections:
            return det.detect(image, cfg.confidence, cfg.nms_iou)

        for fs, full in _looks(frames, two):
            samples += 1
            img = fs.image
            work = full if full is not None else img
            k = work.shape[1] / img.shape[1]  # detector-size pixels to working pixels
            scale = ctx.video.display_size[0] / work.shape[1]
            cut = cuts(img)
            if cut:
                tracker.cut()
                motion.reset()
                looks.cut()
                scenes.append(SceneScale())
            movers, changed = np.zeros((0, 4), np.float32), False
            m = motion.update(img, blobs=two)  # without closer looks, only whether the view is still
            moved = m.share if m.known else 1.0  # unknown: not at rest
            if two:
                looks.tick()
                changed = m.known and m.changed
                if moved < STILL:  # a pan or a cut moves everything: then motion says nothing about objects
                    movers = m.boxes * np.float32(k)
            # the coarse gate misses a small object moving or leaving; the finer motion map does not
            if gate is not None and not gate.should_run(img, force=cut or last is None or changed):
                d = last
            else:
                try:
                    d = _scaled(detect(img), k)
                    if two:
                        d = looks.run(d, detect, work, movers, moved < AT_REST, tracker.live, cfg.track_confidence,
                                      cfg.nms_iou)
                    last = d
                except Exception as exc:  # one bad frame must not lose the video
                    if len(errors) < MAX_ERRORS:
                        errors.append({"t": round(fs.t, 3), "error": f"{type(exc).__name__}: {exc}"})
                    last = None
                    continue
                detected += 1
                scenes[-1].add(d[d.confidence >= cfg.track_confidence])
            seen = d  # carriers count even where ``classes`` leaves them out of the result
            if keep is not None and len(d):
                d = d[np.array([str(n) in keep for n in d.class_name])]
            matched = tracker.update(fs.t, d)
            alone = _moving_alone(d, movers)
            for tr, i in matched:
                if cfg.paths:
                    paths.setdefault(tr.id, []).append(
                        [round(fs.t, 3), *(round(float(v) * scale, 1) for v in d.xyxy[i])])
                if tr.hits == 1:
                    tr.data["scene"] = len(scenes) - 1
                    tr.confirmed = bool(alone[i] and d.confidence[i] >= cfg.moving_confidence
                                        and moves_on_its_own(tr.label))
                if tr.label in CARRIED:  # where it went, and whether someone could have carried it there
                    tr.data.setdefault("sightings", []).append(Sighting.at(d.xyxy[i], seen, moved < STILL))
            live_by_t.append((fs.t, [tr for tr, _ in matched if tr.hits >= cfg.min_track_samples or tr.confirmed]))
            ctx.progress(min(1.0, fs.t / duration))
        tracks = tracker.finish()
        fps = self.fps_for(ctx.video)
        period = 1.0 / fps
        alone: set[int] = set()
        if cfg.plausible_motion:
            for chain in _journeys(tracks, max(cfg.max_gap_samples * period, cfg.lost_s)):
                if travelled_alone([s for tr in chain for s in tr.data["sightings"]]):
                    alone.update(tr.id for tr in chain)
        rejected: list[tuple[TrackState, str]] = []
        for tr in tracks:
            if cfg.plausible_sizes and scenes[tr.data.get("scene", 0)].implausible(tr.label, tr.best_box):
                rejected.append((tr, "too large for its class beside the people and vehicles of its shot"))
            elif tr.id in alone:
                rejected.append((tr, "moved across a still view with no one to carry it"))
        dropped = {tr.id for tr, _ in rejected}
        tracks = [tr for tr in tracks if tr.id not in dropped]
        end = max(ctx.video.duration_s, max((tr.last_t for tr in tracks), default=0.0))

        def box(tr: TrackState) -> list[float]:
            return [round(float(v) * scale, 1) for v in tr.best_box]

        objects = []
        for n, tr in enumerate(tracks, 1):
            objects.append({
                "track_id": n,
                "label": tr.label,
                "start_s": round(tr.start_t, 3),
                "end_s": round(min(tr.last_t + period, end), 3),
                "best_box": box(tr),
                "best_t": round(tr.best_t, 3),
                "confidence": round(tr.best_conf, 3),
                "mean_confidence": round(tr.conf_sum / tr.hits, 3),
                "frames": tr.hits,
                **({"path": paths[tr.id]} if cfg.paths else {}),
            })
        counts = Counter(o["label"] for o in objects)
        live = [(t, Counter(tr.label for tr in trs if tr.id not in dropped)) for t, trs in live_by_t]
        peak: Counter[str] = Counter()
        for _t, c in live:
            for label, n in c.items():
                peak[label] = max(peak[label], n)
        return {
            "objects": objects,
            "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "peak_concurrent": {k: peak[k] for k in sorted(counts)},
            # confirmed tracks matched at each sample that had any: what "N at once" per shot is counted from
            "live": [{"t": round(t, 3), "counts": dict(sorted(c.items()))} for t, c in live if c],
            # tracks whose size or travel their class cannot have (e.g. a car from above called "cell phone")
            "rejected": [{"label": tr.label, "start_s": round(tr.start_t, 3),
                          "end_s": round(min(tr.last_t + period, end), 3), "best_box": box(tr),
                          "best_t": round(tr.best_t, 3), "confidence": round(tr.best_conf, 3), "reason": reason}
                         for tr, reason in rejected],
            "sampled_frames": samples,
            "detected_frames": detected,
            "region_detections": looks.runs,
            "region_finds": looks.finds,  # closer looks that found a small confident object the whole frame missed
            "sample_fps": round(fps, 3),
            "frame_size": list(ctx.video.display_size),
            "model": cfg.detector if cfg.model is None else Path(cfg.model).name,
            "errors": errors,
        }

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.analyze.builtin._vision_examples import check_people_objects, make_people_clip

        return [AnalyzerExample("walking-person", make_people_clip, check_people_objects)]
