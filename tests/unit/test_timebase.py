from fractions import Fraction

import pytest

from vidlens.errors import UsageError
from vidlens.timebase import TimeRange, format_timecode, parse_time, rescale


@pytest.mark.parametrize(("text", "expected"), [
    ("1.5s", Fraction(3, 2)), ("1.5", Fraction(3, 2)), ("1500ms", Fraction(3, 2)),
    ("00:01:02.5", Fraction(125, 2)), ("01:02", Fraction(62)), ("1:00:00", Fraction(3600)),
])
def test_parse_time(text: str, expected: Fraction) -> None:
    assert parse_time(text) == expected


def test_parse_frames_needs_fps() -> None:
    assert parse_time("250f", fps=Fraction(25)) == 10
    assert parse_time("1001f", fps=Fraction(30000, 1001)) == Fraction(1001 * 1001, 30000)
    with pytest.raises(UsageError, match="frame rate"):
        parse_time("250f")


@pytest.mark.parametrize("bad", ["", "abc", "1:61", "00:00:75", "-1s", "1.2.3"])
def test_parse_time_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_time(bad)


def test_time_range_is_exact_in_rational_ticks() -> None:
    ntsc = Fraction(1001, 30000)
    r = TimeRange(0, 3000, ntsc)  # 3000 frames of 29.97 fps
    assert r.duration_s == pytest.approx(100.1)
    assert r.rescale(Fraction(1, 90000)).end == 3000 * 3003
    assert rescale(1, Fraction(1, 3), Fraction(1, 2)) == 1  # 0.666 -> rounds to 1


def test_time_range_overlap_and_iou() -> None:
    ms, mpeg = Fraction(1, 1000), Fraction(1, 90000)
    a = TimeRange(0, 10_000, ms)
    b = TimeRange(5 * 90000, 15 * 90000, mpeg)  # another time base: compared after rescaling
    assert a.iou(b) == pytest.approx(5 / 15)
    assert a.overlap(b) == 5000
    assert a.overlap(TimeRange(20_000, 30_000, ms)) == 0
    with pytest.raises(UsageError):
        TimeRange(5, 1, Fraction(1, 25))


def test_format_timecode() -> None:
    assert format_timecode(3723.5) == "01:02:03.500"
    assert format_timecode(0) == "00:00:00.000"
