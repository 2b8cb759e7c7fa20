"""Highlight reels to a target length, scored from the analysis document, never cutting inside speech.

The timeline is split into **atoms** that may be kept or dropped whole: every transcribed sentence
(whisper's segments, merged where they overlap) is one atom, so a cut can never fall inside a word,
and the stretches between sentences are cut at the source's shot boundaries and into pieces of one
to two seconds. Each atom is scored per second from what the document knows about it (speech, the
video's own keywords in it, people on screen, on-screen text, audio energy, a new shot starting),
and black or frozen picture counts against it. A 0/1 knapsack over whole frames then picks the
atoms with the most score whose total length is within ``tolerance_s`` of the target, so the reel
lands on its length without trimming a sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from vidlens.edit.decisions import DecisionList, from_marks
from vidlens.errors import UsageError

WEIGHTS = {"speech": 0.30, "keywords": 0.15, "people": 0.15, "text": 0.10, "energy": 0.20, "new_shot": 0.10}
PENALTY = {"black": 1.0, "frozen": 0.6}
GAP_PIECE_S = (1.0, 2.0)
_WORD = re.compile(r"[^\W\d_]{4,}|[\u4e00-\u9fff]{2,}", re.UNICODE)
_STOP = frozenset("that this with have from they them there their what when which would about were been just "
                  "your into than then some very will like know also more here only over such".split())


@dataclass(frozen=True)
class Atom:
    start: int
    end: int
    speech: bool
    scores: dict[str, float]

    @property
    def score(self) -> float:
        return sum(WEIGHTS.get(k, 0.0) * v for k, v in self.scores.items()) - sum(
            PENALTY.get(k, 0.0) * v for k, v in self.scores.items())


def _frames(t: float, fps: Fraction, rnd: Any = round) -> int:
    return int(rnd(t * float(fps)))


def _coverage(spans: Sequence[tuple[float, float]], a: float, b: float) -> float:
    covered = sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)
    return min(1.0, covered / max(b - a, 1e-9))


def keywords(document: Mapping[str, Any], top: int = 12) -> set[str]:
    """The video's own keywords: its most repeated content words (and its speech/topic tags)."""
    counts: Counter[str] = Counter()
    for seg in document.get("transcript") or []:
        counts.update(w.lower() for w in _WORD.findall(str(seg.get("text", ""))) if w.lower() not in _STOP)
    words = {w for w, n in counts.most_common(top) if n > 1}
    for tag in document.get("tags") or []:
        if tag.get("kind") in ("speech", "topic"):
            words.add(str(tag.get("tag", "")).lower())
    return words


def atoms(document: Mapping[str, Any], fps: Fraction, frame_count: int,
          levels: np.ndarray | None = None) -> list[Atom]:
    """The keep-or-drop units of the timeline, scored."""
    speech: list[list[int]] = []
    for seg in sorted(document.get("transcript") or [], key=lambda s: s["start_s"]):
        a = max(0, _frames(seg["start_s"], fps, math.floor))
        b = min(frame_count, _frames(seg["end_s"], fps, math.ceil))
        if b <= a:
            continue
        if speech and a <= speech[-1][1]:
            speech[-1][1] = max(speech[-1][1], b)
        else:
            speech.append([a, b])
    cuts = sorted({_frames(s["start_s"], fps) for s in document.get("shots") or []} - {0})
    bounds: list[tuple[int, int, bool]] = []
    pos = 0
    for a, b in [*speech, [frame_count, frame_count]]:
        if a > pos:  # a stretch without speech: cut at shot boundaries, then into 1-2 s pieces
            edges = [pos, *[c for c in cuts if pos < c < a], a]
            for x, y in zip(edges[:-1], edges[1:], strict=True):
                n = max(1, round((y - x) / (float(fps) * GAP_PIECE_S[1])))
                step = (y - x) / n
                pts = [x + round(i * step) for i in range(n)] + [y]
                bounds += [(p, q, False) for p, q in zip(pts[:-1], pts[1:], strict=True) if q > p]
        if b > a:
            bounds.append((a, b, True))
        pos = max(pos, b)
    words = keywords(document)
    people = [(sp["start_s"], sp["end_s"]) for p in document.get("people") or [] for sp in p.get("spans", [])]
    people += [(o["start_s"], o["end_s"]) for o in document.get("objects") or [] if o.get("label") == "person"]
    texts = [(t["start_s"], t["end_s"]) for t in document.get("texts") or []]
    cues = {k: [(c["start_s"], c["end_s"]) for c in document.get("cues") or [] if c.get("kind") == k]
            for k in PENALTY}
    transcript = document.get("transcript") or []
    peak_energy = float(levels.max()) if levels is not None and levels.size else 0.0
    out = []
    for a, b, is_speech in bounds:
        ta, tb = a / float(fps), b / float(fps)
        said = " ".join(str(s.get("text", "")) for s in transcript if s["start_s"] < tb and s["end_s"] > ta)
        found = [w for w in _WORD.findall(said) if w.lower() in words]
        scores = {
            "speech": 1.0 if is_speech else 0.0,
            "keywords": min(1.0, len(found) / 3.0),
            "people": _coverage(people, ta, tb),
            "text": _coverage(texts, ta, tb),
            "energy": float(np.sqrt(levels[a:b].mean() / peak_energy)) if peak_energy and b > a else 0.0,
            "new_shot": 1.0 if any(a <= c < min(b, a + round(float(fps))) for c in cuts) else 0.0,
        }
        scores.update({k: _coverage(v, ta, tb) for k, v in cues.items()})
        out.append(Atom(a, b, is_speech, scores))
    return out


def choose(items: Sequence[Atom], lo: int, hi: int) -> list[bool]:
    """The atoms (0/1 knapsack over frames) with the most score whose total length is in [lo, hi] frames."""
    neg = -1e18
    best = np.full(hi + 1, neg)
    best[0] = 0.0
    took = np.zeros((len(items), hi + 1), bool)
    for i, atom in enumerate(items):
        w = atom.end - atom.start
        if w > hi:
            continue
        # value per frame, shifted positive so a longer good atom beats a shorter one
        value = (atom.score + 1.0) * w
        cand = np.full(hi + 1, neg)
        cand[w:] = best[:-w] + value if w else best + value
        better = cand > best
        took[i] = better
        best = np.where(better, cand, best)
    window = best[lo:hi + 1]
    if window.size == 0 or window.max() <= neg / 2:
        raise UsageError("no set of whole sentences and pieces fills the target length; try another length")
    w = lo + int(np.argmax(window))
    keep = [False] * len(items)
    for i in range(len(items) - 1, -1, -1):
        if took[i, w]:
            keep[i] = True
            w -= items[i].end - items[i].start
    return keep


def highlight_decisions(source: str, document: Mapping[str, Any], fps: Fraction, frame_count: int,
                        target_s: float, *, levels: np.ndarray | None = None, tolerance_s: float = 1.0,
                        base: DecisionList | None = None) -> DecisionList:
    """A reel of about ``target_s`` seconds; with ``base`` (e.g. silence removal), only from what it kept."""
    if target_s <= 0:
        raise UsageError(f"highlight length must be > 0 seconds, got {target_s}")
    units = atoms(document, fps, frame_count, levels)
    if base is not None:  # an atom survives only where the earlier edit kept all of it
        kept = [(s.start, s.end) for s in base.kept()]
        units = [u for u in units if any(a <= u.start and u.end <= b for a, b in kept)]
    total = sum(u.end - u.start for u in units)
    per_s = float(fps)
    lo, hi = max(1, math.ceil((target_s - tolerance_s) * per_s)), math.floor((target_s + tolerance_s) * per_s)
    if total <= hi:
        keep = [True] * len(units)
        note = f"the material ({total / per_s:.1f} s) is not longer than the target: all of it is kept"
    else:
        keep = choose(units, lo, hi)
        note = None
    marks, scores = [], []
    pos = 0
    for u, k in zip(units, keep, strict=True):
        if u.start > pos:
            marks.append((pos, u.start, False, "removed earlier", 1.0))
            scores.append({})
        kind = "sentence" if u.speech else "picture"
        reason = f"highlight: {kind}" if k else f"below the cut: {kind}"
        marks.append((u.start, u.end, k, reason, 1.0))
        scores.append({**u.scores, "score": u.score})
        pos = u.end
    if pos < frame_count:
        marks.append((pos, frame_count, False, "removed earlier", 1.0))
        scores.append({})
    dl = from_marks(source, fps, frame_count, marks, scores)
    return dl.with_operation("highlights", highlights={
        "target_s": target_s, "tolerance_s": tolerance_s, "weights": WEIGHTS, "penalties": PENALTY,
        "keywords": sorted(keywords(document)), **({"note": note} if note else {})})
