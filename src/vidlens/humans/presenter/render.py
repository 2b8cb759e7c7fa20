"""Frames to an MP4: the portrait placed on the canvas, the face moved per frame, labelled and marked.

The portrait is scaled to cover the output size and cropped around the face (centred across,
eyes a little above the middle), so a landscape photo still fills a 9:16 frame. Each frame is
drawn in Python (``FaceRig.render``), gets the visible 「AI生成」 label pasted in and the invisible
watermark added to its luma, and is piped to one FFmpeg encode (H.264, yuv420p) that adds the
speech (AAC, one linear loudness gain) and, if asked, burns the subtitles with edit's caption
style. Python draws while FFmpeg encodes: the two cores work at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidlens.edit.render import Captions
from vidlens.govern.watermark import add_parts, delta_parts
from vidlens.humans.presenter.warp import FaceRig, Pose


X264 = ("-preset", "veryfast", "-crf", "20")  # the encoder settings (bench/bench_presenter.py --only encode)


@dataclass(frozen=True)
class Placement:
    scale: float
    offset: tuple[float, float]  # canvas = portrait * scale - offset


def place(image_size: tuple[int, int], face_box: tuple[float, float, float, float], size: tuple[int, int]
          ) -> Placement:
    """Cover ``size`` with the portrait; the face centred across and its middle at 42 % of the height."""
    iw, ih = image_size
    w, h = size
    scale = max(w / iw, h / ih)
    cx = (face_box[0] + face_box[2]) / 2 * scale
    cy = (face_box[1] + face_box[3]) / 2 * scale
    ox = float(np.clip(cx - w / 2, 0, iw * scale - w))
    oy = float(np.clip(cy - 0.42 * h, 0, ih * scale - h))
    return Placement(scale, (ox, oy))


def canvas(image: np.ndarray, placement: Placement, size: tuple[int, int]) -> np.ndarray:
    s, (ox, oy) = placement.scale, placement.offset
    m = np.array([[s, 0, -ox], [0, s, -oy]], np.float32)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(image, m, size, flags=interp, borderMode=cv2.BORDER_REPLICATE)


@dataclass(frozen=True)
class Label:
    """The visible label: an RGBA picture pasted at ``x``, ``y`` on every frame."""

    rgba: np.ndarray
    x: int
    y: int

    def paste(self, frame: np.ndarray, origin: tuple[int, int] = (0, 0)) -> None:
        """Draw the label onto ``frame``, a picture whose top-left corner is at ``origin`` on the canvas."""
        h, w = self.rgba.shape[:2]
        x, y = self.x - origin[0], self.y - origin[1]
        fx0, fy0, fx1, fy1 = max(x, 0), max(y, 0), min(x + w, frame.shape[1]), min(y + h, frame.shape[0])
        if fx1 <= fx0 or fy1 <= fy0:
            return
        src = self.rgba[fy0 - y:fy1 - y, fx0 - x:fx1 - x]
        a = src[:, :, 3:4].astype(np.float32) / 255.0
        region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        frame[fy0:fy1, fx0:fx1] = (region * (1 - a) + src[:, :, 2::-1].astype(np.float32) * a).astype(np.uint8)


class Frames:
    """The I420 frames of one video: the canvas converted, labelled and marked once, then per frame only
    the region that moves converted and marked again, and written over it."""

    def __init__(self, canvas: np.ndarray, roi: tuple[int, int, int, int], label: Label, delta: np.ndarray) -> None:
        from vidlens.govern.watermark import add_delta

        self.h, self.w = canvas.shape[:2]
        self.roi, self.label, self.delta = roi, label, delta
        base = canvas.copy()
        label.paste(base)
        self.buf = cv2.cvtColor(base, cv2.COLOR_BGR2YUV_I420)
        self.buf[:self.h] = add_delta(self.buf[:self.h], delta)
        x0, y0, x1, y1 = roi
        self.region_delta = delta_parts(delta[y0:y1, x0:x1])
        self.y_plane, self.u_plane, self.v_plane = i420_planes(self.buf, self.h, self.w)

    def frame(self, region: np.ndarray) -> memoryview:
        """The whole frame with ``region`` (BGR, the size of ``roi``) in place: a view of the buffer, valid until
        the next call (the pipe's write copies it)."""
        x0, y0, x1, y1 = self.roi
        self.label.paste(region, (x0, y0))
        y, u, v = i420_planes(cv2.cvtColor(region, cv2.COLOR_BGR2YUV_I420), *region.shape[:2])
        self.y_plane[y0:y1, x0:x1] = add_parts(y, self.region_delta)
        self.u_plane[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = u
        self.v_plane[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = v
        return memoryview(self.buf.reshape(-1))


def i420_planes(i420: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of an OpenCV I420 picture (``h`` x ``w``, both even)."""
    flat = i420.reshape(-1)
    n, q = h * w, h * w // 4
    return flat[:n].reshape(h, w), flat[n:n + q].reshape(h // 2, w // 2), flat[n + q:n + 2 * q].reshape(h // 2, w // 2)


def encode(rig: FaceRig, frames: Frames, poses: list[Pose], fps: int, audio: Path, out: Path, *,
           captions: Captions | None, audio_filter: str | None,
           progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Draw every pose into ``frames`` (labelled and marked) and encode them with ``audio`` into ``out`` (MP4)."""
    from vidlens.deliver.labels import metadata_args
    from vidlens.media.ffmpeg import raw_frames_encoder

    h, w = rig.canvas.shape[:2]
    vf = ["format=yuv420p"]
    if captions is not None:
        vf.insert(0, captions.filter())
    af = [audio_filter] if audio_filter else []
    af.append("aresample=48000")
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
            "-i", str(audio), "-map", "0:v", "-map", "1:a", "-vf", ",".join(vf), "-af", ",".join(af),
            "-c:v", "libx264", *X264, "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-shortest",
            *metadata_args("mp4", faststart=True), "-f", "mp4", str(out)]
    with raw_frames_encoder(args, what="the presenter encode") as write:
        for i, pose in enumerate(poses):
            write(frames.frame(rig.render_region(pose)))
            if progress is not None and i % fps == 0:
                progress(i / len(poses))
    return {"frames": len(poses), "width": w, "height": h, "fps": fps}
