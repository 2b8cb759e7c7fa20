"""Auto-reframe (16:9 to 9:16, 1:1, 4:5): a virtual camera that follows the subject, as AutoFlip does.

Frames are sampled a few times a second. In each, the subject is the faces (all of them when they
fit the window, else the largest), otherwise the people the object detector finds, otherwise where
the picture moves, otherwise nothing (the camera holds). Per shot, the camera path is then:

* **still** when the subject's centre stays within a tenth of the window of its median (a locked-off
  shot looks like one, and most talking heads are), else
* **smoothed**: the centre track is interpolated to every frame, low-passed (a moving average of a
  second) and its speed limited, so the camera never jitters or whips.

The path restarts at every source cut (a cut in the source is a cut in the path), and the window is
kept inside the picture. The result is a crop window plus FFmpeg ``sendcmd`` lines, in source time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from vidlens.edit.render import Crop
from vidlens.errors import UsageError
from vidlens.media.decode import Sampling, iter_frames
from vidlens.types import Video

ASPECTS = {"9:16": Fraction(9, 16), "1:1": Fraction(1, 1), "4:5": Fraction(4, 5)}
SAMPLE_FPS = 4.0
DETECT_SIDE = 640  # px, the longer side the detectors see
STILL_FRACTION = 0.10  # of the window: a subject moving less than this gets a locked-off camera
SMOOTH_S = 1.0
MAX_SPEED = 0.5  # of the window's size per second


@dataclass(frozen=True)
class Observation:
    """Where the subject is at ``t_s`` along the free axis (pixels of the source), and what found it."""

    t_s: float
    lo: float
    hi: float
    source: str  # faces | people | motion


def window_size(width: int, height: int, aspect: str) -> tuple[int, int, str]:
    """The crop window (even sizes) and the axis it moves along: ``x`` for a narrower, ``y`` for a shorter one."""
    if aspect not in ASPECTS:
        raise UsageError(f"unknown aspect {aspect!r} (use one of {', '.join(ASPECTS)})")
    a = ASPECTS[aspect]
    if Fraction(width, height) > a:
        return max(2, int(height * a) // 2 * 2), height // 2 * 2, "x"
    return width // 2 * 2, max(2, int(width / a) // 2 * 2), "y"


Detect = Callable[[np.ndarray], list[tuple[np.ndarray, str]]]


def default_detect(threads: int = 1) -> Detect:
    """Faces (YuNet), else people (NanoDet), as ``[(xyxy, kind)]`` on a BGR frame."""
    from vidlens.models.detector import NanoDet
    from vidlens.models.faces import FaceModels

    faces = FaceModels(threads=threads)
    people: list[NanoDet] = []

    def detect(bgr: np.ndarray) -> list[tuple[np.ndarray, str]]:
        found = [(f.xyxy, "faces") for f in faces.detect(bgr)]
        if found:
            return found
        if not people:
            people.append(NanoDet(threads=threads))
        d = people[0].detect(bgr, 0.4, 0.5)
        return [(d.xyxy[i], "people") for i in range(len(d.xyxy)) if d.class_name[i] == "person"]

    return detect


def observe(video: Video, axis: str, window: int, detect: Detect,
            progress: Callable[[float], None] | None = None,
            spans: Sequence[tuple[float, float]] | None = None) -> list[Observation]:
    """Sample the source and say where the subject is in each sample (one decode, a few frames a second).

    ``spans`` (source seconds): look only there, e.g. at what a highlight reel keeps; the rest of the file is
    neither decoded nor searched (the camera path of a dropped stretch is never seen).
    """
    width, height = (video.height, video.width) if video.rotation in (90, 270) else (video.width, video.height)
    out: list[Observation] = []
    prev: np.ndarray | None = None
    prev_t = 0.0
    t0: float | None = None
    duration = max(video.duration_s, 1e-6)
    if spans is not None:
        duration = max(sum(b - a for a, b in spans), 1e-6)
    seen = 0.0
    for sample in iter_frames(video, Sampling(fps=SAMPLE_FPS, max_side=DETECT_SIDE, pix_fmt="bgr24"),
                              skip_nonref=True, spans=spans):
        if spans is not None:  # seeks: the time from the frame number (the stream's start is not seen)
            t = sample.index / float(video.fps or 25)
            seen += 1 / SAMPLE_FPS
        else:
            t = float(sample.pts * sample.time_base)
            t0 = t if t0 is None else t0
            t -= t0
            seen = t
        img = sample.image
        scale = width / img.shape[1]
        found = detect(img)
        gray = img.mean(axis=2)
        i0, i1 = (0, 2) if axis == "x" else (1, 3)
        if found:
            kind = found[0][1]
            boxes = np.array([b for b, _ in found], np.float32) * scale
            lo, hi = float(boxes[:, i0].min()), float(boxes[:, i1].max())
            if hi - lo > window:  # everyone does not fit: follow the largest
                big = boxes[np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))]
                lo, hi = float(big[i0]), float(big[i1])
            out.append(Observation(t, lo, hi, kind))
        elif prev is not None and prev.shape == gray.shape and t - prev_t < 1.0:  # not across a seek
            diff = np.abs(gray - prev)
            profile = diff.sum(axis=0 if axis == "x" else 1)
            if profile.sum() > 4.0 * profile.size:  # more than sensor noise moved
                c = float(np.average(np.arange(profile.size), weights=profile)) * scale
                out.append(Observation(t, c, c, "motion"))
        prev, prev_t = gray, t
        if progress is not None:
            progress(min(1.0, seen / duration))
    return out


def _smooth(track: np.ndarray, n: int) -> np.ndarray:
    if n <= 1 or track.size < 2:
        return track
    pad = np.pad(track, (n // 2, n - 1 - n // 2), mode="edge")
    return np.convolve(pad, np.ones(n) / n, mode="valid")


def camera_path(observations: Sequence[Observation], cuts: Sequence[int], frame_count: int, fps: Fraction,
                extent: int, window: int) -> tuple[np.ndarray, list[dict[str, object]]]:
    """The window's offset (top-left along the free axis) for every source frame, and one summary per shot."""
    per_s = float(fps)
    bounds = sorted({0, frame_count, *[c for c in cuts if 0 < c < frame_count]})
    path = np.zeros(frame_count, np.float64)
    shots = []
    limit = extent - window
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        obs = [o for o in observations if a <= o.t_s * per_s < b]
        frames = np.arange(a, b)
        if not obs:
            centre = np.full(frames.size, extent / 2)
            mode = "centre (no subject)"
        else:
            t = np.array([o.t_s * per_s for o in obs])
            c = np.array([(o.lo + o.hi) / 2 for o in obs])
            med = float(np.median(c))
            if np.abs(c - med).max() <= STILL_FRACTION * window:
                centre = np.full(frames.size, med)
                mode = "still"
            else:
                centre = _smooth(np.interp(frames, t, c), max(1, round(SMOOTH_S * per_s)))
                step = MAX_SPEED * window / per_s
                for i in range(1, centre.size):  # speed limit, both ways
                    centre[i] = centre[i - 1] + np.clip(centre[i] - centre[i - 1], -step, step)
                mode = "follow"
            sources = sorted({o.source for o in obs})
        path[a:b] = np.clip(centre - window / 2, 0, limit)
        shots.append({"start_frame": int(a), "end_frame": int(b), "camera": mode,
                      "subject": sources if obs else []})
    return np.round(path).astype(np.int64), shots


def crop_for(video: Video, aspect: str, observations: Sequence[Observation], cuts: Sequence[int],
             frame_count: int, fps: Fraction) -> tuple[Crop, list[dict[str, object]]]:
    """The crop window and its ``sendcmd`` lines (one line per frame where the window moves)."""
    width, height = (video.height, video.width) if video.rotation in (90, 270) else (video.width, video.height)
    cw, ch, axis = window_size(width, height, aspect)
    extent, window = (width, cw) if axis == "x" else (height, ch)
    path, shots = camera_path(observations, cuts, frame_count, fps, extent, window)
    lines = []
    last = None
    for i, pos in enumerate(path.tolist()):
        if pos != last:
            t = float(Fraction(i) / fps)
            lines.append(f"{max(0.0, t - 0.5 / float(fps)):.6f} crop {axis} {pos};")
            last = pos
    first = int(path[0]) if path.size else 0
    x, y = (first, (height - ch) // 2) if axis == "x" else ((width - cw) // 2, first)
    return Crop(cw, ch, x, y, "\n".join(lines) + "\n"), shots
