"""Objects: COCO detection on sampled frames, tracked per shot.

Per-frame boxes are noise to a reader; the result is one item per tracked object
("person, 12.0–31.5 s, best box ...") plus per-label counts ("3 person, 1 car").
Detection runs at ``fps`` samples a second on frames no larger than the detector
input; tracking (``vidlens.analyze.tracking``) links the samples and ends tracks at
time gaps and at shot changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample, sample_rate
from vidlens.analyze.motion import MotionGate
from vidlens.analyze.tracking import CutDetector, Tracker
from vidlens.media.decode import Sampling
from vidlens.plugins import PluginManifest
from vidlens.types import Detections, FrameSample, Video

MAX_ERRORS = 20


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
    model: str | None = Field(None, description="path of an own YOLO-style ONNX detector (replaces `detector`)")
    labels: list[str] | None = Field(None, description="class names of the own model (default: COCO-80)")
    threads: int = Field(1, ge=1, le=64, description="inference threads")
    motion_gate: bool = Field(True, description="skip the detector on samples where nothing moved (reuse its last boxes)")
    motion_area: float = Field(0.002, gt=0, lt=1, description="share of a 96-px thumbnail that must change to detect again")
    max_skip_samples: int = Field(10, ge=0, description="detect at least every this many samples even without motion")


class ObjectsAnalyzer(Analyzer):
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="objects", version="1.1.0", kind="analyzer",
        summary="COCO objects (people, vehicles, animals ...) tracked per shot, with counts and spans",
        license="Apache-2.0",
        models=("objects.detector: YOLOv4-tiny int8 or float32 (public domain), or NanoDet-m 416 (Apache-2.0)",),
        extras=("analysis",))
    Config: ClassVar[type[AnalyzerConfig]] = ObjectsConfig
    sampling: ClassVar[Sampling] = Sampling(fps=1.0, max_side=416, pix_fmt="bgr24")
    config: ObjectsConfig

    def sampling_for(self, video: Video) -> Sampling:
        return Sampling(fps=self.fps_for(video), max_side=self.config.input_size, pix_fmt="bgr24")

    def fps_for(self, video: Video) -> float:
        return sample_rate(self.config.fps, self.config.min_samples, video.duration_s)

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
        tracker = Tracker(high_conf=cfg.track_confidence, max_gap=cfg.max_gap_samples,
                          min_hits=cfg.min_track_samples)
        cuts = CutDetector()
        gate = MotionGate(min_area=cfg.motion_area, max_skip=cfg.max_skip_samples) if cfg.motion_gate else None
        last: Detections | None = None
        errors: list[dict[str, Any]] = []
        samples = detected = 0
        scale = 1.0
        live_by_t: list[tuple[float, Counter[str]]] = []
        duration = max(ctx.video.duration_s, 1e-6)
        for fs in frames:
            samples += 1
            img = fs.image
            scale = ctx.video.display_size[0] / img.shape[1]
            cut = cuts(img)
            if cut:
                tracker.cut()
            if gate is not None and not gate.should_run(img, force=cut or last is None):
                d = last
            else:
                try:
                    d = last = det.detect(img, cfg.confidence, cfg.nms_iou)
                except Exception as exc:  # one bad frame must not lose the video
                    if len(errors) < MAX_ERRORS:
                        errors.append({"t": round(fs.t, 3), "error": f"{type(exc).__name__}: {exc}"})
                    last = None
                    continue
                detected += 1
            if keep is not None and len(d):
                d = d[np.array([str(n) in keep for n in d.class_name])]
            matched = tracker.update(fs.t, d)
            live_by_t.append((fs.t, Counter(tr.label for tr, _ in matched if tr.hits >= cfg.min_track_samples)))
            ctx.progress(min(1.0, fs.t / duration))
        tracks = tracker.finish()
        fps = self.fps_for(ctx.video)
        period = 1.0 / fps
        end = max(ctx.video.duration_s, max((tr.last_t for tr in tracks), default=0.0))
        objects = []
        for n, tr in enumerate(tracks, 1):
            objects.append({
                "track_id": n,
                "label": tr.label,
                "start_s": round(tr.start_t, 3),
                "end_s": round(min(tr.last_t + period, end), 3),
                "best_box": [round(float(v) * scale, 1) for v in tr.best_box],
                "best_t": round(tr.best_t, 3),
                "confidence": round(tr.best_conf, 3),
                "mean_confidence": round(tr.conf_sum / tr.hits, 3),
                "frames": tr.hits,
            })
        counts = Counter(o["label"] for o in objects)
        peak: Counter[str] = Counter()
        for _t, c in live_by_t:
            for label, k in c.items():
                peak[label] = max(peak[label], k)
        return {
            "objects": objects,
            "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "peak_concurrent": {k: peak[k] for k in sorted(counts)},
            # confirmed tracks matched at each sample that had any: what "N at once" per shot is counted from
            "live": [{"t": round(t, 3), "counts": dict(sorted(c.items()))} for t, c in live_by_t if c],
            "sampled_frames": samples,
            "detected_frames": detected,
            "sample_fps": round(fps, 3),
            "frame_size": list(ctx.video.display_size),
            "model": cfg.detector if cfg.model is None else Path(cfg.model).name,
            "errors": errors,
        }

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.analyze.builtin._vision_examples import check_people_objects, make_people_clip

        return [AnalyzerExample("walking-person", make_people_clip, check_people_objects)]
