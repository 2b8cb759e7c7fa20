"""What delivery needs to know about a source beyond ``probe``: scan type, HDR, pixel shape.

``vidlens.media.probe.probe`` answers the platform-wide questions (size, rate,
rotation, hash). Encoding decisions also hang on the field order, the transfer
function and the sample aspect ratio, which we read here from the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from vidlens.errors import UnsupportedMediaError
from vidlens.media.probe import open_container, probe
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
    with open_container(path) as container:
        vs = container.streams.video[0]
        cc = vs.codec_context
        frame = None
        try:
            frame = next(container.decode(vs))
        except (StopIteration, av.error.FFmpegError):
            pass
        if frame is None:  # pragma: no cover - probe already decoded a frame
            raise UnsupportedMediaError(f"{Path(path).name}: no decodable video frame", path=str(path))
        field_order = str(getattr(cc, "field_order", "") or "").lower()
        interlaced = bool(frame.interlaced_frame) or field_order in {"tt", "bb", "tb", "bt"}
        sar = Fraction(vs.sample_aspect_ratio) if vs.sample_aspect_ratio else Fraction(1)
        audio = container.streams.audio[0] if container.streams.audio else None
        return SourceInfo(
            video=video,
            interlaced=interlaced,
            color_transfer=_name(frame.color_trc if frame.color_trc else cc.color_trc, _TRC_NAMES),
            color_primaries=_name(
                frame.color_primaries if frame.color_primaries else cc.color_primaries, _PRIM_NAMES
            ),
            pix_fmt=frame.format.name,
            sample_aspect=sar if sar > 0 else Fraction(1),
            audio_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
        )
