"""WebVTT and SRT writers for transcript segments (``text``, ``start_s``, ``end_s``).

Both formats break on blank lines and VTT also on ``-->``, so cue text is cleaned:
line breaks inside a segment collapse to spaces, and in VTT ``&``, ``<`` and ``>``
are escaped (a cue may otherwise open a tag). SRT has no escaping, so ``-->`` is
rewritten to an arrow there; an empty cue is dropped, since players treat it as the end
of the file. Cues are sorted by start and never overlap backwards in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vidlens.errors import UsageError


def _timestamp(seconds: float, sep: str) -> str:
    ms_total = int(round(max(0.0, seconds) * 1000))
    h, rest = divmod(ms_total, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(segments: Iterable[Mapping[str, Any]]) -> list[tuple[float, float, str]]:
    out = []
    for i, seg in enumerate(segments):
        try:
            start, end = float(seg["start_s"]), float(seg["end_s"])
            text = str(seg["text"])
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"subtitle segment {i} needs numeric 'start_s', 'end_s' and a 'text'") from None
        if end < start:
            raise UsageError(f"subtitle segment {i} ends ({end}) before it starts ({start})")
        text = " ".join(text.split())
        if text:
            out.append((start, max(end, start + 0.001), text))
    out.sort(key=lambda c: c[0])
    return out


def to_webvtt(segments: Iterable[Mapping[str, Any]]) -> str:
    """A WebVTT document (``WEBVTT`` header, ``HH:MM:SS.mmm`` times, HTML-escaped text)."""
    lines = ["WEBVTT", ""]
    for start, end, text in _cues(segments):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}", text, ""]
    return "\n".join(lines)


def to_srt(segments: Iterable[Mapping[str, Any]]) -> str:
    """A SubRip document (numbered cues, ``HH:MM:SS,mmm`` times)."""
    lines: list[str] = []
    for n, (start, end, text) in enumerate(_cues(segments), 1):
        lines += [str(n), f"{_timestamp(start, ',')} --> {_timestamp(end, ',')}", text.replace("-->", "→"), ""]
    return "\n".join(lines)
