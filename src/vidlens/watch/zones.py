"""Zones and counting lines: what a tracked object's path means, in fractions of the picture.

An object's position is the bottom centre of its box (where it stands, as in Frigate), so a
person's head over a zone's edge does not put them in it. A zone reports ``zone_enter`` after
``inertia`` looks in a row inside (dated at the first of them) and ``zone_exit`` after as many
outside, so a box whose foot jitters on the edge does not flicker in and out (Frigate's
``inertia``), and, once per visit, ``loiter`` after ``loiter_s`` inside. A line reports
``line_cross`` when the path between two looks crosses it, with the direction ``in`` (from the
left of the line to its right, looking from its first point to its second; for a line drawn
left to right across the picture that is downwards) or ``out``, and keeps running counts per
line, label and direction. Pure: no I/O, so it is tested on paths alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from vidlens.watch.settings import LineConfig, Point, ZoneConfig


@dataclass(frozen=True, slots=True)
class Happening:
    type: str  # zone_enter | zone_exit | loiter | line_cross
    track_id: int
    label: str
    t: float
    zone: str | None = None
    line: str | None = None
    direction: str | None = None


def inside(p: Point, polygon: list[Point]) -> bool:
    """Even-odd rule: is ``p`` inside ``polygon``."""
    x, y = p
    hit = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def _side(a: Point, b: Point, p: Point) -> float:
    """> 0 right of a->b (y grows downwards), < 0 left, 0 on it."""
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def crossing(a: Point, b: Point, p0: Point, p1: Point) -> str | None:
    """``in`` / ``out`` when the step p0 -> p1 crosses the segment a-b, else None."""
    s0, s1 = _side(a, b, p0), _side(a, b, p1)
    if s0 == 0 or s1 == 0 or (s0 > 0) == (s1 > 0):
        return None
    t0, t1 = _side(p0, p1, a), _side(p0, p1, b)
    if (t0 > 0) == (t1 > 0) and t0 != 0 and t1 != 0:
        return None  # the step crosses the line's extension, not the line
    return "in" if s0 < 0 else "out"


@dataclass
class _Visit:
    since: float  # first look inside
    inside: int = 0  # looks in a row inside (until entered), then outside (while entered)
    entered: bool = False
    loitered: bool = False


@dataclass
class ZoneWatcher:
    """Follows every track through a camera's zones and lines; ``look`` returns what happened."""

    zones: dict[str, ZoneConfig]
    lines: dict[str, LineConfig]
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (line, label, direction) -> n
    _visits: dict[tuple[int, str], _Visit] = field(default_factory=dict)
    _last: dict[int, Point] = field(default_factory=dict)

    def look(self, track_id: int, label: str, t: float, p: Point) -> list[Happening]:
        out: list[Happening] = []
        for name, zone in self.zones.items():
            if zone.objects is not None and label not in zone.objects:
                continue
            key = (track_id, name)
            visit = self._visits.get(key)
            if inside(p, zone.polygon):
                if visit is None:
                    self._visits[key] = visit = _Visit(t)
                if not visit.entered:
                    visit.inside += 1
                    if visit.inside >= zone.inertia:
                        visit.entered, visit.inside = True, 0
                        out.append(Happening("zone_enter", track_id, label, visit.since, zone=name))
                else:
                    visit.inside = 0  # back inside: the looks outside were jitter at the edge
                if (visit.entered and zone.loiter_s is not None and not visit.loitered
                        and t - visit.since >= zone.loiter_s):
                    visit.loitered = True
                    out.append(Happening("loiter", track_id, label, t, zone=name))
            elif visit is not None:
                if not visit.entered:
                    del self._visits[key]  # a brush past the edge: never entered
                    continue
                visit.inside += 1
                if visit.inside >= zone.inertia:
                    del self._visits[key]
                    out.append(Happening("zone_exit", track_id, label, t, zone=name))
        prev = self._last.get(track_id)
        self._last[track_id] = p
        if prev is not None:
            for name, line in self.lines.items():
                if line.objects is not None and label not in line.objects:
                    continue
                direction = crossing(line.a, line.b, prev, p)
                if direction:
                    self.counts[(name, label, direction)] += 1
                    out.append(Happening("line_cross", track_id, label, t, line=name, direction=direction))
        return out

    def gone(self, track_id: int, label: str, t: float) -> list[Happening]:
        """The track ended: it leaves every zone it was in."""
        self._last.pop(track_id, None)
        out = []
        for key in [k for k in self._visits if k[0] == track_id]:
            if self._visits.pop(key).entered:
                out.append(Happening("zone_exit", track_id, label, t, zone=key[1]))
        return out
