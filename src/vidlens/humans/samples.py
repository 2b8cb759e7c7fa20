"""Turning a person's face and voice files into the embeddings a digital human is registered with.

A face file is an image or a video of that one person. In an image the largest face is the
person, and a second face nearly as large makes the image ambiguous (refused: crop it). A video
is sampled a few times a second; frames with one clear face give embeddings, frames whose face
disagrees with the rest (another person walking by) are dropped, and up to ``MAX_FACE_SAMPLES``
embeddings that differ most from one another are kept (angles, expressions, light).

A voice file is any audio or video with speech: silence is cut with Silero VAD, and at least
``min_speech_s`` of speech must remain. Every refusal says why, and nothing is stored (the registry
stores samples only after every file of a registration has been read).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.errors import MediaError, UnsupportedMediaError
from vidlens.humans.embedders import RATE, Embedders, speech_of
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe
from vidlens.types import Video

MAX_FACE_SAMPLES = 8
VIDEO_FPS = 2.0
MAX_VIDEO_SAMPLES = 240
MIN_VIDEO_FACES = 3
AMBIGUOUS_RATIO = 0.6  # a second face at least this size of the largest: which one is the person?
IMAGE_CONTAINERS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"}
OUTLIER_COSINE = 0.3  # a frame's face this far from the video's consensus is someone else


class SampleError(MediaError):
    """A sample file holds no usable face or voice."""

    code = "unusable_sample"


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str  # face | voice
    source_name: str
    source_sha256: str
    start_s: float
    end_s: float
    model: str
    embedding: np.ndarray


def is_still(video: Video) -> bool:
    """An image (or a one-frame video): one look, no sampling rate."""
    return video.container in IMAGE_CONTAINERS or video.frame_count == 1 or video.duration_s <= 0.05


def face_samples(path: str | Path, emb: Embedders) -> list[Sample]:
    """The face embeddings of one image or video of one person."""
    name = Path(path).name
    video = probe(path, require_video=False)
    if not video.width:
        raise UnsupportedMediaError(f"{name}: has no picture, so no face (voice files go to --voice)", path=video.uri)
    still = is_still(video)
    sampling = Sampling(fps=None if still else VIDEO_FPS, max_side=1280, pix_fmt="bgr24")
    min_px = emb.settings.sample_min_face_px
    found: list[tuple[float, np.ndarray]] = []
    largest_seen, ambiguous, frames = 0.0, 0, 0
    for fs in iter_frames(video, sampling):
        frames += 1
        faces = emb.find_faces(fs.image, min_px=16)
        if faces:
            largest_seen = max(largest_seen, faces[0].size)
        faces = [f for f in faces if f.size >= min_px]
        if len(faces) > 1 and faces[1].size >= AMBIGUOUS_RATIO * faces[0].size:
            ambiguous += 1
        elif faces:
            found.append((fs.t, faces[0].embedding))
        if still or frames >= MAX_VIDEO_SAMPLES:
            break
    if not found:
        raise SampleError(f"{name}: no usable face: {_why_no_face(frames, largest_seen, ambiguous, min_px)}",
                          path=video.uri)
    if still:
        t, e = found[0]
        return [Sample("face", name, video.sha256, 0.0, 0.0, emb.face_model_id, e)]
    kept = _consistent(found)
    if len(kept) < MIN_VIDEO_FACES:
        raise SampleError(f"{name}: no usable face: only {len(kept)} of {frames} sampled frames show one clear "
                          f"face of the same person (at least {MIN_VIDEO_FACES} are needed)", path=video.uri)
    chosen = _diverse([e for _, e in kept], MAX_FACE_SAMPLES)
    return [Sample("face", name, video.sha256, round(kept[i][0], 3), round(kept[i][0], 3), emb.face_model_id,
                   kept[i][1]) for i in chosen]


def _why_no_face(frames: int, largest: float, ambiguous: int, min_px: int) -> str:
    if frames == 0:
        return "no frame could be decoded"
    if ambiguous:
        return (f"{ambiguous} frame(s) show several faces of similar size; give a picture of the one person "
                "(crop it)")
    if largest == 0:
        return f"no face was detected in {frames} sampled frame(s)"
    return f"the largest face is {largest:.0f} px; at least {min_px} px is needed for a reliable template"


def _consistent(found: list[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
    """The faces that agree with the video's consensus (the medoid), dropping passers-by."""
    m = np.stack([e for _, e in found])
    sims = m @ m.T
    medoid = int(np.argmax(np.median(sims, axis=1)))
    return [f for f, s in zip(found, sims[medoid], strict=True) if s >= OUTLIER_COSINE]


def _diverse(vectors: list[np.ndarray], k: int) -> list[int]:
    """Greedy farthest-point choice of ``k`` vectors, starting from the most central one."""
    m = np.stack(vectors)
    first = int(np.argmax((m @ m.mean(axis=0))))
    chosen = [first]
    best = m @ m[first]
    while len(chosen) < min(k, len(vectors)):
        nxt = int(np.argmin(best))
        if nxt in chosen:
            break
        chosen.append(nxt)
        best = np.maximum(best, m @ m[nxt])
    return sorted(chosen)


def voice_sample(path: str | Path, emb: Embedders) -> Sample:
    """The speaker embedding of the speech in one audio or video file."""
    name = Path(path).name
    video = probe(path, require_video=False)
    if not video.has_audio:
        raise UnsupportedMediaError(f"{name}: has no sound track, so no voice", path=video.uri)
    wav = emb.audio(video.uri)
    spans = emb.speech_spans(wav)
    speech = speech_of(wav, spans)
    need = emb.settings.min_speech_s
    if speech.size < need * RATE:
        what = "is silent" if not spans else f"holds only {speech.size / RATE:.1f} s of speech"
        raise SampleError(f"{name}: no usable voice: the sound {what}; at least {need:g} s of speech is needed",
                          path=video.uri)
    return Sample("voice", name, video.sha256, spans[0][0], spans[-1][1], emb.voice_model_id, emb.voice(speech))
