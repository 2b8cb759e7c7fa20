"""Zones and lines on paths alone: enter/exit with inertia, loitering, object filters, crossings."""

from __future__ import annotations

from vidlens.watch.settings import LineConfig, ZoneConfig
from vidlens.watch.zones import ZoneWatcher, crossing, inside

SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.8), (0.2, 0.8)]


def test_inside_and_crossing() -> None:
    assert inside((0.4, 0.5), SQUARE) and not inside((0.7, 0.5), SQUARE)
    a, b = (0.0, 0.5), (1.0, 0.5)
    assert crossing(a, b, (0.5, 0.4), (0.5, 0.6)) == "in"  # downwards across a line drawn left to right
    assert crossing(a, b, (0.5, 0.6), (0.5, 0.4)) == "out"
    assert crossing(a, b, (0.5, 0.4), (0.5, 0.45)) is None
    assert crossing((0.0, 0.5), (0.3, 0.5), (0.5, 0.4), (0.5, 0.6)) is None  # past the line's end


def test_zone_enter_exit_loiter_with_inertia() -> None:
    w = ZoneWatcher({"desk": ZoneConfig(polygon=SQUARE, loiter_s=2.0, inertia=2)}, {})
    path = [(0.1, 0.5)] + [(0.4, 0.5)] * 6 + [(0.7, 0.5), (0.4, 0.5)] + [(0.7, 0.5)] * 3
    seen = [(h.type, h.t) for i, p in enumerate(path) for h in w.look(1, "person", i * 0.5, p)]
    # enters at its first look inside (t=0.5), loiters 2 s later, one look outside is jitter, the second is an exit
    assert seen == [("zone_enter", 0.5), ("loiter", 2.5), ("zone_exit", 5.0)]


def test_object_filters_and_counts() -> None:
    w = ZoneWatcher({"road": ZoneConfig(polygon=SQUARE, objects=["car"], inertia=1)},
                    {"door": LineConfig(a=(0.0, 0.5), b=(1.0, 0.5), objects=["person"])})
    for t, y in enumerate((0.4, 0.6, 0.4, 0.6)):
        w.look(1, "person", t, (0.4, y))
        w.look(2, "car", t, (0.4, y))
    assert w.counts == {("door", "person", "in"): 2, ("door", "person", "out"): 1}
    assert [h.type for h in w.gone(2, "car", 5.0)] == ["zone_exit"]  # the car was in the road zone when lost
    assert w.gone(1, "person", 5.0) == []  # the person never counted in a car-only zone
