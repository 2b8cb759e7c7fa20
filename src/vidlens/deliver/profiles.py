"""Encoding profiles: validated pydantic models plus a few built-in presets.

A profile names intent (codec, quality or bitrate, size and rate caps, audio,
HDR policy) and stays encoder-neutral; ``encoder_args`` turns it into the flags
of whichever FFmpeg encoder this build has for the codec.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidlens.errors import ConfigError, NotFoundError, UnsupportedMediaError
from vidlens.media.ffmpeg import ffmpeg_exe

Codec = Literal["h264", "h265", "vp9", "av1"]
AudioCodec = Literal["aac", "opus", "copy", "none"]
Speed = Literal["ultrafast", "veryfast", "fast", "medium", "slow"]

# Preferred FFmpeg encoder per codec, best first.
ENCODERS: dict[str, tuple[str, ...]] = {
    "h264": ("libx264",),
    "h265": ("libx265",),
    "vp9": ("libvpx-vp9",),
    "av1": ("libsvtav1", "libaom-av1"),
}
CRF_MAX = {"h264": 51, "h265": 51, "vp9": 63, "av1": 63}
TEN_BIT_CODECS = {"h265", "vp9", "av1"}
_VPX_CPU = {"ultrafast": 8, "veryfast": 6, "fast": 4, "medium": 2, "slow": 1}
_SVT_PRESET = {"ultrafast": 12, "veryfast": 10, "fast": 8, "medium": 6, "slow": 4}
_AOM_CPU = {"ultrafast": 8, "veryfast": 7, "fast": 6, "medium": 4, "slow": 3}


class Profile(BaseModel):
    """How to encode one output. Exactly one of ``crf`` / ``bitrate_kbps`` drives the rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    codec: Codec = "h264"
    crf: int | None = Field(default=None, ge=0, le=63)
    bitrate_kbps: int | None = Field(default=None, gt=0, le=200_000)
    speed: Speed = "medium"
    max_width: int = Field(default=3840, ge=16, le=8192)
    max_height: int = Field(default=2160, ge=16, le=8192)
    max_fps: float = Field(default=60.0, gt=0, le=240)
    audio_codec: AudioCodec = "aac"
    audio_bitrate_kbps: int = Field(default=128, ge=16, le=1024)
    audio_channels: int = Field(default=2, ge=1, le=8)
    hdr: Literal["auto", "passthrough", "tonemap"] = "auto"
    loudness_target: float | None = Field(default=None, ge=-70, le=-5)

    @model_validator(mode="after")
    def _rate_control(self) -> Profile:
        if self.crf is None and self.bitrate_kbps is None:
            raise ValueError("set crf or bitrate_kbps")
        if self.crf is not None and self.bitrate_kbps is not None:
            raise ValueError("set crf or bitrate_kbps, not both")
        if self.crf is not None and self.crf > CRF_MAX[self.codec]:
            raise ValueError(f"crf {self.crf} is out of range for {self.codec} (0..{CRF_MAX[self.codec]})")
        if self.hdr == "passthrough" and self.codec not in TEN_BIT_CODECS:
            raise ValueError("HDR passthrough needs a 10-bit codec (h265, vp9, av1); use hdr='tonemap'")
        return self

    def keeps_hdr(self, source_hdr: str | None) -> bool:
        """Whether an HDR source stays HDR under this profile (``auto``: when the codec can carry it)."""
        if source_hdr is None or self.hdr == "tonemap":
            return False
        return self.hdr == "passthrough" or self.codec in TEN_BIT_CODECS


PRESETS: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(name="web-h264", codec="h264", crf=23, max_height=1080, max_width=1920, loudness_target=-14),
        Profile(name="web-h265", codec="h265", crf=26, max_height=2160, loudness_target=-14),
        Profile(name="web-vp9", codec="vp9", crf=32, audio_codec="opus", loudness_target=-14),
        Profile(name="web-av1", codec="av1", crf=35, audio_codec="opus", loudness_target=-14),
        Profile(
            name="broadcast-h264",
            codec="h264",
            bitrate_kbps=8000,
            max_height=1080,
            max_width=1920,
            max_fps=60,
            audio_bitrate_kbps=192,
            hdr="tonemap",
            loudness_target=-23,
        ),
        Profile(name="sdr-h264", codec="h264", crf=21, hdr="tonemap"),
        Profile(
            name="preview",
            codec="h264",
            crf=28,
            speed="veryfast",
            max_height=480,
            max_width=854,
            max_fps=30,
            audio_bitrate_kbps=96,
        ),
    )
}


def get_profile(name: str, extra: dict[str, dict] | None = None) -> Profile:
    """A built-in preset, or one defined in configuration (``extra``: name -> fields)."""
    if extra and name in extra:
        try:
            return Profile(name=name, **extra[name])
        except ValidationError as exc:
            raise ConfigError(f"profile '{name}' is invalid: {exc.errors()[0]['msg']}") from None
    if name not in PRESETS:
        known = ", ".join(sorted({*PRESETS, *(extra or {})}))
        raise NotFoundError(f"no profile named '{name}' (known: {known})")
    return PRESETS[name]


@lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    """Encoder names this FFmpeg build offers (``ffmpeg -encoders``)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    ).stdout
    return frozenset(m.group(1) for m in re.finditer(r"^\s*[VAS][A-Z.]{5}\s+(\S+)", out, re.MULTILINE))


def encoder_for(codec: str) -> str:
    """The best available FFmpeg encoder for ``codec``; a clear error when the build has none."""
    have = available_encoders()
    for name in ENCODERS[codec]:
        if name in have:
            return name
    raise UnsupportedMediaError(
        f"this FFmpeg build has no encoder for {codec} (looked for {', '.join(ENCODERS[codec])})"
    )


def encoder_args(profile: Profile, *, gop: int | None = None, spec: str = ":v") -> list[str]:
    """Video encoder flags for ``profile``; ``gop`` fixes the keyframe interval (no scene-cut keys)."""
    enc = encoder_for(profile.codec)
    args = [f"-c{spec}", enc]
    if profile.crf is not None:
        if enc == "libvpx-vp9":
            args += [f"-crf{spec}", str(profile.crf), f"-b{spec}", "0"]
        else:
            args += [f"-crf{spec}", str(profile.crf)]
    else:
        kb = profile.bitrate_kbps
        args += [
            f"-b{spec}",
            f"{kb}k",
            f"-maxrate{spec}",
            f"{int(kb * 1.1)}k",
            f"-bufsize{spec}",
            f"{kb * 2}k",
        ]
    if enc in ("libx264", "libx265"):
        args += [f"-preset{spec}", profile.speed]
    elif enc == "libvpx-vp9":
        args += [
            f"-deadline{spec}",
            "good",
            f"-cpu-used{spec}",
            str(_VPX_CPU[profile.speed]),
            f"-row-mt{spec}",
            "1",
        ]
    elif enc == "libsvtav1":
        args += [f"-preset{spec}", str(_SVT_PRESET[profile.speed])]
    elif enc == "libaom-av1":
        args += [f"-cpu-used{spec}", str(_AOM_CPU[profile.speed]), f"-row-mt{spec}", "1"]
    if enc == "libx265":
        params = ["log-level=error"]
        if gop:
            params += [f"keyint={gop}", f"min-keyint={gop}", "scenecut=0"]
        args += [f"-x265-params{spec}", ":".join(params), f"-tag{spec}", "hvc1"]
    elif gop:
        args += [f"-g{spec}", str(gop), f"-keyint_min{spec}", str(gop)]
        if enc == "libx264":
            args += [f"-sc_threshold{spec}", "0"]
        elif enc == "libsvtav1":
            args += [f"-svtav1-params{spec}", "scd=0"]
    return args


def audio_args(profile: Profile, source_rate: int | None) -> list[str]:
    """Audio encoder flags; ``none`` drops audio."""
    if profile.audio_codec == "none" or source_rate is None:
        return ["-an"]
    if profile.audio_codec == "copy":
        return ["-c:a", "copy"]
    enc = "libopus" if profile.audio_codec == "opus" else "aac"
    rate = 48000 if enc == "libopus" else min(source_rate, 48000)
    return [
        "-c:a",
        enc,
        "-b:a",
        f"{profile.audio_bitrate_kbps}k",
        "-ac",
        str(profile.audio_channels),
        "-ar",
        str(rate),
    ]
