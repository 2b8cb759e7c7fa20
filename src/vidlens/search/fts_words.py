"""The words ranker on SQLite: FTS5's bm25 over a bounded first cut of the moments holding the most query words.

``ORDER BY bm25(...)`` scores every moment holding any query word, and a query of common words matches
a large share of a big library: FTS5 then reads each match's size and positions and counts every
word's documents again, which at a million moments takes seconds (docs/benchmarks.md). Here the moments to score
are cut first: at most ``pool`` of them, those holding the most query words (``backends.cut_scans``,
rarest words first: all the words, then all but one, ..., then any; each level one FTS5 query that only
lists rowids, run while the cut is not full). The cut is scored with the formula of FTS5's ``bm25()`` (k1 1.2, b 0.75)
and the index's own statistics: its row and token counts (the averages record FTS5 keeps for bm25) and
each word's document count (an ``fts5vocab`` table over the index, kept while the index is unchanged).
When no more than ``pool`` moments hold any query word, every one is scored: the ranking is then
FTS5's own over all matches.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import threading
import unicodedata
from collections import Counter

from sqlalchemy.engine import Connection

from vidlens.search.backends import FTS, FTS_VOCAB, cut_scans

BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25() constants
_AVERAGES, _STRUCTURE = 1, 10  # rowids of FTS5's averages and structure records in its %_data table
_TOKEN = re.compile(r"[^\W_]+")  # unicode61's token characters: letters and digits ("_" separates words)
_UNPLAIN = re.compile(r"[_\u00c0-\u1eff]")  # what unicode61 splits on or folds within ``terms``' words


@functools.lru_cache(maxsize=8192)
def _base(c: str) -> str:
    """``c`` without its diacritics where unicode61 (remove_diacritics 2) removes them: Latin letters."""
    if not 0xC0 <= ord(c) < 0x1F00:
        return c
    d = unicodedata.normalize("NFD", c)
    return d[0] if len(d) > 1 and d[0].isascii() else c


def fts_tokens(text: str) -> list[str]:
    """The words FTS5 indexes for ``text`` (a moment's ``terms``: lower-case, NFKC, ``\\w+`` words
    separated by spaces, read as they are unless a word holds "_" or a Latin letter with diacritics)."""
    text = text.lower()
    if not _UNPLAIN.search(text):
        return text.split()
    return [w if w.isascii() else "".join(map(_base, w)) for w in _TOKEN.findall(text)]


def _varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers, one after another (FTS5's records are written with them)."""
    out, i = [], 0
    while i < len(blob):
        v = 0
        for j in range(9):
            b = blob[i]
            i += 1
            if j == 8:
                v = (v << 8) | b
                break
            v = (v << 7) | (b & 0x7F)
            if b < 0x80:
                break
        out.append(v)
    return out


class IndexStats:
    """The word index's row count, token count and the document counts of the words asked for so far,
    kept while the index is unchanged (its averages and structure records, which every write changes,
    are the same bytes). A word's count costs a pass over its list of moments, so it is not taken again
    for every query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[bytes, bytes] | None = None
        self._docs: dict[str, int] = {}

    def read(self, conn: Connection, words: list[str]) -> tuple[int, int, dict[str, int]]:
        """(moments indexed, words indexed in all, {word: moments holding it})."""
        records = dict(conn.exec_driver_sql(
            f"SELECT id, block FROM {FTS}_data WHERE id IN ({_AVERAGES}, {_STRUCTURE})").all())
        averages = bytes(records.get(_AVERAGES) or b"")
        key = (averages, bytes(records.get(_STRUCTURE) or b""))
        with self._lock:
            if key != self._key:
                self._key, self._docs = key, {}
            docs = {w: self._docs[w] for w in words if w in self._docs}
        for w in words:
            if w not in docs:
                docs[w] = int(conn.exec_driver_sql(f"SELECT doc FROM {FTS_VOCAB} WHERE term = ?", (w,)).scalar() or 0)
        with self._lock:
            if key == self._key:
                self._docs.update(docs)
        counts = _varints(averages)
        return (counts[0], sum(counts[1:]), docs) if counts else (0, 0, docs)


def _levels(scans: list[str]) -> list[list[str]]:
    """``cut_scans`` grouped by how many words each needs, most first: FTS5 answers a level's combinations
    in one query as well as one by one, so a level is one query."""
    return [list(group) for _, group in itertools.groupby(scans, key=lambda scan: scan.count(" & "))]


def _expression(combos: list[str]) -> str:
    """A level of ``cut_scans`` (to_tsquery syntax over quoted words) as one FTS5 MATCH expression."""
    return " OR ".join(f"({c.replace(' & ', ' AND ').replace(' | ', ' OR ')})" for c in combos)


def fts_words(conn: Connection, query_words: list[str], k: int, pool: int, stats: IndexStats
              ) -> list[tuple[int, float]]:
    """The ``k`` moments best ranked by FTS5's bm25 for any of ``query_words`` (lower is better, as
    ``bm25()`` gives it), scored over a first cut of at most ``pool`` moments holding the most of them."""
    words = list(dict.fromkeys(w for q in query_words for w in fts_tokens(q)))
    if not words:
        return []
    n_rows, n_tokens, docs = stats.read(conn, words)
    words = sorted((w for w in words if docs[w]), key=lambda w: docs[w])  # rarest first; absent words match nothing
    if not words or not n_rows:
        return []
    cut: list[int] = []
    for combos in _levels(cut_scans([f'"{w}"' for w in words])):
        taken = f" AND rowid NOT IN ({','.join(map(str, cut))})" if cut else ""  # ints: safe to inline
        cut += [r[0] for r in conn.exec_driver_sql(
            f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH ?{taken} LIMIT ?", (_expression(combos), pool - len(cut)))]
        if len(cut) >= pool:
            break
    if not cut:
        return []
    held = conn.exec_driver_sql(
        f"SELECT id, terms FROM search_moments WHERE id IN ({','.join(map(str, cut))})").all()
    avgdl = n_tokens / n_rows
    idf = {}
    for w in words:
        idf[w] = math.log((n_rows - docs[w] + 0.5) / (docs[w] + 0.5))
        if idf[w] <= 0.0:
            idf[w] = 1e-6
    scored = []
    for mid, text in held:
        toks = fts_tokens(text or "")
        freq, size = Counter(toks), len(toks)
        score = 0.0
        for w in words:
            if f := freq.get(w, 0):
                score += idf[w] * ((f * (BM25_K1 + 1.0)) / (f + BM25_K1 * (1 - BM25_B + BM25_B * size / avgdl)))
        scored.append((mid, -score))
    scored.sort(key=lambda r: (r[1], r[0]))
    return scored[:k]
