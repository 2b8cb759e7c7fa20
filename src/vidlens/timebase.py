"""Time as integers in a rational time base.

Every timestamp in VidLens is an integer tick count of a ``Fraction`` time base
(exactly what a container stores as PTS). Floats are for display only, so
variable-frame-rate files and 29.97 fps never accumulate rounding error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from vidlens.errors import UsageError

def to_seconds(ticks: int, time_base: Fraction) -> float:
    return float(ticks * time_base)


def rescale(ticks: int, src: Fraction, dst: Fraction) -> int:
    """Convert ``ticks`` from ``src`` to ``dst`` time base, rounding to nearest."""
    value = Fraction(ticks) * src / dst
    return math.floor(value + Fraction(1, 2))


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Half-open range ``[start, end)`` in ticks of ``time_base``."""

    start: int
    end: int
    time_base: Fraction

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise UsageError(f"TimeRange end ({self.end}) must not be before start ({self.start})")
        if self.time_base <= 0:
            raise UsageError(f"time base must be positive, got {self.time_base}")

    @property
    def duration(self) -> int:
        return self.end - self.start

    @property
    def start_s(self) -> float:
        return to_seconds(self.start, self.time_base)

    @property
    def end_s(self) -> float:
        return to_seconds(self.end, self.time_base)

    @property
    def duration_s(self) -> float:
        return to_seconds(self.duration, self.time_base)

    def rescale(self, time_base: Fraction) -> TimeRange:
        return TimeRange(rescale(self.start, self.time_base, time_base),
                         rescale(self.end, self.time_base, time_base), time_base)

    def contains(self, ticks: int) -> bool:
        return self.start <= ticks < self.end

    def overlap(self, other: TimeRange) -> int:
        """Overlap in ticks of this range's time base."""
        o = other.rescale(self.time_base) if other.time_base != self.time_base else other
        return max(0, min(self.end, o.end) - max(self.start, o.start))

    def iou(self, other: TimeRange) -> float:
        o = other.rescale(self.time_base) if other.time_base != self.time_base else other
        inter = self.overlap(o)
        union = max(self.end, o.end) - min(self.start, o.start)
        return inter / union if union > 0 else 0.0

    def to_dict(self) -> dict[str, float | int | str]:
        return {"start": self.start, "end": self.end, "time_base": str(self.time_base),
                "start_s": round(self.start_s, 6), "end_s": round(self.end_s, 6)}


_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)\s*s?$")
_MILLIS = re.compile(r"^(\d+(?:\.\d+)?)\s*ms$")
_FRAMES = re.compile(r"^(\d+)\s*f$")


def parse_time(text: str, *, fps: Fraction | None = None) -> Fraction:
    """Parse ``1.5s``, ``1500ms``, ``00:01:02.5``, ``01:02`` or ``250f`` to seconds.

    Frame counts need ``fps`` (the video's nominal rate); a bare number means seconds.
    """
    s = text.strip().lower()
    if m := _FRAMES.match(s):
        if fps is None or fps <= 0:
            raise UsageError(f"'{text}' is a frame count, which needs the video's frame rate; none is known")
        return Fraction(int(m.group(1))) / fps
    if m := _MILLIS.match(s):
        return Fraction(m.group(1)) / 1000
    if m := _SECONDS.match(s):
        return Fraction(m.group(1))
    if m := _CLOCK.match(s):
        hours = int(m.group(1) or 0)
        minutes = int(m.group(2))
        secs = Fraction(m.group(3))
        if minutes >= 60 or secs >= 60:
            raise UsageError(f"'{text}' is not a valid clock time: minutes and seconds must be < 60")
        return hours * 3600 + minutes * 60 + secs
    raise UsageError(
        f"cannot parse time '{text}': expected seconds ('1.5s', '1.5'), milliseconds ('1500ms'), "
        "a clock time ('00:01:02.5') or frames ('250f')"
    )


def format_timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm`` for display."""
    if seconds < 0:
        return "-" + format_timecode(-seconds)
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
