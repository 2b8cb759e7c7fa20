"""Small frozen data types that cross module, process and network boundaries.

Pixels never cross a process boundary: between processes only ids and JSON travel.
``Detections`` is columnar (parallel numpy arrays with boolean-mask indexing), the
way supervision does it, so filtering a thousand boxes is one vectorised step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from vidlens.errors import UsageError
from vidlens.timebase import TimeRange


@dataclass(frozen=True, slots=True)
class StreamInfo:
    index: int
    kind: str  # "video" | "audio" | "subtitle" | "data"
    codec: str
    time_base: Fraction
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]
        d["time_base"] = str(self.time_base)
        return d


@dataclass(frozen=True, slots=True)
class Video:
    """A probed media file. ``id`` is the content sha256: the same bytes are the same video."""

    id: str
    sha256: str
    uri: str
    size_bytes: int
    container: str
    time_base: Fraction
    duration: int  # ticks of time_base
    fps: Fraction | None
    width: int
    height: int
    rotation: int
    frame_count: int | None
    has_audio: bool
    variable_frame_rate: bool = False
    streams: tuple[StreamInfo, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return float(self.duration * self.time_base)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown, after the rotation a player applies."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Video:
        """Inverse of ``to_dict`` (the stored probe document)."""
        return cls(
            id=d["id"], sha256=d["sha256"], uri=d["uri"], size_bytes=int(d["size_bytes"]),
            container=d["container"], time_base=Fraction(d["time_base"]), duration=int(d["duration"]),
            fps=Fraction(d["fps"]) if d.get("fps") else None, width=int(d["width"]), height=int(d["height"]),
            rotation=int(d.get("rotation", 0)), frame_count=d.get("frame_count"), has_audio=bool(d["has_audio"]),
            variable_frame_rate=bool(d.get("variable_frame_rate", False)),
            streams=tuple(StreamInfo(**{**s, "time_base": Fraction(s["time_base"])}) for s in d.get("streams", [])),
            tags=dict(d.get("tags", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sha256": self.sha256,
            "uri": self.uri,
            "size_bytes": self.size_bytes,
            "container": self.container,
            "time_base": str(self.time_base),
            "duration": self.duration,
            "duration_s": round(self.duration_s, 6),
            "fps": str(self.fps) if self.fps is not None else None,
            "fps_float": round(float(self.fps), 4) if self.fps else None,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "frame_count": self.frame_count,
            "has_audio": self.has_audio,
            "variable_frame_rate": self.variable_frame_rate,
            "streams": [s.to_dict() for s in self.streams],
            "tags": dict(self.tags),
        }


@dataclass(frozen=True, slots=True)
class Shot:
    """A shot: frames ``[start_frame, end_frame)`` in decode order, and the same span in time."""

    video_id: str
    index: int
    span: TimeRange
    start_frame: int
    end_frame: int
    keyframe_pts: int
    keyframe_frame: int
    transition_in: str = "cut"  # cut | fade | dissolve | start

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": round(self.span.start_s, 6),
            "end_s": round(self.span.end_s, 6),
            "span": self.span.to_dict(),
            "keyframe_frame": self.keyframe_frame,
            "keyframe_pts": self.keyframe_pts,
            "transition_in": self.transition_in,
        }


@dataclass(frozen=True, slots=True)
class FrameSample:
    """One decoded frame as a consumer asked for it (size and pixel format).

    ``index`` is the 0-based decode-order index of the source frame, ``pts`` its
    presentation timestamp in ``time_base`` ticks (exact for VFR input).
    """

    video_id: str
    index: int
    pts: int
    time_base: Fraction
    image: np.ndarray
    pix_fmt: str
    shot_index: int | None = None
    stream: int = 0  # which of the consumer's samplings this sample serves
    received: float | None = None  # wall clock (time.time()) when its packet was read: live latency starts there

    @property
    def t(self) -> float:
        return float(self.pts * self.time_base)


@dataclass(frozen=True)
class Detections:
    """Columnar detections: N boxes as parallel arrays. Index with masks or slices."""

    xyxy: np.ndarray  # (N, 4) float32
    confidence: np.ndarray  # (N,) float32
    class_name: np.ndarray  # (N,) object (str)
    # (N,) int64 track ids: None until a tracker links detections across frames. The surveillance
    # capability's tracker will set them; the analyzers' sparse tracker (analyze/tracking.py) keeps
    # its own TrackState ids in their results instead.
    tracker_id: np.ndarray | None = None
    data: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        if self.xyxy.ndim != 2 or (n and self.xyxy.shape[1] != 4):
            raise UsageError(f"xyxy must have shape (N, 4), got {self.xyxy.shape}")
        for name, arr in (("confidence", self.confidence), ("class_name", self.class_name),
                          ("tracker_id", self.tracker_id), *self.data.items()):
            if arr is not None and len(arr) != n:
                raise UsageError(f"Detections column '{name}' has {len(arr)} rows, expected {n}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0,), object))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Detections(
            self.xyxy[index], self.confidence[index], self.class_name[index],
            None if self.tracker_id is None else self.tracker_id[index],
            {k: v[index] for k, v in self.data.items()},
        )

    def __iter__(self) -> Iterator[Detections]:
        for i in range(len(self)):
            yield self[i]

    @property
    def area(self) -> np.ndarray:
        w = np.clip(self.xyxy[:, 2] - self.xyxy[:, 0], 0, None)
        h = np.clip(self.xyxy[:, 3] - self.xyxy[:, 1], 0, None)
        return w * h
