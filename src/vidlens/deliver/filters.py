"""Video filter chains: deinterlace, tone-map, constant rate, even-sized scaling.

Everything a source needs before it meets an encoder, derived from ``SourceInfo``
and a ``Profile`` so transcodes, ladders and live share the same rules.
"""

from __future__ import annotations

import math
from fractions import Fraction

from vidlens.deliver.profiles import Profile
from vidlens.deliver.source import SourceInfo

TONEMAP_SDR = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
    "zscale=t=bt709:m=bt709:r=tv"
)
DEINTERLACE = "bwdif=mode=send_frame:parity=auto:deint=all"


def even(n: float) -> int:
    """Largest even integer not above ``n`` (at least 2): 4:2:0 encoders reject odd sizes."""
    return max(2, int(n) // 2 * 2)


def fit_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Fit ``width x height`` inside the box keeping the aspect ratio; never upscale; even sides.

    The box follows the picture's orientation: a 1920x1080 cap lets portrait video be 1080x1920.
    """
    if height > width:
        max_width, max_height = min(max_width, max_height), max(max_width, max_height)
    scale = min(1.0, max_width / width, max_height / height)
    return even(round(width * scale)), even(round(height * scale))


def output_fps(source_fps: Fraction, max_fps: float) -> Fraction:
    """The source rate, or an integer division of it under the cap (60 -> 30 keeps the cadence)."""
    if source_fps <= 0:
        return Fraction(25)
    if float(source_fps) <= max_fps + 1e-6:
        return source_fps
    return source_fps / math.ceil(float(source_fps) / max_fps)


def pre_filters(src: SourceInfo, profile: Profile, *, force_cfr: bool = False) -> list[str]:
    """Filters applied once per source, before any scaling split."""
    chain: list[str] = []
    if src.interlaced:
        chain.append(DEINTERLACE)
    if src.hdr and not profile.keeps_hdr(src.hdr):
        chain.append(TONEMAP_SDR)
    fps = output_fps(src.fps, profile.max_fps)
    if force_cfr or src.video.variable_frame_rate or fps != src.fps:
        chain.append(f"fps={fps.numerator}/{fps.denominator}")
    return chain


def scale_filter(width: int, height: int, dar: Fraction | None = None) -> str:
    """Scale to an even size; ``dar`` pins the display aspect when even rounding bent it a little."""
    aspect = (
        f"setdar={dar.numerator}/{dar.denominator}" if dar and dar != Fraction(width, height) else "setsar=1"
    )
    return f"scale={width}:{height}:flags=bicubic,{aspect}"


def pixel_format(src: SourceInfo, profile: Profile) -> str:
    return "yuv420p10le" if profile.keeps_hdr(src.hdr) else "yuv420p"


def color_args(src: SourceInfo, profile: Profile, spec: str = ":v") -> list[str]:
    """Colour tags for the encoder: HDR kept as is, or BT.709 after tone-mapping."""
    if profile.keeps_hdr(src.hdr):
        return [
            f"-color_primaries{spec}",
            "bt2020",
            f"-color_trc{spec}",
            src.color_transfer,
            f"-colorspace{spec}",
            "bt2020nc",
        ]
    if src.hdr:
        return [
            f"-color_primaries{spec}",
            "bt709",
            f"-color_trc{spec}",
            "bt709",
            f"-colorspace{spec}",
            "bt709",
        ]
    return []


def video_chain(src: SourceInfo, profile: Profile, *, force_cfr: bool = False) -> tuple[str, tuple[int, int]]:
    """The full ``-vf`` for a single-output transcode, and the output size."""
    w, h = fit_size(*src.display_size, profile.max_width, profile.max_height)
    chain = pre_filters(src, profile, force_cfr=force_cfr)
    chain += [scale_filter(w, h), f"format={pixel_format(src, profile)}"]
    return ",".join(chain), (w, h)
