"""Views of a stored analysis document: timeline lanes. Pure functions, no I/O.

Every list section of the document (``transcript``, ``objects``, ``texts``, ``cues``, ``tags`` ... and
whatever a later version adds) is read the same way: an item is *timed* when it has a numeric
``start_s`` and *labelled* by the first text field among ``TEXT_KEYS``. People are the one section
read per span, since a person comes and goes. Shots are the shot strip, not a lane.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

TEXT_KEYS = ("text", "label", "name", "identity", "title", "caption", "tag", "class", "category", "speaker",
             "word", "kind")
MAX_ITEMS_PER_LANE = 2000
_NOT_LANES = ("shots", "analyzers", "people")


@dataclass(frozen=True)
class Item:
    analyzer: str  # the analyzer that found it (the item's ``source``), else its section
    kind: str  # the document section ("transcript", "objects", "moderation.flagged" ...)
    text: str | None
    start_s: float | None
    end_s: float | None
    detail: dict[str, Any] = field(default_factory=dict)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def item_text(item: Mapping[str, Any]) -> str | None:
    for k in TEXT_KEYS:
        v = item.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _item(section: str, path: str, it: Mapping[str, Any], text: str | None, start: Any, end: Any) -> Item:
    s, e = _num(start), _num(end)
    detail = {k: v for k, v in it.items() if k not in ("start_s", "end_s", "spans")
              and isinstance(v, str | int | float | bool)}
    source = it.get("source")
    return Item(source if isinstance(source, str) else section, path, text, s,
                None if s is None else max(s, e if e is not None else s), detail)


def _lists(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    for k, v in node.items():
        sub = f"{path}.{k}" if path else str(k)
        if isinstance(v, list):
            yield sub, [x for x in v if isinstance(x, Mapping)]
        elif isinstance(v, Mapping) and path == "" and k not in ("video", "errors"):
            yield from _lists(v, sub)  # one level down: moderation.flagged, scene.samples ...


def items(document: Mapping[str, Any]) -> Iterator[Item]:
    """Every item of every list section, people once per span."""
    for path, xs in _lists(document):
        section = path.split(".")[0]
        if path in _NOT_LANES:
            continue
        for it in xs:
            yield _item(section, path, it, item_text(it), it.get("start_s"), it.get("end_s"))
    for p in document.get("people") or []:
        if not isinstance(p, Mapping):
            continue
        for sp in p.get("spans") or []:
            if isinstance(sp, Mapping):
                yield _item("people", "people", p, item_text(p), sp.get("start_s"), sp.get("end_s"))


def lanes(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The timeline: one lane per (analyzer, section) with timed items, ``{start_s, end_s, text, detail}``."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for it in items(document):
        if it.start_s is None:
            continue
        lane = out.setdefault((it.analyzer, it.kind),
                              {"analyzer": it.analyzer, "name": it.kind, "items": [], "truncated": False})
        text = it.text or (f"person {it.detail.get('person_id')}" if it.kind == "people" else None)
        if len(lane["items"]) < MAX_ITEMS_PER_LANE:
            lane["items"].append({"start_s": it.start_s, "end_s": it.end_s, "text": text, "detail": it.detail})
        else:
            lane["truncated"] = True
    return [out[k] for k in sorted(out)]


def timeline(document: Mapping[str, Any]) -> dict[str, Any]:
    """Shots and lanes of one video, as the API and the video page show them."""
    video = document.get("video") or {}
    return {"video_id": video.get("id"), "duration_s": video.get("duration_s"),
            "shots": list(document.get("shots") or []), "tracks": lanes(document)}
