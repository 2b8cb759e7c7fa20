"""Faces: who appears, and when.

Faces are detected (YuNet) and embedded (SFace, 128-d) on sampled frames, followed
through each shot by the tracker (a sample where nothing moved reuses the last faces, as the
objects analyzer does), and the tracks are clustered across the whole
video into people (``vidlens.analyze.people``). Each person gets the spans they
appear in, a best thumbnail (a JPEG blob) and, with a gallery, a name when the
similarity passes ``identity_threshold``. Only one small JPEG per live track and a
running embedding sum are kept, never frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample, sample_rate
from vidlens.analyze.motion import MotionGate
from vidlens.analyze.people import FaceTrackSummary, Gallery, cluster_tracks, merge_spans
from vidlens.analyze.tracking import CutDetector, Tracker
from vidlens.media.decode import Sampling
from vidlens.plugins import PluginManifest
from vidlens.types import Detections, FrameSample, Video

if TYPE_CHECKING:
    from vidlens.models.faces import Face

MAX_ERRORS = 20


class FacesConfig(AnalyzerConfig):
    fps: float = Field(1.0, gt=0, le=30, description="samples per second")
    min_samples: int = Field(20, ge=1, le=100, description="short videos are sampled faster to get at least this many looks")
    max_side: int = Field(640, ge=160, le=1920, description="longest side of the frames searched for faces")
    min_face_px: int = Field(10, ge=6, description="smallest face side kept (pixels of the sampled frame)")
    detect_confidence: float = Field(0.7, gt=0, lt=1)
    cluster_threshold: float = Field(0.4, gt=-1, lt=1, description="average cosine similarity to join two tracks")
    gallery: str | None = Field(None, description="folder of photos per name, or JSON of embeddings")
    identity_threshold: float = Field(0.45, gt=-1, lt=1, description="cosine similarity to name a person")
    detector_model: str | None = Field(None, description="own YuNet-compatible ONNX file")
    recognizer_model: str | None = Field(None, description="own SFace-compatible ONNX file")
    threads: int = Field(1, ge=1, le=64)
    motion_gate: bool = Field(True, description="skip detection on samples where nothing moved (reuse the last faces)")
    max_skip_samples: int = Field(10, ge=0, description="detect at least every this many samples even without motion")


def _quality(face_size: float, score: float, frontal: float) -> float:
    return face_size * score * frontal


def _frontalness(landmarks: np.ndarray) -> float:
    """1.0 when the nose sits midway between the eyes, falling towards 0 in profile."""
    re, le, nose = landmarks[0], landmarks[1], landmarks[2]
    span = abs(le[0] - re[0])
    if span < 1e-6:
        return 0.0
    return float(max(0.0, 1.0 - abs((nose[0] - re[0]) / span - 0.5) * 2))


def _thumbnail(bgr: np.ndarray, box: np.ndarray, side: int = 160) -> bytes:
    import cv2

    x1, y1, x2, y2 = box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 0.8
    h, w = bgr.shape[:2]
    a, b = int(max(0, cx - half)), int(max(0, cy - half))
    c, d = int(min(w, cx + half)), int(min(h, cy + half))
    crop = bgr[b:d, a:c]
    if crop.size == 0:
        return b""
    scale = side / max(crop.shape[:2])
    if scale < 1:
        crop = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), max(1, int(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes() if ok else b""


class FacesAnalyzer(Analyzer):
    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="faces", version="1.1.0", kind="analyzer",
        summary="Distinct people by face across the video, with spans, thumbnails and gallery names",
        license="Apache-2.0", models=("faces.detector: YuNet (MIT)", "faces.recognizer: SFace (Apache-2.0)"),
        extras=("analysis",))
    Config: ClassVar[type[AnalyzerConfig]] = FacesConfig
    sampling: ClassVar[Sampling] = Sampling(fps=1.0, max_side=640, pix_fmt="bgr24")
    config: FacesConfig

    def sampling_for(self, video: Video) -> Sampling:
        return Sampling(fps=self.fps_for(video), max_side=self.config.max_side, pix_fmt="bgr24")

    def fps_for(self, video: Video) -> float:
        return sample_rate(self.config.fps, self.config.min_samples, video.duration_s)

    def _models(self):  # noqa: ANN202
        from vidlens.models.faces import FaceModels

        c = self.config
        return FaceModels(c.detector_model, c.recognizer_model, confidence=c.detect_confidence,
                          threads=c.threads).load()

    def prepare(self, ctx: AnalysisContext) -> None:
        self._models()

    def load_gallery(self) -> Gallery | None:
        if self.config.gallery is None:
            return None
        import cv2

        models = self._models()

        def embed_image(path: Path) -> np.ndarray | None:
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is None:
                return None
            s = 640 / max(img.shape[:2])
            if s < 1:
                img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            faces = models.detect(img)
            if not faces:
                return None
            return models.embed(img, max(faces, key=lambda f: f.size))

        return Gallery.load(self.config.gallery, embed_image)

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        cfg = self.config
        models = self._models()
        gallery = self.load_gallery()
        tracker = Tracker(high_conf=cfg.detect_confidence, max_gap=2, min_hits=1, centroid_max=0.8)
        cuts = CutDetector()
        gate = MotionGate(max_skip=cfg.max_skip_samples) if cfg.motion_gate else None
        last: tuple[list[Face], list[np.ndarray]] | None = None
        errors: list[dict[str, Any]] = []
        samples = detected = 0
        scale = 1.0
        duration = max(ctx.video.duration_s, 1e-6)
        for fs in frames:
            samples += 1
            img = fs.image
            scale = ctx.video.display_size[0] / img.shape[1]
            cut = cuts(img)
            if cut:
                tracker.cut()
            if last is not None and gate is not None and not gate.should_run(img, force=cut):
                faces, embs = last  # a still picture: the same faces, as for objects
            else:
                try:
                    faces = [f for f in models.detect(img) if f.size >= cfg.min_face_px]
                    embs = [models.embed(img, f) for f in faces]
                except Exception as exc:  # one bad frame must not lose the video
                    if len(errors) < MAX_ERRORS:
                        errors.append({"t": round(fs.t, 3), "error": f"{type(exc).__name__}: {exc}"})
                    last = None
                    continue
                last = faces, embs
                detected += 1
            dets = Detections(np.array([f.xyxy for f in faces], np.float32).reshape(-1, 4),
                              np.array([f.score for f in faces], np.float32),
                              np.array(["face"] * len(faces), dtype=object))
            feats = np.array(embs, np.float32).reshape(-1, 128)
            for tr, i in tracker.update(fs.t, dets, feats):
                f, e = faces[i], embs[i]
                q = _quality(f.size, f.score, _frontalness(f.landmarks))
                data = tr.data
                data["emb"] = data.get("emb", 0) + e * max(q, 1e-3)
                data.setdefault("times", []).append(fs.t)
                if q > data.get("q", -1.0):
                    data["q"], data["box"], data["t"] = q, f.xyxy * scale, fs.t
                    data["jpg"] = _thumbnail(img, f.xyxy) if ctx.blobs is not None else b""
            ctx.progress(min(1.0, fs.t / duration))
        tracks = tracker.finish()
        summaries = [FaceTrackSummary(_unit(tr.data["emb"]), tuple(tr.data["times"])) for tr in tracks]
        labels = cluster_tracks(summaries, cfg.cluster_threshold)
        fps = self.fps_for(ctx.video)
        period = 1.0 / fps
        end = max(ctx.video.duration_s, max((tr.last_t for tr in tracks), default=0.0))
        people = []
        for pid in range(max(labels, default=-1) + 1):
            mine = [tr for tr, lab in zip(tracks, labels) if lab == pid]
            emb = _unit(sum(tr.data["emb"] for tr in mine))
            best = max(mine, key=lambda tr: tr.data["q"])
            spans = merge_spans([(tr.start_t, min(tr.last_t + period, end)) for tr in mine], gap=2 * period)
            identity, score = gallery.identify(emb, cfg.identity_threshold) if gallery else (None, None)
            thumb = None
            if ctx.blobs is not None and best.data["jpg"]:
                thumb = ctx.blobs.put_bytes(best.data["jpg"], ".jpg")
            people.append({
                "person_id": pid + 1,
                "spans": [{"start_s": round(s, 3), "end_s": round(e, 3)} for s, e in spans],
                "first_s": round(spans[0][0], 3),
                "screen_time_s": round(sum(e - s for s, e in spans), 3),
                "faces": sum(tr.hits for tr in mine),
                "tracks": len(mine),
                "thumbnail_blob": thumb,
                "best_t": round(best.data["t"], 3),
                "best_box": [round(float(v), 1) for v in best.data["box"]],
                "identity": identity,
                "identity_score": None if score is None else round(score, 3),
                "embedding": [round(float(v), 5) for v in emb],
            })
        return {
            "people": people,
            "count": len(people),
            "sampled_frames": samples,
            "detected_frames": detected,
            "sample_fps": round(fps, 3),
            "gallery": None if gallery is None else {"names": gallery.names, "warnings": gallery.warnings},
            "errors": errors,
        }

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        from vidlens.analyze.builtin._vision_examples import check_two_people, make_two_faces_clip

        return [AnalyzerExample("two-men", make_two_faces_clip, check_two_people)]


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v
