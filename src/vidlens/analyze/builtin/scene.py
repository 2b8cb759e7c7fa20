"""Scene: ImageNet labels, scene families, picture texture and an image embedding per keyframe (EfficientNet-Lite0).

One 224-px view of at most ``fps`` frames a second, plus the first frame after each
cut, goes through EfficientNet-Lite0. Each sample keeps its top-5 labels and its
1280-d pooled feature, stored as a float16 ``.npy`` blob so the JSON stays small
(useful for similarity search and near-duplicate shots). Labels scoring at least
``label_confidence`` become ``scene_labels`` spans; per-shot label summaries are
added when the document is assembled. ImageNet names objects more than places
("minibus", "suit", "valley"), so single labels never become tags: each sample also
keeps the summed probability of each coarse scene family (``scene_families``: room,
street, nature ...) and three texture figures of the picture (mean luma, the share of
pixels in mid-contrast detail and the share on hard edges), from which the tags
derive indoor/outdoor, scene families and "graphics" (test patterns, slides, title
cards: flat colour with hard edges and almost no detail, which no camera records).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, ClassVar

import cv2
import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample
from vidlens.analyze.builtin.scene_families import family_indices
from vidlens.analyze.keyframes import Keyframe, classify_keyframes, sample_ends
from vidlens.media.decode import Sampling
from vidlens.models.classify import SceneModel
from vidlens.plugins import PluginManifest
from vidlens.types import FrameSample, Video

TOP_K = 5
TEXTURE_WIDTH = 224  # texture figures are measured at this width (the classifier's scale)
FLAT_RANGE = 2  # a pixel whose 3x3 luma range is at most this is flat (camera noise and grain exceed it)
EDGE_RANGE = 40  # ... and at least this, on a hard edge; in between, it is detail


class SceneConfig(AnalyzerConfig):
    fps: float = Field(0.5, gt=0, le=2, description="frames classified per second (plus the first after each cut)")
    cut_fps: float = Field(2.0, gt=0, le=10, description="frames per second checked for cuts (cheap)")
    label_confidence: float = Field(0.3, gt=0, lt=1, description="probability a label needs to become a scene label")
    embeddings: bool = Field(True, description="store each sample's feature vector as a float16 .npy blob")
    model: str | None = Field(None, description="own ONNX classifier (input 3x224x224; outputs logits[, features])")
    labels: str | None = Field(None, description="class names of the own model, one a line (default: ImageNet-1k)")
    threads: int = Field(1, ge=1, le=64, description="inference threads")


def npy_bytes(vector: np.ndarray) -> bytes:
    """A float16 ``.npy`` file of ``vector``."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(vector, np.float16), allow_pickle=False)
    return buf.getvalue()


class SceneAnalyzer(Analyzer):
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="scene", version="1.1.0", kind="analyzer",
        summary="ImageNet labels, scene families, texture and a 1280-d embedding per keyframe (EfficientNet-Lite0)",
        license="Apache-2.0", models=("scene.classifier: EfficientNet-Lite0 (Apache-2.0)",
                                      "scene.labels: ImageNet-1k names (MIT)"), extras=("analysis",))
    Config: ClassVar[type[AnalyzerConfig]] = SceneConfig
    sampling: ClassVar[Sampling] = Sampling(fps=2.0, max_side=456, pix_fmt="rgb24")
    config: SceneConfig

    def sampling_for(self, video: Video) -> Sampling:
        return Sampling(fps=max(self.config.cut_fps, self.config.fps), max_side=456, pix_fmt="rgb24")

    def _model(self) -> SceneModel:
        return SceneModel.load(self.config.model, self.config.labels, self.config.threads)

    def prepare(self, ctx: AnalysisContext) -> None:
        self._model()

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        cfg = self.config
        model = self._model()
        every = 1.0 / cfg.fps
        dims: set[int] = set()
        families = family_indices(model.labels)

        def classify(kf: Keyframe) -> dict[str, Any]:
            """One sample's top labels; its embedding goes to a blob at once (only the key is kept)."""
            probs, feats = model.run([kf.sample.image])
            blob = None
            if feats is not None:
                dims.add(int(feats.shape[1]))
                if cfg.embeddings and ctx.blobs is not None:
                    blob = ctx.blobs.put_bytes(npy_bytes(feats[0]), ".npy")
            top = np.argsort(-probs[0])[:TOP_K]
            fams = {f: round(float(probs[0, ix].sum()), 4) for f, ix in families.items() if ix}
            return {"t": round(kf.sample.t, 3), "cut": kf.cut,
                    "labels": [{"label": model.labels[i], "score": round(float(probs[0, i]), 4)} for i in top],
                    "families": {f: v for f, v in fams.items() if v >= 0.001},
                    "texture": texture(kf.sample.image), "embedding_blob": blob}

        samples, errors = classify_keyframes(frames, every, ctx.video.duration_s, classify, ctx.progress)
        dim = next(iter(dims), None)
        ends = sample_ends([s["t"] for s in samples], every, ctx.video.duration_s)
        return {
            "scene": {"model": model.name, "embedding_dim": dim, "embedding_dtype": "float16", "samples": samples},
            "scene_labels": _label_spans(samples, ends, cfg.label_confidence),
            "scored_frames": len(samples),
            "sample_fps": cfg.fps,
            "errors": errors,
        }

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.analyze.builtin._vision_examples import check_scene_labels, make_two_photo_clip

        return [AnalyzerExample("bus-then-two-men", make_two_photo_clip, check_scene_labels)]


def texture(rgb: np.ndarray) -> dict[str, float]:
    """Mean luma and the shares of detail and hard-edge pixels of an RGB frame, at the classifier's scale.

    A pixel's 3x3 luma range (max - min) sorts it: flat (range <= FLAT_RANGE), detail, or
    hard edge (>= EDGE_RANGE). Drawn pictures are flat areas split by hard edges; camera
    pictures, rendered films included, have detail almost everywhere (texture, noise, soft
    shading). Measured at a fixed width so the figures do not depend on the video's size.
    """
    h, w = rgb.shape[:2]
    small = cv2.resize(np.ascontiguousarray(rgb), (TEXTURE_WIDTH, max(1, round(h * TEXTURE_WIDTH / w))),
                       interpolation=cv2.INTER_AREA)
    y = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    kernel = np.ones((3, 3), np.uint8)
    rng = cv2.dilate(y, kernel).astype(np.int16) - cv2.erode(y, kernel)
    return {"luma": round(float(y.mean()) / 255.0, 4),
            "detail": round(float(np.count_nonzero((rng > FLAT_RANGE) & (rng < EDGE_RANGE))) / rng.size, 4),
            "edges": round(float(np.count_nonzero(rng >= EDGE_RANGE)) / rng.size, 4)}


def _label_spans(samples: list[dict[str, Any]], ends: list[float], floor: float) -> list[dict[str, Any]]:
    """Each label at or above ``floor`` over consecutive samples, as one span with its best score."""
    open_: dict[str, dict[str, Any]] = {}
    spans: list[dict[str, Any]] = []
    for i, s in enumerate(samples):
        here = {x["label"]: x["score"] for x in s["labels"] if x["score"] >= floor}
        for label in [k for k in open_ if k not in here]:
            spans.append(open_.pop(label))
        for label, score in here.items():
            span = open_.setdefault(label, {"label": label, "start_s": s["t"], "end_s": s["t"],
                                            "confidence": 0.0, "samples": 0})
            span["end_s"] = round(ends[i], 3)
            span["confidence"] = max(span["confidence"], score)
            span["samples"] += 1
    spans.extend(open_.values())
    return sorted(spans, key=lambda x: (x["start_s"], -x["confidence"], x["label"]))
