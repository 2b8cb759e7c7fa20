"""What delivery needs to know about a source beyond ``probe``: scan type, HDR, pixel shape.

``vidlens.media.probe.probe`` answers the platform-wide questions (size, rate,
rotation, hash). Encoding decisions also hang on the field order, the transfer
function and the sample aspect ratio, which we read here from the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vidlens.media.probe import picture_facts, probe
from vidlens.types import Video

HDR_TRANSFERS = {"smpte2084": "pq", "arib-std-b67": "hlg"}
# AVColorTransferCharacteristic values, for PyAV builds that report ints.
_TRC_NAMES = {16: "smpte2084", 18: "arib-std-b67", 1: "bt709", 2: "unknown"}
_PRIM_NAMES = {9: "bt2020", 1: "bt709", 2: "unknown"}


@dataclass(frozen=True, slots=True)
class SourceInfo:
    video: Video
    interlaced: bool
    color_transfer: str
    color_primaries: str
    pix_fmt: str
    sample_aspect: Fraction
    audio_rate: int | None
    audio_channels: int | None

    @property
    def hdr(self) -> str | None:
        """``"pq"`` or ``"hlg"`` for HDR sources, else None."""
        return HDR_TRANSFERS.get(self.color_transfer)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as a player shows them: rotation applied, pixels made square."""
        w, h = self.video.display_size
        if self.sample_aspect and self.sample_aspect != 1:
            if self.video.rotation % 180:
                h = round(h * self.sample_aspect)
            else:
                w = round(w * self.sample_aspect)
        return w, h

    @property
    def fps(self) -> Fraction:
        return self.video.fps or Fraction(25)


def _name(value: object, table: dict[int, str]) -> str:
    if isinstance(value, int):
        return table.get(value, str(value))
    return str(getattr(value, "name", value) or "unknown").lower()


def inspect_source(path: str | Path) -> SourceInfo:
    """Probe ``path`` and read the scan type, colour and pixel-aspect facts of its first frame."""
    video = probe(path)
    facts = picture_facts(path)
    return SourceInfo(
        video=video,
        interlaced=facts.interlaced,
        color_transfer=_name(facts.color_trc, _TRC_NAMES),
        color_primaries=_name(facts.color_primaries, _PRIM_NAMES),
        pix_fmt=facts.pix_fmt or "unknown",
        sample_aspect=facts.sample_aspect,
        audio_rate=facts.audio_rate,
        audio_channels=facts.audio_channels,
    )
