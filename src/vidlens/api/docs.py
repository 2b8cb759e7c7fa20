"""Read any analyzer's result document generically: timed items for the timeline and search.

No analyzer is special-cased except ``shots``, whose list is the shot strip. An item is
*timed* when it is a dict with a numeric ``start_s``; it is *labelled* by the first text
field found among ``TEXT_KEYS``. A list of such dicts under key ``objects`` becomes the
track ``objects``; nested lists get dotted names (``speech.segments``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TEXT_KEYS = (
    "text",
    "label",
    "name",
    "person",
    "identity",
    "title",
    "caption",
    "tag",
    "class",
    "category",
    "speaker",
    "word",
    "kind",
)
LIST_TEXT_KEYS = ("tags", "labels", "people", "keywords")
MAX_ITEMS_PER_TRACK = 2000


@dataclass
class Track:
    analyzer: str
    name: str
    items: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "name": self.name,
            "items": self.items,
            "truncated": self.truncated,
        }


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def item_text(item: dict[str, Any]) -> str | None:
    for k in TEXT_KEYS:
        v = item.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    for k in LIST_TEXT_KEYS:
        v = item.get(k)
        if isinstance(v, list) and any(isinstance(x, str) for x in v):
            return ", ".join(x for x in v if isinstance(x, str))
    return None


def _timed_lists(doc: Any, path: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            sub = f"{path}.{k}" if path else str(k)
            if (
                isinstance(v, list)
                and v
                and any(isinstance(x, dict) and _num(x.get("start_s")) is not None for x in v)
            ):
                yield sub, [x for x in v if isinstance(x, dict) and _num(x.get("start_s")) is not None]
            else:
                yield from _timed_lists(v, sub)


def tracks(analyzer: str, doc: dict[str, Any] | None) -> list[Track]:
    """Every list of timed items in ``doc`` as a track of ``{start_s, end_s, text, detail}``."""
    out = []
    for name, items in _timed_lists(doc or {}):
        if analyzer == "shots" and name == "shots":
            continue
        t = Track(analyzer, name)
        for it in items[:MAX_ITEMS_PER_TRACK]:
            start = _num(it["start_s"]) or 0.0
            end = _num(it.get("end_s"))
            detail = {
                k: v
                for k, v in it.items()
                if k not in ("start_s", "end_s") and isinstance(v, (str, int, float, bool)) and v is not None
            }
            t.items.append(
                {
                    "start_s": start,
                    "end_s": max(start, end if end is not None else start),
                    "text": item_text(it),
                    "detail": detail,
                }
            )
        t.truncated = len(items) > MAX_ITEMS_PER_TRACK
        out.append(t)
    return out


def search_entries(analyzer: str, doc: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """Text worth finding in ``doc``: labelled timed items, plus document-level tag lists."""
    for name, items in _timed_lists(doc or {}):
        for it in items:
            text = item_text(it)
            if text:
                start = _num(it["start_s"])
                end = _num(it.get("end_s"))
                yield {
                    "analyzer": analyzer,
                    "kind": name[:64],
                    "text": text[:4000],
                    "start_s": start,
                    "end_s": end if end is not None else start,
                }
    if isinstance(doc, dict):
        for k in LIST_TEXT_KEYS:
            v = doc.get(k)
            if isinstance(v, list):
                for x in v:
                    text = x if isinstance(x, str) else item_text(x) if isinstance(x, dict) else None
                    if text:
                        yield {
                            "analyzer": analyzer,
                            "kind": k,
                            "text": text[:4000],
                            "start_s": None,
                            "end_s": None,
                        }
