"""Lip-synced dubbing: the speaking face's mouth says the new speech's phonemes; nothing else changes.

Two passes over the dubbed render. The first tracks every face through the dubbed lines (MediaPipe's
face mesh; a face is linked to the one nearest its centre in the frame before) and measures each one's
mouth opening. The speaker of a line is, of the faces on screen in it, the one whose mouth moved with
the original speech in that line (Pearson r against the original loudness, best within ±``MAX_LAG``
frames), so each line of a dialogue moves the face that says it; where the line's evidence is weak (a
few seconds of two moving mouths can correlate by chance) the choice over all the dubbed lines together
stands. The caller may name the face instead (``face_index``, 0 = largest). The second pass moves that
face's mouth, frame by frame, to the shape the new speech asks for: the presenter's visemes with
co-articulation from the voice's phoneme timings (the loudness alone when the voice gives none), applied
with the presenter's jaw and lip fields on the tracked mesh, less what the mouth is already doing, and blended back through a feathered mask of where the warp
moved pixels. Frames stay in decoded YUV 4:2:0: a pixel outside the mask keeps its decoded bytes, a frame
without a moved face is passed through as decoded, and the frames are encoded once more (audio copied).
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidlens.edit.dub import Phone
from vidlens.errors import UsageError
from vidlens.humans.presenter import face as fm
from vidlens.humans.presenter.render import i420_planes
from vidlens.humans.presenter.visemes import coarticulate, envelope, jaw
from vidlens.humans.presenter.warp import JAW_DROP, LIP_LIFT, ROUND, SPREAD, FaceRig, Pose

MARGIN_S = 0.1  # the mouth settles this long before and after a dubbed line
MAX_FACES = 4
LINK = 0.5  # the same face in the next frame: its centre moved less than this share of its width
MAX_GAP = 25  # frames looked at without the face before its track ends
MIN_TRACK = 10  # frames: fewer is a false detection, not a face
MAX_LAG = 3  # frames: a speaker's mouth leads or trails the sound by up to 0.12 s at 25 fps
TRAVEL = JAW_DROP + LIP_LIFT  # inner-lip gap / mouth width the jaw field opens at a control of 1
# a line's own speaker overrides the choice over all lines only when its mouth followed the line's speech
# (r >= LINE_MIN_R) clearly better than the overall choice's did (by LINE_MARGIN): over one sentence, a
# mouth moving with other speech can correlate by chance (two GRID talks side by side, the sound the left
# one's: in one 2.8 s line the right face had r 0.35 and the speaker 0.29; the speaker's lines 0.29-0.43)
LINE_MIN_R = 0.25
LINE_MARGIN = 0.2
# r is blind to how far a mouth moves: a still face's tracking jitter reached r 0.33 against the other
# speaker's line (two GRID speakers taking turns); a mouth whose opening varies less than this (std, in mouth
# widths) in a line does not speak it
MIN_MOTION = 0.01
EYE_CORNERS = (33, 263)
FEATHER = 0.06  # the blend mask's soft edge, in mouth widths


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wf:
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), "<i2").astype(np.float32) / 32768.0
        return pcm, wf.getframerate()


def opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap over mouth width."""
    gap = float(np.hypot(*(landmarks[13] - landmarks[14])))
    return gap / max(_mouth_width(landmarks), 1e-6)


def _mouth_width(landmarks: np.ndarray) -> float:
    return float(np.hypot(*(landmarks[fm.MOUTH_LEFT] - landmarks[fm.MOUTH_RIGHT])))


def mouth_spread(landmarks: np.ndarray) -> float:
    """Mouth width over the distance between the outer eye corners (unchanged by scale and turn)."""
    eyes = float(np.hypot(*(landmarks[EYE_CORNERS[0]] - landmarks[EYE_CORNERS[1]])))
    return _mouth_width(landmarks) / max(eyes, 1e-6)


@dataclass
class FaceTrack:
    """One face through the frames looked at: its landmarks (pixels) by frame index."""

    landmarks: dict[int, np.ndarray] = field(default_factory=dict)
    last_seen: int = -1  # count of frames looked at when it was last found

    def add(self, frame: int, landmarks: np.ndarray, looked: int) -> None:
        self.landmarks[frame], self.last_seen = landmarks, looked  # frames come in order: the last is the latest

    def centre(self) -> np.ndarray:
        return next(reversed(self.landmarks.values())).mean(axis=0)

    def width(self) -> float:
        return float(np.median([np.ptp(p[:, 0]) for p in self.landmarks.values()]))

    def series(self, frames: Iterable[int]) -> np.ndarray:
        """Mouth opening at each of ``frames``; NaN where the face was not found."""
        return np.array([opening(self.landmarks[i]) if i in self.landmarks else np.nan for i in frames])


def link(tracks: list[FaceTrack], faces: list[np.ndarray], frame: int, looked: int) -> None:
    """Give each face found in ``frame`` to the track whose face was nearest (within ``LINK`` widths, seen in
    the last ``MAX_GAP`` frames looked at), closest pairs first; a face left over starts a track."""
    live = [t for t in tracks if looked - t.last_seen <= MAX_GAP]
    pairs = sorted((float(np.hypot(*(f.mean(axis=0) - t.centre()))) / max(float(np.ptp(f[:, 0])), 1.0), k, j)
                   for j, f in enumerate(faces) for k, t in enumerate(live))
    taken_t: set[int] = set()
    taken_f: set[int] = set()
    for d, k, j in pairs:
        if d <= LINK and k not in taken_t and j not in taken_f:
            live[k].add(frame, faces[j], looked)
            taken_t.add(k)
            taken_f.add(j)
    for j, f in enumerate(faces):
        if j not in taken_f:
            tracks.append(FaceTrack({frame: f}, looked))


def correlation(a: np.ndarray, b: np.ndarray, max_lag: int = MAX_LAG) -> float:
    """Pearson r of ``a`` (NaN where unknown) and ``b``, best over lags up to ``max_lag`` frames; -1 when
    there is too little to tell."""
    n = min(a.size, b.size)
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x, y = a[max(0, lag):n + min(0, lag)], b[max(0, -lag):n - max(0, lag)]
        ok = ~np.isnan(x)
        if ok.sum() > 10 and np.std(x[ok]) > 1e-6 and np.std(y[ok]) > 1e-6:
            best = max(best, float(np.corrcoef(x[ok], y[ok])[0, 1]))
    return best


def _frames_of(span: tuple[float, float], fps: float, total: int) -> range:
    return range(max(0, int(np.ceil(span[0] * fps))), min(total, int(np.floor(span[1] * fps)) + 1))


def choose_speakers(tracks: list[FaceTrack], lines: Sequence[tuple[float, float]], fps: float, total: int,
                    original: np.ndarray | None, face_index: int | None) -> tuple[list[FaceTrack], list[dict[str, Any]]]:
    """The faces (largest first) and, per dubbed line, which of them speaks it and why."""
    faces = sorted((t for t in tracks if len(t.landmarks) >= MIN_TRACK), key=FaceTrack.width, reverse=True)
    if face_index is not None and not 0 <= face_index < len(faces):
        listing = "; ".join(f"{i}: {int(t.width())} px at x {int(t.centre()[0])}" for i, t in enumerate(faces))
        raise UsageError(f"--face-index {face_index}: {len(faces)} faces were tracked in the dubbed lines "
                         f"(largest first){': ' + listing if listing else ''}")

    def moved_with_speech(k: int, frames: np.ndarray) -> float:
        assert original is not None
        series = faces[k].series(frames)
        if np.all(np.isnan(series)) or float(np.nanstd(series)) < MIN_MOTION:
            return -1.0
        return correlation(series, original[frames])

    # each face judged on all the dubbed lines together: the fallback where one line says too little
    every = np.array(sorted({i for span in lines for i in _frames_of(span, fps, total)}), int)
    r_all = ({k: moved_with_speech(k, every) for k in range(len(faces))}
             if original is not None and every.size else {})
    out = []
    for span in lines:
        frames = _frames_of(span, fps, total)
        present = [k for k, t in enumerate(faces)
                   if frames and sum(i in t.landmarks for i in frames) >= 0.5 * len(frames)]
        r_line = {k: moved_with_speech(k, np.array(frames, int)) for k in present} if r_all else {}
        if face_index is not None:
            pick, why = (face_index if face_index in present else None), "face index"
        elif len(present) == 1:
            pick, why = present[0], "the only face"
        elif present and r_all:
            overall = max(present, key=lambda k: r_all[k])
            own = max(present, key=lambda k: r_line[k])
            if own != overall and r_line[own] >= LINE_MIN_R and r_line[own] - r_line[overall] >= LINE_MARGIN:
                pick, why = own, "mouth moved with this line's original speech"
            elif own == overall and r_line[own] >= LINE_MIN_R:
                pick, why = overall, "mouth moved with the original speech, in this line and over all lines"
            else:
                pick = overall
                why = "mouth moved with the original speech over all lines (this line's evidence is weak)"
        else:
            pick, why = (present[0] if present else None), "the largest face"
        out.append({"start_s": round(span[0], 3), "end_s": round(span[1], 3), "face": pick,
                    "chosen_by": why if pick is not None else "no face on screen",
                    "correlation": {str(k): round(r_line[k], 3) for k in present if k in r_line},
                    "correlation_all_lines": {str(k): round(r_all[k], 3) for k in present if k in r_all}})
    return faces, out


@dataclass(frozen=True)
class MouthTargets:
    """What the new speech asks of the mouth at each output frame: the presenter's controls."""

    open: np.ndarray
    spread: np.ndarray
    round: np.ndarray
    driven_by: str

    @classmethod
    def of(cls, phones: Sequence[Phone], speech: np.ndarray, rate: int, fps: float, total: int) -> MouthTargets:
        energy = envelope(speech, rate, fps, total)
        if not phones:  # a voice without phoneme timings (eSpeak NG): the loudness opens the jaw
            zero = np.zeros(total, np.float32)
            return cls(jaw(energy, energy), zero, zero, "loudness (the voice gives no phoneme timings)")
        mouth = coarticulate(phones, total / fps, fps)
        return cls(jaw(mouth.open[:total], energy), mouth.spread[:total], mouth.round[:total], "phonemes")

    def pose(self, i: int, landmarks: np.ndarray, rest_spread: float) -> Pose | None:
        """The warp that takes this face's mouth from what it does now to frame ``i``'s target (None: near
        enough already)."""
        step = float(np.clip((TRAVEL * self.open[i] - opening(landmarks)) / TRAVEL, -1.0, 1.0))
        # width: the target's change from rest less the change the face already shows
        delta = SPREAD * float(self.spread[i]) - ROUND * float(self.round[i]) - (mouth_spread(landmarks) / rest_spread - 1)
        spread = float(np.clip(delta / SPREAD, 0.0, 1.0))
        rounded = float(np.clip(-delta / ROUND, 0.0, 1.0))
        if abs(step) <= 0.02 and spread <= 0.05 and rounded <= 0.05:
            return None
        return Pose(open=step, spread=spread, round=rounded)


def _box(landmarks: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    """The lower face with room for what the warp pulls in, even corners (whole chroma samples)."""
    oval = landmarks[list(fm.FACE_OVAL)]
    fx0, fy0 = oval.min(axis=0)
    fx1, fy1 = oval.max(axis=0)
    fw, fh = fx1 - fx0, fy1 - fy0
    x0, x1 = max(0, int(fx0 - 0.2 * fw)), min(w, int(fx1 + 0.2 * fw) + 2)
    y0, y1 = max(0, int(landmarks[fm.NOSE_BASE][1] - 0.2 * fh)), min(h, int(fy1 + 0.4 * fh) + 2)
    x0, y0, x1, y1 = x0 - x0 % 2, y0 - y0 % 2, x1 - x1 % 2, y1 - y1 % 2
    return x0, y0, x1, y1


def move_mouth(i420: np.ndarray, h: int, w: int, landmarks: np.ndarray, pose: Pose) -> bool:
    """Move the mouth of the face at ``landmarks`` in the I420 picture ``i420`` (in place) to ``pose``; only
    pixels under the feathered mask of the warp change. False when the face is too near the edge to move."""
    x0, y0, x1, y1 = _box(landmarks, w, h)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return False
    y, u, v = i420_planes(i420, h, w)
    cy, cx = slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2)
    sub = np.concatenate([y[y0:y1, x0:x1].ravel(), u[cy, cx].ravel(), v[cy, cx].ravel()])
    bgr = cv2.cvtColor(sub.reshape((y1 - y0) * 3 // 2, x1 - x0), cv2.COLOR_YUV2BGR_I420)
    rig = FaceRig(bgr, landmarks - np.array([x0, y0], np.float32), mouth_only=True)
    rx0, ry0, rx1, ry1 = rig.roi
    region, dx, dy = rig.warp(pose)
    k = max(3, int(FEATHER * rig.mw) | 1)
    base = bgr[ry0:ry1, rx0:rx1]
    moved = (np.abs(dx) + np.abs(dy) > 0.05).astype(np.float32)
    if rig.painted is not None:  # the painted mouth lies where the lips parted: inside what moved, but make sure
        px0, py0, px1, py1 = rig.painted
        painted = np.abs(region[py0:py1, px0:px1].astype(np.int16) - base[py0:py1, px0:px1]).max(axis=2) > 0
        np.maximum(moved[py0:py1, px0:px1], painted, out=moved[py0:py1, px0:px1])
    mask = np.minimum(1.0, 2.0 * cv2.GaussianBlur(moved, (k, k), 0))
    blended = cv2.blendLinear(region, base, mask, 1.0 - mask)
    ny, nu, nv = i420_planes(cv2.cvtColor(blended, cv2.COLOR_BGR2YUV_I420), ry1 - ry0, rx1 - rx0)
    touched = mask > 0
    ax, ay = x0 + rx0, y0 + ry0
    np.copyto(y[ay:ay + ry1 - ry0, ax:ax + rx1 - rx0], ny, where=touched)
    chroma = touched.reshape(touched.shape[0] // 2, 2, touched.shape[1] // 2, 2).any(axis=(1, 3))
    for plane, new in ((u, nu), (v, nv)):
        np.copyto(plane[ay // 2:ay // 2 + chroma.shape[0], ax // 2:ax // 2 + chroma.shape[1]], new, where=chroma)
    return True


def _landmarks(found: Any, w: int, h: int) -> list[np.ndarray]:
    return [np.array([(p.x * w, p.y * h) for p in f.landmark], np.float32) for f in found or []]


def lip_sync(src: Path, dst: Path, speech: np.ndarray, rate: int, lines: Sequence[tuple[float, float]],
             phones: Sequence[Phone] = (), *, original: Callable[[int, float], np.ndarray] | None = None,
             face_index: int | None = None, crf: int = 18, preset: str = "veryfast",
             progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Write ``dst``: ``src`` with the speaker's mouth saying ``speech`` (``phones`` its phonemes, output
    seconds) in ``lines`` (output seconds). ``original(n, fps)`` gives the original speech's loudness at each
    of ``n`` output frames, to find who speaks; returns what was tracked, chosen and moved."""
    from vidlens.media.decode import Collector, Decoder, Sampling, pull
    from vidlens.media.source import open_source

    say = progress or (lambda f: None)
    # pass 1: track the faces through the dubbed lines (468 landmarks: the iris points are not needed); frames
    # come as decoded (4:2:0, as stored: no rotation applied) and only those looked at are made RGB
    dec = Decoder(open_source(src))
    decoded = Collector()
    dec.add_video(Sampling(pix_fmt="yuv420p", upright=False), decoded)
    video = dec.open()
    fps = float(video.fps or 25)
    rate_arg = str(video.fps or 25)
    w, h = video.width, video.height
    total = int(video.frame_count or round(video.duration_s * fps)) + 1
    spans = [(a - MARGIN_S, b + MARGIN_S) for a, b in lines]
    look = np.zeros(total, bool)
    for span in spans:
        frames = _frames_of(span, fps, total)
        look[frames.start:frames.stop] = True
    tracks: list[FaceTrack] = []
    looked = 0
    with fm.mesh_model(still=False, faces=MAX_FACES, refine=False) as mesh:
        for i, sample in enumerate(pull(dec, decoded)):
            if i < total and look[i]:
                rgb = cv2.cvtColor(sample.image, cv2.COLOR_YUV2RGB_I420)
                found = mesh.process(rgb).multi_face_landmarks
                link(tracks, _landmarks(found, rgb.shape[1], rgb.shape[0]), i, looked)
                looked += 1
            if i % 25 == 0:
                say(0.5 * i / total)
    loud = original(total, fps) if original is not None else None
    faces, chosen = choose_speakers(tracks, lines, fps, total, loud, face_index)
    targets = MouthTargets.of(phones, speech, rate, fps, total)
    speaker: dict[int, tuple[FaceTrack, float]] = {}
    for span, line in zip(spans, chosen, strict=True):
        if line["face"] is not None:
            t = faces[line["face"]]
            rest = float(np.median([mouth_spread(p) for p in t.landmarks.values()]))
            for i in _frames_of(span, fps, total):
                speaker.setdefault(i, (t, rest))
    # pass 2: move the speaker's mouth, pass everything else through
    from vidlens.media.ffmpeg import raw_frames_encoder

    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", rate_arg, "-i", "-", "-i", str(src),
            "-map", "0:v", "-map", "1:a?", "-map_metadata", "1", "-c:v", "libx264", "-crf", str(crf),
            "-preset", preset, "-pix_fmt", "yuv420p", "-c:a", "copy", "-movflags", "+faststart+use_metadata_tags",
            str(dst)]
    count = seen = moved = 0
    dec = Decoder(open_source(src))
    decoded = Collector()
    dec.add_video(Sampling(pix_fmt="yuv420p", upright=False), decoded)  # the decoded bytes, untouched
    with raw_frames_encoder(args, what="the lip-sync encode", path=str(src)) as write:
        for i, sample in enumerate(pull(dec, decoded)):
            i420 = sample.image if sample.image.flags.writeable else sample.image.copy()
            count += 1
            who = speaker.get(i)
            lm = who[0].landmarks.get(i) if who else None
            if who is not None and lm is not None and i < targets.open.size:
                seen += 1
                pose = targets.pose(i, lm, who[1])
                if pose is not None and move_mouth(i420, h, w, lm, pose):
                    moved += 1
            write(np.ascontiguousarray(i420).data)  # the buffer itself: no copy into bytes
            if i % 25 == 0:
                say(0.5 + 0.5 * i / total)
    return {"frames": count, "faces": len(faces), "face_frames": seen, "moved_frames": moved,
            "driven_by": targets.driven_by, "lines": chosen}
