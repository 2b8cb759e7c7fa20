"""NSFW: a content-moderation score per sampled frame, per shot and for the video.

Yahoo's open_nsfw (ResNet-50, BSD-2-Clause) gives P(nsfw) for one 224-px view of a
frame. It looks at no more than ``fps`` frames a second plus the first frame after
each cut, so it stays cheap; spans whose samples reach ``threshold`` are listed as
``flagged``. Per-shot maxima and means are added when the document is assembled,
where the shots are known. A score is a hint for a human reviewer, not a verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample
from vidlens.analyze.keyframes import classify_keyframes, sample_ends
from vidlens.media.decode import Sampling
from vidlens.models.classify import NsfwModel
from vidlens.plugins import PluginManifest
from vidlens.types import FrameSample, Video


class NsfwConfig(AnalyzerConfig):
    fps: float = Field(0.5, gt=0, le=2, description="frames scored per second (plus the first after each cut)")
    cut_fps: float = Field(2.0, gt=0, le=10, description="frames per second checked for cuts (cheap)")
    threshold: float = Field(0.8, gt=0, lt=1, description="P(nsfw) from which a span is flagged")
    model: str | None = Field(None, description="own ONNX file with open_nsfw's input (224x224x3 BGR) and output")
    threads: int = Field(1, ge=1, le=64, description="inference threads")


class NsfwAnalyzer(Analyzer):
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="nsfw", version="1.0.0", kind="analyzer",
        summary="Content-moderation score (open_nsfw) per sample, shot and video, with flagged spans",
        license="Apache-2.0", models=("nsfw.classifier: Yahoo open_nsfw (BSD-2-Clause)",), extras=("analysis",))
    Config: ClassVar[type[AnalyzerConfig]] = NsfwConfig
    sampling: ClassVar[Sampling] = Sampling(fps=2.0, max_side=456, pix_fmt="rgb24")
    config: NsfwConfig

    def sampling_for(self, video: Video) -> Sampling:
        return Sampling(fps=max(self.config.cut_fps, self.config.fps), max_side=456, pix_fmt="rgb24")

    def _model(self) -> NsfwModel:
        return NsfwModel.load(self.config.model, self.config.threads)

    def prepare(self, ctx: AnalysisContext) -> None:
        self._model()

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        cfg = self.config
        model = self._model()
        every = 1.0 / cfg.fps
        samples, errors = classify_keyframes(
            frames, every, ctx.video.duration_s,
            lambda kf: {"t": round(kf.sample.t, 3), "score": round(float(model.scores([kf.sample.image])[0]), 4)},
            ctx.progress)
        ends = sample_ends([s["t"] for s in samples], every, ctx.video.duration_s)
        scores = [s["score"] for s in samples]
        top = max(range(len(samples)), key=lambda i: scores[i], default=None)
        return {
            "moderation": {
                "model": model.name,
                "threshold": cfg.threshold,
                "samples": samples,
                "max": None if top is None else scores[top],
                "max_t": None if top is None else samples[top]["t"],
                "mean": round(sum(scores) / len(scores), 4) if scores else None,
                "flagged": _flagged(samples, ends, cfg.threshold),
            },
            "scored_frames": len(samples),
            "sample_fps": cfg.fps,
            "errors": errors,
        }

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.analyze.builtin._vision_examples import check_safe_moderation, make_two_photo_clip

        return [AnalyzerExample("safe-photos-with-a-cut", make_two_photo_clip, check_safe_moderation)]


def _flagged(samples: list[dict[str, Any]], ends: list[float], threshold: float) -> list[dict[str, Any]]:
    """Runs of consecutive samples at or above ``threshold``, each as one span."""
    spans: list[dict[str, Any]] = []
    run: list[int] = []
    for i in range(len(samples) + 1):
        if i < len(samples) and samples[i]["score"] >= threshold:
            run.append(i)
            continue
        if run:
            spans.append({"start_s": samples[run[0]]["t"], "end_s": round(ends[run[-1]], 3),
                          "max_score": max(samples[j]["score"] for j in run), "samples": len(run)})
            run = []
    return spans
