"""Views of a stored analysis document: timeline lanes and searchable text. Pure functions, no I/O.

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


def search_entries(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Text worth finding: labelled items with their span (``None`` for video-wide ones, such as most tags)."""
    for it in items(document):
        if it.text:
            yield {"analyzer": it.analyzer[:128], "kind": it.kind[:64], "text": it.text[:4000],
                   "start_s": it.start_s, "end_s": it.end_s}


def timeline(document: Mapping[str, Any]) -> dict[str, Any]:
    """Shots and lanes of one video, as the API and the video page show them."""
    video = document.get("video") or {}
    return {"video_id": video.get("id"), "duration_s": video.get("duration_s"),
            "shots": list(document.get("shots") or []), "tracks": lanes(document)}


MAX_LANES_PER_GROUP = 40
INSIGHT_GROUPS = ("people", "labels", "keywords", "text", "cues")


def _box(v: Any) -> list[float] | None:
    ok = isinstance(v, list) and len(v) == 4 and all(_num(x) is not None for x in v)
    return [float(x) for x in v] if ok else None


def insights(document: Mapping[str, Any], names: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """The insights panel: per group (people, labels, keywords, text, cues) one lane per person, label, tag,
    text or cue kind, each item ``{start_s, end_s, text, box, box_t}``; video-wide items span the video.

    ``names`` maps a person's ``person_id`` to the name given in the people gallery. Boxes are the best box
    of an object track or a person's face (display pixels of the original), shown while the item is on screen.
    """
    video = document.get("video") or {}
    duration = _num(video.get("duration_s")) or 0.0
    names = names or {}
    groups: dict[str, dict[str, dict[str, Any]]] = {g: {} for g in INSIGHT_GROUPS}

    def add(group: str, key: str, title: str, it: Mapping[str, Any], start: Any, end: Any, text: str | None,
            box: list[float] | None = None, extra: Mapping[str, Any] | None = None) -> None:
        s = _num(start)
        e = _num(end)
        if s is None:
            s, e = 0.0, duration  # video-wide: the whole video
        lanes_ = groups[group]
        if key not in lanes_ and len(lanes_) >= MAX_LANES_PER_GROUP:
            return
        lane = lanes_.setdefault(key, {"key": key, "title": title, "items": [], **(extra or {})})
        if len(lane["items"]) < MAX_ITEMS_PER_LANE:
            lane["items"].append({"start_s": s, "end_s": max(s, e if e is not None else s), "text": text,
                                  "box": box, "box_t": _num(it.get("best_t"))})

    for p in document.get("people") or []:
        if not isinstance(p, Mapping):
            continue
        pid = str(p.get("person_id"))
        name = names.get(pid) or (p.get("identity") if isinstance(p.get("identity"), str) else None)
        title = name or f"Person {pid}"
        for sp in p.get("spans") or []:
            if isinstance(sp, Mapping):
                s, e, bt = _num(sp.get("start_s")), _num(sp.get("end_s")), _num(p.get("best_t"))
                here = bt is not None and s is not None and s <= bt <= (e if e is not None else s)
                add("people", pid, title, p, s, e, title, _box(p.get("best_box")) if here else None,
                    {"person_id": pid, "thumbnail_blob": p.get("thumbnail_blob"), "named": name is not None})
    for o in document.get("objects") or []:
        if isinstance(o, Mapping) and isinstance(o.get("label"), str):
            add("labels", o["label"], o["label"], o, o.get("start_s"), o.get("end_s"), o["label"], _box(o.get("best_box")))
    for s in document.get("scene_labels") or []:
        if isinstance(s, Mapping) and isinstance(s.get("label"), str):
            add("labels", "scene:" + s["label"], s["label"], s, s.get("start_s"), s.get("end_s"), s["label"])
    for t in document.get("tags") or []:
        if isinstance(t, Mapping) and isinstance(t.get("tag"), str):
            ev = t.get("evidence")
            why = "; ".join(str(e) for e in ev) if isinstance(ev, list) else str(ev or t["tag"])
            add("keywords", f"{t.get('kind')}:{t['tag']}", t["tag"], t, t.get("start_s"), t.get("end_s"), why,
                extra={"kind": t.get("kind")})
    for t in document.get("texts") or []:
        if isinstance(t, Mapping) and isinstance(t.get("text"), str) and t["text"].strip():
            add("text", t["text"].strip(), t["text"].strip(), t, t.get("start_s"), t.get("end_s"), t["text"].strip())
    for c in document.get("transcript") or []:
        if isinstance(c, Mapping) and isinstance(c.get("text"), str):
            add("cues", "transcript", "Transcript", c, c.get("start_s"), c.get("end_s"), c["text"].strip())
    for c in document.get("cues") or []:
        if isinstance(c, Mapping) and isinstance(c.get("kind"), str):
            add("cues", "cue:" + c["kind"], c["kind"], c, c.get("start_s"), c.get("end_s"), c["kind"])
    for f in ((document.get("moderation") or {}).get("flagged") or []):
        if isinstance(f, Mapping):
            add("cues", "moderation", "Flagged (nsfw)", f, f.get("start_s"), f.get("end_s"),
                f"nsfw {f.get('max_score')}")
    return {"duration_s": duration, "width": video.get("width"), "height": video.get("height"),
            "groups": [{"name": g, "lanes": list(groups[g].values())} for g in INSIGHT_GROUPS]}
