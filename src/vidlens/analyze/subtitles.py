"""Subtitle cues from transcript segments, and their WebVTT and SRT files.

A speech segment is not a subtitle: Whisper's can run ten seconds and a hundred characters.
Cues are cut the way subtitle guidelines ask (Netflix, BBC): at most two lines of about 42
characters (16 for Chinese, Japanese and Korean), on screen 1 to 7 seconds. They break
where the speaker does: at the end of a sentence and at a pause between words (from the
segment's ``words`` timings; without them, times are shared out by characters), and a cue
too long for that breaks at the clause, the pause or the fullest line that fits.

Both formats break on blank lines and WebVTT also on ``-->``, so text is cleaned: line
breaks inside a word list collapse to spaces, WebVTT escapes ``&``, ``<`` and ``>``, and
SRT (which has no escaping) rewrites ``-->`` to an arrow. Cues never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vidlens.errors import UsageError

LINE_CHARS = 42  # Latin script, per line
LINE_CHARS_CJK = 16  # Chinese, Japanese, Korean
MAX_LINES = 2
MIN_S, MAX_S = 1.0, 7.0
PAUSE_S = 0.5  # silence between two words that ends a cue
SENTENCE_END = tuple(".!?。！？…‼")
CLAUSE_END = (*",;:、，；：—", *SENTENCE_END)
# a full stop after these is not the end of a sentence ("Mr. John Dashwood")
ABBREVIATIONS = frozenset("mr mrs ms dr prof st jr sr vs etc e.g i.e no mt fig approx".split())


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start_s: float
    end_s: float
    space: bool = True  # a space before it in the text (none inside "old-fashioned" or between CJK characters)

    @property
    def ends_sentence(self) -> bool:
        if not self.text.endswith(SENTENCE_END):
            return False
        stem = self.text.rstrip(".").lower()
        return not (self.text.endswith(".") and (stem in ABBREVIATIONS or (len(stem) == 1 and stem.isalpha())))


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF
            or 0x20000 <= o <= 0x2FFFF)


def _join(words: Sequence[Word]) -> str:
    """Words as written in the segment's text."""
    return "".join((" " if i and w.space else "") + w.text for i, w in enumerate(words))


def _line_chars(text: str) -> int:
    letters = [c for c in text if not c.isspace()]
    return LINE_CHARS_CJK if sum(map(_is_cjk, letters)) * 2 > len(letters) else LINE_CHARS


def _lines(words: Sequence[Word]) -> tuple[str, ...] | None:
    """The words on one line, or two balanced ones (after a comma where one fits); None if they do not fit."""
    text = _join(words)
    limit = _line_chars(text)
    if len(text) <= limit or len(words) == 1:  # one word longer than a line (a URL) stands alone
        return (text,)
    if len(text) > MAX_LINES * limit + 1:
        return None
    best, best_score = None, float("inf")
    for i in range(1, len(words)):
        top, bottom = _join(words[:i]), _join(words[i:])
        if len(top) > limit or len(bottom) > limit:
            continue
        score = abs(len(top) - len(bottom)) / limit - (0.5 if top.endswith(CLAUSE_END) else 0.0)
        if score < best_score:
            best, best_score = (top, bottom), score
    return best


def _fits(words: Sequence[Word]) -> bool:
    return len(words) == 1 or (words[-1].end_s - words[0].start_s <= MAX_S and _lines(words) is not None)


def _split(words: Sequence[Word]) -> list[Sequence[Word]]:
    """One phrase into cues that fit: each break where a clause ends, at the longest pause, or the fullest cue."""
    out: list[Sequence[Word]] = []
    while not _fits(words):
        capacity = _line_chars(_join(words)) * MAX_LINES
        best, best_score = 1, -1.0
        for k in range(1, len(words)):
            if not _fits(words[:k]):
                break
            gap = words[k].start_s - words[k - 1].end_s
            score = (len(_join(words[:k])) / capacity + (0.6 if words[k - 1].text.endswith(CLAUSE_END) else 0.0)
                     + 0.5 * min(gap / PAUSE_S, 1.0) - (0.5 if k == len(words) - 1 else 0.0))  # no orphan word
            if score > best_score:
                best, best_score = k, score
        out.append(words[:best])
        words = words[best:]
    return [*out, words]


def _phrases(words: Sequence[Word]) -> list[list[Word]]:
    """Runs of words between sentence ends and pauses."""
    out: list[list[Word]] = []
    for w in words:
        if out and not out[-1][-1].ends_sentence and w.start_s - out[-1][-1].end_s < PAUSE_S:
            out[-1].append(w)
        else:
            out.append([w])
    return out


def _merge_short(groups: list[list[Word]]) -> list[list[Word]]:
    """A cue that cannot last ``MIN_S`` before the next one starts joins it, when both fit in one cue."""
    out: list[list[Word]] = []
    for g in groups:
        if out and out[-1][-1].end_s - out[-1][0].start_s + max(0.0, g[0].start_s - out[-1][-1].end_s) < MIN_S \
                and _fits([*out[-1], *g]):
            out[-1] = [*out[-1], *g]
        else:
            out.append(g)
    return out


def _timed(cues: list[list[Word]]) -> list[Cue]:
    """Times for each cue: stretched to ``MIN_S`` into the silence around it, never over a neighbour."""
    out: list[Cue] = []
    for i, ws in enumerate(cues):
        lines = _lines(ws) or (_join(ws),)
        start, end = ws[0].start_s, min(ws[-1].end_s, ws[0].start_s + MAX_S)
        if out:
            start = max(start, out[-1].end_s)
        nxt = cues[i + 1][0].start_s if i + 1 < len(cues) else float("inf")
        if end - start < MIN_S:
            end = min(start + MIN_S, max(nxt, end))
        if end - start < MIN_S:
            start = max(end - MIN_S, out[-1].end_s if out else 0.0)
        out.append(Cue(round(start, 3), round(max(end, start + 0.001), 3), lines))
    return out


def _words(i: int, seg: Mapping[str, Any]) -> tuple[float, list[Word]]:
    """The segment's start and its words, checked (bad input is a ``UsageError`` naming the segment)."""
    try:
        start, end, text = float(seg["start_s"]), float(seg["end_s"]), str(seg["text"])
        timed = [Word(" ".join(str(w["word"]).split()), float(w["start_s"]), float(w["end_s"]))
                 for w in seg.get("words") or []]
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"subtitle segment {i} needs numeric 'start_s', 'end_s' and a 'text' "
                         "(and words with 'word', 'start_s', 'end_s')") from None
    if end < start:
        raise UsageError(f"subtitle segment {i} ends ({end}) before it starts ({start})")
    if timed := [w for w in timed if w.text]:
        return start, _spaced(" ".join(text.split()), sorted(timed, key=lambda w: w.start_s))
    # no word timings: words by spaces (characters in CJK), the segment's time shared out by length
    tokens = [(t, j == 0) for part in text.split()
              for j, t in enumerate([*part] if all(map(_is_cjk, part)) else [part])]
    total = sum(len(t) for t, _ in tokens) or 1
    out, t0 = [], start
    for tok, space in tokens:
        d = (end - start) * len(tok) / total
        out.append(Word(tok, t0, t0 + d, space))
        t0 += d
    return start, out


def _spaced(text: str, words: list[Word]) -> list[Word]:
    """Whether a space comes before each word, read from the segment's text (the words carry none)."""
    out, pos = [], 0
    for w in words:
        at = text.find(w.text, pos)
        if at < 0:  # the words and the text disagree: a space unless beside a CJK character
            out.append(Word(w.text, w.start_s, w.end_s, not (_is_cjk(w.text[0]) or (out and _is_cjk(out[-1].text[-1])))))
            continue
        out.append(Word(w.text, w.start_s, w.end_s, at == 0 or text[at - 1].isspace()))
        pos = at + len(w.text)
    return out


def cues(segments: Iterable[Mapping[str, Any]]) -> list[Cue]:
    """Subtitle cues of transcript segments (``text``, ``start_s``, ``end_s``, optional ``words``)."""
    groups: list[Sequence[Word]] = []
    for _, words in sorted((_words(i, seg) for i, seg in enumerate(segments)), key=lambda sw: sw[0]):
        for phrase in _phrases(words):  # a segment's end is a break too
            groups += _split(phrase)
    return _timed(_merge_short([list(g) for g in groups]))


def _timestamp(seconds: float, sep: str) -> str:
    ms_total = int(round(max(0.0, seconds) * 1000))
    h, rest = divmod(ms_total, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_webvtt(segments: Iterable[Mapping[str, Any]]) -> str:
    """A WebVTT document (``WEBVTT`` header, ``HH:MM:SS.mmm`` times, HTML-escaped text)."""
    out = ["WEBVTT", ""]
    for c in cues(segments):
        lines = [t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for t in c.lines]
        out += [f"{_timestamp(c.start_s, '.')} --> {_timestamp(c.end_s, '.')}", *lines, ""]
    return "\n".join(out)


def to_srt(segments: Iterable[Mapping[str, Any]]) -> str:
    """A SubRip document (numbered cues, ``HH:MM:SS,mmm`` times)."""
    out: list[str] = []
    for n, c in enumerate(cues(segments), 1):
        out += [str(n), f"{_timestamp(c.start_s, ',')} --> {_timestamp(c.end_s, ',')}",
                *(t.replace("-->", "→") for t in c.lines), ""]
    return "\n".join(out)
