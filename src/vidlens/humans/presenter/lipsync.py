"""Lip-synced dubbing: the speaking face's mouth follows the new speech, nothing else moves.

The dubbed video is decoded frame by frame. Outside the dubbed lines a frame is passed through as
decoded. Inside them, MediaPipe's face mesh tracks the faces and the largest one is taken for the
speaker; its mouth opening is measured (inner-lip gap over mouth width) and moved towards the
opening the new speech asks for (its loudness at that frame), by the presenter's jaw field: a
positive step opens the mouth and paints its interior, a negative one closes it. The field fades to
nothing within the lower face, so every pixel it does not reach is the decoded pixel unchanged; the
frames are then encoded once more (the audio is copied).
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import MediaError
from vidlens.humans.presenter import face as fm
from vidlens.humans.presenter.visemes import envelope
from vidlens.humans.presenter.warp import JAW_DROP, LIP_LIFT, FaceRig, Pose

OPEN_AT_FULL_VOICE = 0.45  # inner-lip gap / mouth width at the loudest syllables (GRID speakers: 0.3–0.6)
MARGIN_S = 0.1  # the mouth settles this long before and after a dubbed line


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wf:
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), "<i2").astype(np.float32) / 32768.0
        return pcm, wf.getframerate()


def opening(landmarks: np.ndarray) -> float:
    gap = float(np.hypot(*(landmarks[13] - landmarks[14])))
    return gap / max(float(np.hypot(*(landmarks[fm.MOUTH_LEFT] - landmarks[fm.MOUTH_RIGHT]))), 1e-6)


def _largest(found: Any, w: int, h: int) -> np.ndarray | None:
    if not found:
        return None
    faces = [np.array([(p.x * w, p.y * h) for p in f.landmark], np.float32) for f in found]
    return max(faces, key=lambda p: float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])))


def lip_sync(src: Path, dst: Path, speech: np.ndarray, rate: int, windows: Sequence[tuple[float, float]], *,
             crf: int = 18, preset: str = "veryfast") -> dict[str, Any]:
    """Write ``dst``: ``src`` with the speaking face's mouth following ``speech`` (output timeline) in
    ``windows``; returns how many frames were moved."""
    from vidlens.media.decode import Collector, Decoder, Sampling, pull
    from vidlens.media.ffmpeg import ffmpeg_exe
    from vidlens.media.source import open_source

    moved = seen = frames = 0
    dec = Decoder(open_source(src))
    decoded = Collector()
    dec.add_video(Sampling(pix_fmt="bgr24", upright=False), decoded)  # as stored: no rotation applied
    with fm.mesh_model(still=False, faces=2) as mesh:
        video = dec.open()
        fps = float(video.fps or 25)
        total = int(video.frame_count or round(video.duration_s * fps)) + 1
        loud = envelope(speech, rate, fps, total)
        w, h = video.width, video.height
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
               "-s", f"{w}x{h}", "-r", str(video.fps or 25), "-i", "-", "-i", str(src), "-map", "0:v",
               "-map", "1:a?", "-map_metadata", "1", "-c:v", "libx264", "-crf", str(crf), "-preset", preset,
               "-pix_fmt", "yuv420p", "-c:a", "copy", "-movflags", "+faststart+use_metadata_tags", str(dst)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        try:
            for i, sample in enumerate(pull(dec, decoded)):
                bgr = sample.image
                t = sample.t
                frames += 1
                if any(a - MARGIN_S <= t <= b + MARGIN_S for a, b in windows):
                    lm = _largest(mesh.process(np.ascontiguousarray(bgr[:, :, ::-1])).multi_face_landmarks, w, h)
                    if lm is not None:
                        seen += 1
                        inside = any(a <= t <= b for a, b in windows)
                        want = OPEN_AT_FULL_VOICE * float(loud[min(i, loud.size - 1)]) if inside else 0.0
                        step = (want - opening(lm)) / (JAW_DROP + LIP_LIFT)
                        if abs(step) > 0.02:
                            rig = FaceRig(bgr, lm, mouth_only=True)
                            x0, y0, x1, y1 = rig.roi
                            bgr[y0:y1, x0:x1] = rig.render_region(Pose(open=float(np.clip(step, -1.0, 1.0))))
                            moved += 1
                proc.stdin.write(bgr.tobytes())
        except BrokenPipeError:
            pass
        finally:
            proc.stdin.close()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            rc = proc.wait()
    if rc != 0:
        raise MediaError(f"the lip-sync encode failed: {err.strip().splitlines()[-1] if err.strip() else rc}",
                         path=str(src), log_tail=err[-2000:])
    return {"frames": frames, "face_frames": seen, "moved_frames": moved,
            "open_at_full_voice": OPEN_AT_FULL_VOICE}
