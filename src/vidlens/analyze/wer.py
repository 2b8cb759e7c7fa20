"""Word error rate with the text normalisation ASR evaluations use.

Case, punctuation and hyphens are dropped, numbers are spelled out ("2" and "two"
count as the same word, "F2" is "f two") and a few abbreviations are expanded, so
the score measures recognition, not formatting.
"""

from __future__ import annotations

import re

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ABBREV = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "ok": "okay"}


def number_words(n: int) -> str:
    """English words for 0 <= n < 10000; longer numbers are read digit by digit."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    if n < 10000:
        rest = n % 1000
        return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


def normalize(text: str) -> list[str]:
    """Lower-case words with digits spelled out and punctuation removed."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", t)  # "f2" -> "f 2"
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # "1,000" -> "1000"
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    words: list[str] = []
    for w in t.split():
        w = w.strip("'")
        if not w:
            continue
        if w.isdigit():
            words.extend(number_words(int(w)).split())
        else:
            words.append(_ABBREV.get(w, w))
    return words


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference words) after normalisation; sum both over a corpus, then divide."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    return edit_distance(ref, hyp), len(ref)
