from __future__ import annotations

import pytest

from vidlens.analyze.subtitles import to_srt, to_webvtt
from vidlens.errors import UsageError

SEGS = [
    {"text": "second <b>bold</b> & more", "start_s": 3723.5, "end_s": 3725.0},
    {"text": "  first line\nwrapped  ", "start_s": 0.0, "end_s": 1.2345},
]


def test_vtt_header_times_order_and_escaping() -> None:
    vtt = to_webvtt(SEGS)
    assert vtt.startswith("WEBVTT\n\n")
    blocks = vtt.strip().split("\n\n")[1:]
    assert blocks[0] == "00:00:00.000 --> 00:00:01.234\nfirst line wrapped"
    assert blocks[1] == "01:02:03.500 --> 01:02:05.000\nsecond &lt;b&gt;bold&lt;/b&gt; &amp; more"


def test_srt_numbering_comma_times_and_arrow_in_text() -> None:
    srt = to_srt([*SEGS, {"text": "a --> b", "start_s": 5, "end_s": 6}])
    blocks = srt.strip().split("\n\n")
    assert blocks[0] == "1\n00:00:00.000 --> 00:00:01.234".replace(".", ",") + "\nfirst line wrapped"
    assert blocks[1].splitlines()[:2] == ["2", "00:00:05,000 --> 00:00:06,000"]
    assert "-->" not in blocks[1].splitlines()[2]
    assert blocks[2].splitlines()[2] == "second <b>bold</b> & more"  # SRT players render simple tags


def test_empty_cues_are_dropped_and_zero_length_gets_a_millisecond() -> None:
    vtt = to_webvtt([{"text": "   ", "start_s": 0, "end_s": 1}, {"text": "x", "start_s": 2, "end_s": 2}])
    assert vtt.count("-->") == 1 and "00:00:02.000 --> 00:00:02.001" in vtt
    assert to_srt([]) == "" and to_webvtt([]) == "WEBVTT\n"


@pytest.mark.parametrize("seg", [{"text": "x", "start_s": 2, "end_s": 1}, {"text": "x", "start_s": "a", "end_s": 1},
                                 {"start_s": 0, "end_s": 1}])
def test_bad_segments_raise_usage_error(seg: dict) -> None:
    with pytest.raises(UsageError, match="segment 0"):
        to_webvtt([seg])
