"""The edit decision list: every stretch of the source, kept or dropped, with the reason and the scores.

Boundaries are **source frame numbers** at the source's constant frame rate, never seconds, so the
render, the exported timeline and the subtitles agree to the frame by construction: a segment is
frames ``[start, end)``, shown at ``speed`` (1 = as recorded; a kept quiet part may run faster).
Segments tile the whole source in order, so the list explains everything that is not in the output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from vidlens.errors import UsageError


@dataclass(frozen=True)
class Segment:
    """Source frames ``[start, end)``; ``keep`` says whether they are in the output and ``reason`` why."""

    start: int
    end: int
    keep: bool
    reason: str
    speed: float = 1.0
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return self.end - self.start

    def output_frames(self) -> int:
        """Frames this segment takes in the output (0 when dropped)."""
        if not self.keep:
            return 0
        return self.frames if self.speed == 1.0 else max(1, math.floor(self.frames / self.speed))


@dataclass(frozen=True)
class Join:
    """How rendered piece ``after`` joins the next one: a ``cut`` or a ``dissolve`` of ``frames`` output frames,
    centred on the join (half of it from source beyond each piece), and why."""

    after: int
    kind: str  # cut | dissolve
    frames: int
    reason: str
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def handle(self) -> int:
        """Source frames each side lends beyond its cut point."""
        return self.frames // 2


@dataclass(frozen=True)
class DecisionList:
    """What one edit does to one source: segments tiling ``[0, frame_count)``, plus what is applied on top."""

    source: str
    fps: Fraction
    frame_count: int
    segments: tuple[Segment, ...]
    operations: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    joins: tuple[Join, ...] = ()  # one per judged join between pieces; none: every join is a cut

    def __post_init__(self) -> None:
        pos = 0
        for i, s in enumerate(self.segments):
            if s.start != pos or s.end <= s.start:
                raise UsageError(f"decision list: segment {i} [{s.start}, {s.end}) does not follow frame {pos}")
            if s.speed <= 0 or s.speed > 16:
                raise UsageError(f"decision list: segment {i} speed {s.speed} is outside (0, 16]")
            pos = s.end
        if pos != self.frame_count:
            raise UsageError(f"decision list covers {pos} of {self.frame_count} frames")
        if self.joins:
            pieces = self.pieces()
            for j in self.joins:
                if not 0 <= j.after < len(pieces) - 1 or (j.kind == "dissolve" and (
                        j.frames < 2 or j.frames % 2 or pieces[j.after + 1].start < j.handle
                        or pieces[j.after].end + j.handle > self.frame_count)):
                    raise UsageError(f"decision list: join after piece {j.after} ({j.kind}) does not fit")

    def seconds(self, frame: int) -> float:
        return float(Fraction(frame) / self.fps)

    def kept(self) -> list[Segment]:
        return [s for s in self.segments if s.keep]

    def pieces(self) -> list[Segment]:
        """Kept stretches as rendered: neighbours at the same speed joined (no cut between them)."""
        out: list[Segment] = []
        for s in self.kept():
            if out and out[-1].end == s.start and out[-1].speed == s.speed:
                last = out[-1]
                out[-1] = replace(last, end=s.end, reason="joined",
                                  scores={"output_frames": last.output_frames() + s.output_frames()})
            else:
                out.append(replace(s, scores={"output_frames": s.output_frames()}))
        return out

    def dissolves(self) -> dict[int, Join]:
        """The dissolves by the piece they follow."""
        return {j.after: j for j in self.joins if j.kind == "dissolve"}

    def handles(self) -> list[tuple[int, int]]:
        """Per rendered piece, the source frames it lends before and after itself to dissolves."""
        d = self.dissolves()
        n = len(self.pieces())
        return [(d[i - 1].handle if i - 1 in d else 0, d[i].handle if i in d else 0) for i in range(n)]

    def output_frame_count(self) -> int:
        return sum(s.output_frames() for s in self.segments)

    def output_duration_s(self) -> float:
        return self.seconds(self.output_frame_count())

    def to_output(self, t_s: float) -> float | None:
        """Where source time ``t_s`` lands in the output, or None when it was dropped."""
        out = 0
        frame = t_s * float(self.fps)
        for s in self.segments:
            if s.start <= frame < s.end:
                return self.seconds(out) + (frame - s.start) / float(self.fps) / s.speed if s.keep else None
            out += s.output_frames()
        return None

    def map_span(self, start_s: float, end_s: float) -> list[tuple[float, float]]:
        """The output spans a source span becomes (one per kept segment it overlaps)."""
        spans = []
        out = 0
        for s in self.segments:
            a, b = self.seconds(s.start), self.seconds(s.end)
            if s.keep and start_s < b and end_s > a:
                o = self.seconds(out)
                lo, hi = max(start_s, a), min(end_s, b)
                spans.append((o + (lo - a) / s.speed, o + (hi - a) / s.speed))
            out += s.output_frames()
        return spans

    def with_operation(self, name: str, **details: Any) -> DecisionList:
        return replace(self, operations=(*self.operations, name), details={**self.details, **details})

    def to_dict(self) -> dict[str, Any]:
        """The explanation ``vidlens edit --json`` prints: every segment, kept and dropped, with times."""
        out_pos = 0
        segments = []
        for s in self.segments:
            item: dict[str, Any] = {
                "keep": s.keep, "reason": s.reason, "start_frame": s.start, "end_frame": s.end,
                "start_s": round(self.seconds(s.start), 3), "end_s": round(self.seconds(s.end), 3),
                "speed": s.speed, "scores": {k: round(v, 4) for k, v in s.scores.items()},
            }
            if s.keep:
                item["output_start_s"] = round(self.seconds(out_pos), 3)
                out_pos += s.output_frames()
                item["output_end_s"] = round(self.seconds(out_pos), 3)
            segments.append(item)
        pieces = self.pieces()
        starts = [0]
        for p in pieces:
            starts.append(starts[-1] + int(p.scores["output_frames"]))
        joins = [{"kind": j.kind, "reason": j.reason, "after_piece": j.after,
                  "at_output_s": round(self.seconds(starts[j.after + 1]), 3),
                  "from_frame": pieces[j.after].end, "to_frame": pieces[j.after + 1].start,
                  "duration_s": round(self.seconds(j.frames), 3),
                  "scores": {k: round(v, 4) for k, v in j.scores.items()}} for j in self.joins]
        return {
            "source": self.source, "fps": str(self.fps), "frame_count": self.frame_count,
            "duration_s": round(self.seconds(self.frame_count), 3),
            "output_frame_count": self.output_frame_count(),
            "output_duration_s": round(self.output_duration_s(), 3),
            "operations": list(self.operations), "kept": sum(s.keep for s in self.segments),
            "dropped": sum(not s.keep for s in self.segments), "segments": segments, "joins": joins,
            "transitions": [j for j in joins if j["kind"] != "cut"], **self.details,
        }


def whole(source: str, fps: Fraction, frame_count: int) -> DecisionList:
    """The identity edit: the whole source kept."""
    return DecisionList(source, fps, frame_count, (Segment(0, frame_count, True, "whole source"),))


def from_marks(source: str, fps: Fraction, frame_count: int, marks: Sequence[tuple[int, int, bool, str, float]],
               scores: Iterable[dict[str, float]] | None = None) -> DecisionList:
    """Build a list from ``(start, end, keep, reason, speed)`` marks, merging neighbours that say the same."""
    merged: list[Segment] = []
    score_list = list(scores) if scores is not None else [{} for _ in marks]
    for (a, b, keep, reason, speed), sc in zip(marks, score_list, strict=True):
        if b <= a:
            continue
        last = merged[-1] if merged else None
        if (last and last.keep == keep and last.reason == reason and last.speed == speed and last.end == a
                and not sc and not last.scores):
            merged[-1] = replace(last, end=b)
        else:
            merged.append(Segment(a, b, keep, reason, speed, dict(sc)))
    return DecisionList(source, fps, frame_count, tuple(merged))
