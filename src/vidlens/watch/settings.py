"""Watch settings: the cameras and where their alerts go (``[watch]`` in vidlens.toml, or a YAML file).

One model serves both: ``vidlens watch run cameras.yml`` reads a YAML file whose top level is this
section (``cameras:``, ``mqtt:``, ``webhooks:`` ...), and ``load_yaml`` turns a validation error into
a message naming the line of the YAML file, so a typo in a camera's block is found at once.
Points of lines and zones are fractions of the picture's width and height (0..1), so one config
survives a change of resolution.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vidlens.errors import ConfigError

Point = tuple[float, float]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "srt://", "http://", "https://", "udp://", "tcp://")


def _fractions(points: list[Point]) -> list[Point]:
    for x, y in points:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point ({x}, {y}) is outside the picture: use fractions of width and height (0..1)")
    return points


class DetectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fps: float = Field(5.0, gt=0, le=30, description="Frames a second looked at by motion and the detector.")
    objects: list[str] = Field(["person"], min_length=1, description="Labels (COCO names) that are tracked.")
    min_score: float = Field(0.5, gt=0, lt=1, description="Score a detection needs to start a track.")
    motion_gated: bool = Field(True, description="Detect only on regions around motion and tracked objects "
                                                 "(false: the whole frame on every sampled frame).")
    max_runs: float = Field(0.75, ge=0.25, le=10, description=(
        "Detector runs per sampled frame that regions and tiles may use on average (each region or tile is "
        "a run, as the whole frame is): frames the detector skips save them up; a frame the budget cannot "
        "pay for is detected on the whole frame."))
    carry: int = Field(1, ge=0, le=5, description=(
        "Sampled frames in a row the tracker may carry, undetected, when all their motion is where tracked "
        "objects are predicted to move (0: the detector looks at every frame with motion; tracks are then "
        "closer to the picture, at more CPU)."))


class ZoneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    polygon: list[Point] = Field(..., min_length=3, description="Corners as [x, y] fractions of the picture.")
    loiter_s: float | None = Field(None, gt=0, description="A tracked object this long inside raises a loiter event.")
    objects: list[str] | None = Field(None, description="Only these labels count in the zone (default: all tracked).")
    inertia: int = Field(3, ge=1, le=50, description="Looks in a row inside (outside) before an object has "
                                                      "entered (left): a box jittering on the edge does not flicker.")

    _check = field_validator("polygon")(_fractions)


class LineConfig(BaseModel):
    """A counting line from ``a`` to ``b``; ``in`` is a crossing from its left to its right, seen from ``a``."""

    model_config = ConfigDict(extra="forbid")

    a: Point = Field(..., description="First point [x, y], fractions of the picture.")
    b: Point = Field(..., description="Second point [x, y]; `in` is a crossing from the left of a->b to its right.")
    objects: list[str] | None = Field(None, description="Only these labels are counted (default: all tracked).")

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            if len(v) != 2:
                raise ValueError("a line is two points: [[x1, y1], [x2, y2]]")
            return {"a": v[0], "b": v[1]}
        return v

    @model_validator(mode="after")
    def _valid(self) -> LineConfig:
        _fractions([self.a, self.b])
        if self.a == self.b:
            raise ValueError("a line needs two different points")
        return self


class RecordConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Keep a rolling recording and cut a clip for each object event.")
    pre_s: float = Field(5.0, ge=0, le=60, description="Seconds of the clip before the event.")
    post_s: float = Field(5.0, ge=0, le=60, description="Seconds of the clip after the event.")
    segment_s: float = Field(4.0, ge=1, le=60, description="Length of the rolling recording's segments.")
    retain_days: float = Field(7.0, gt=0, description="Clips and snapshots older than this are deleted.")


class LiveConfig(BaseModel):
    """The camera restreamed as low-latency HLS for the live view (Deliver's live transcoder)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Restream the camera as low-latency HLS (1 s segments) for the "
                                             "camera's live view on the Watch page.")
    max_height: int = Field(720, ge=144, le=2160, description="Height of the largest rung (never upscaled).")
    rungs: int = Field(1, ge=1, le=6, description="Renditions of the ladder, from the largest down.")
    fps: int = Field(15, ge=1, le=60, description="Frame rate of the restream.")
    speed: Literal["ultrafast", "superfast", "veryfast", "faster", "fast"] = Field(
        "ultrafast", description="x264 preset: faster presets cost less CPU for more bits.")

    @model_validator(mode="before")
    @classmethod
    def _flag(cls, v: Any) -> Any:
        return {"enabled": v} if isinstance(v, bool) else v


class CameraConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(..., description="rtsp://, rtmp://, srt://, http(s):// URL or a local file.")
    listen: bool = Field(False, description="Wait for a stream pushed to `source` (rtmp:// or srt://) instead of "
                                            "connecting to it: the camera or an encoder pushes into VidLens.")
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="How RTP packets of an rtsp:// source travel: "
                                                                    "interleaved in the TCP connection, or over UDP.")
    enabled: bool = Field(True, description="False: configured but not watched.")
    detect: DetectConfig = Field(default_factory=DetectConfig, description="What is detected, and how often.")
    lines: dict[str, LineConfig] = Field(default_factory=dict, description="Counting lines by name.")
    zones: dict[str, ZoneConfig] = Field(default_factory=dict, description="Zones by name.")
    motion_mask: list[list[Point]] = Field(default_factory=list, description="Polygons ([x, y] fractions) where "
                                           "motion is ignored: a clock burned into the picture, a tree in the wind. "
                                           "Objects there are still detected when the detector runs.")
    record: RecordConfig = Field(default_factory=RecordConfig,
                                 description="Rolling recording, event clips and retention.")
    watchlist: bool = Field(False, description="Look for the faces of the face watch-list (`vidlens watchlist`) "
                                               "on this camera's people: a match is a `watchlist` event.")
    live: LiveConfig = Field(default_factory=LiveConfig, description="Low-latency HLS restream for the live view "
                                                                     "(`live: true`, or a mapping).")

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        v = v.strip()
        if "://" in v and not v.lower().startswith(SCHEMES):
            raise ValueError(f"unsupported scheme in {v!r}: use one of {', '.join(SCHEMES)} or a file path")
        if not v:
            raise ValueError("empty source")
        return v

    @field_validator("motion_mask")
    @classmethod
    def _masks(cls, v: list[list[Point]]) -> list[list[Point]]:
        for polygon in v:
            if len(polygon) < 3:
                raise ValueError("a motion mask polygon needs at least 3 corners")
            _fractions(polygon)
        return v

    @model_validator(mode="after")
    def _listen(self) -> CameraConfig:
        if self.listen and not self.source.lower().startswith(("rtmp://", "srt://")):
            raise ValueError("listen: true needs an rtmp:// or srt:// source to listen on")
        if self.live.enabled and not self.source.lower().startswith(("rtsp://", "rtsps://")):
            raise ValueError("live: the restream pulls the camera's RTSP stream a second time: it needs an "
                             "rtsp:// or rtsps:// source")
        return self


class MqttConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(..., description="Broker host name.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port.")
    topic_prefix: str = Field("vidlens", description="Topics are <prefix>/events, <prefix>/<camera>/<label> ...")
    client_id: str = Field("vidlens-watch", description="MQTT client id.")
    username: str | None = Field(None, description="User name, if the broker asks for one.")
    password: str | None = Field(None, description="Password, if the broker asks for one.")


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., pattern=r"^https?://", description="Receives each event as a JSON POST.")
    secret: str | None = Field(None, description="HMAC-SHA256 key: the body's signature goes in X-VidLens-Signature.")
    types: list[str] | None = Field(None, description="Only these event types (default: all).")


class WatchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: dict[str, CameraConfig] = Field(default_factory=dict, description="Cameras by name.")
    mqtt: MqttConfig | None = Field(None, description="Broker that receives events (none: no MQTT).")
    webhooks: list[WebhookConfig] = Field(default_factory=list, description="URLs that receive events.")
    base_url: str = Field("http://127.0.0.1:8000", description="Where the API is reached: links to snapshots and "
                                                               "clips in alerts start with it.")
    quota_gb: float = Field(50.0, gt=0, description="Disk the recordings, clips and snapshots may use, in GB.")
    restart_backoff_s: float = Field(1.0, gt=0, le=60,
                                     description="First wait before a crashed camera process is restarted "
                                                 "(doubling up to a minute).")

    @field_validator("cameras")
    @classmethod
    def _names(cls, v: dict[str, CameraConfig]) -> dict[str, CameraConfig]:
        for name in v:
            if not _NAME.match(name):
                raise ValueError(f"camera name {name!r}: letters, digits, '_' and '-' only (it names files and topics)")
        return v


def load_yaml(path: Path) -> WatchSettings:
    """The watch settings in the YAML file ``path``; any error names the file and line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"watch config not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        raise ConfigError(f"{path}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with `cameras:`")
    try:
        return WatchSettings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = err["loc"]
            where = _line_of(node, loc)
            what = ".".join(str(x) for x in loc) or "(top)"
            msg = "unknown key (a typo?)" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{path}:{where}: {what}: {msg}")
        raise ConfigError("invalid watch config:\n  " + "\n  ".join(lines)) from None


def _line_of(node: Any, loc: tuple[Any, ...]) -> str:
    """The line (1-based) of the deepest YAML node on the path ``loc``."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return f"line {line}"
