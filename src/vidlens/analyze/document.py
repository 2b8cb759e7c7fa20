"""The versioned analysis document: one JSON object per video, the interface outside tools read.

Assembly gathers items from whichever analyzers produced them (by field name:
``shots``, ``transcript``, ``people``, ``objects``, ``texts``, ``cues``, ``moderation``, ``scene`` ...),
so a missing or failed analyzer leaves its lists empty and its error under
``errors`` instead of breaking the document. Every time-stamped item gets the
``shot_index`` of the shot its start falls in, lists are sorted by time, and tags
are derived last from everything else. The ``moderation`` and ``scene`` sections get
per-shot summaries of their samples here, where the shots are known.
``document_schema.json`` next to this file is the JSON Schema of the result; bump
``VERSION`` on any incompatible change.
"""

from __future__ import annotations

import bisect
import copy
import json
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from vidlens.analyze.builtin.tags import derive_tags
from vidlens.types import Video

SCHEMA = "vidlens.analysis"
VERSION = 2  # 2: tags listed once with their shots; scene tags are settings and families, not ImageNet names
_LISTS = ("transcript", "translation", "people", "objects", "texts", "cues", "scene_labels")
_VIDEO_FIELDS = ("id", "sha256", "uri", "size_bytes", "container", "duration_s", "fps", "fps_float", "width",
                 "height", "rotation", "frame_count", "has_audio", "variable_frame_rate")


@lru_cache(maxsize=1)
def document_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every built document satisfies."""
    return json.loads((Path(__file__).parent / "document_schema.json").read_text(encoding="utf-8"))


class _ShotIndex:
    """Which shot a time falls in (shots sorted by start; ``None`` before the first or with no shots)."""

    def __init__(self, shots: list[dict[str, Any]]) -> None:
        self.starts = [float(s["start_s"]) for s in shots]
        self.index = [s.get("index", i) for i, s in enumerate(shots)]

    def __call__(self, t: Any) -> int | None:
        if not self.starts or not isinstance(t, int | float):
            return None
        i = bisect.bisect_right(self.starts, float(t)) - 1
        return self.index[i] if i >= 0 else None


def _pts(shot: Mapping[str, Any]) -> dict[str, Any] | None:
    """The exact timing of a shot in stream ticks, from the detector's ``span`` and ``keyframe_pts``."""
    span = shot.get("span")
    if not isinstance(span, Mapping):
        return None
    start, end, tb, key = span.get("start"), span.get("end"), span.get("time_base"), shot.get("keyframe_pts")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(tb, str)):
        return None
    try:
        Fraction(tb)
    except (ValueError, ZeroDivisionError):
        return None
    return {"start": start, "end": end, "keyframe": key if isinstance(key, int) else None, "time_base": tb}


def _clean_shots(shots: Any) -> list[dict[str, Any]]:
    keep = ("index", "start_s", "end_s", "start_frame", "end_frame", "keyframe_frame", "transition_in",
            "keyframe_blob", "thumbnail_blob")
    good = [s for s in shots or [] if isinstance(s, Mapping) and "start_s" in s and "end_s" in s]
    out = []
    for i, s in enumerate(sorted(good, key=lambda s: float(s["start_s"]))):
        shot = {k: s[k] for k in keep if k in s}
        shot.setdefault("index", i)
        if (pts := _pts(s)) is not None:
            shot["pts"] = pts
            if pts["keyframe"] is not None:
                shot["keyframe_s"] = round(float(pts["keyframe"] * Fraction(pts["time_base"])), 6)
        out.append(shot)
    return out


def _gather(results: Mapping[str, Any], key: str, errors: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for name in sorted(results):
        doc = results[name]
        if not isinstance(doc, Mapping) or key not in doc or doc[key] is None:
            continue
        value = doc[key]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            errors[f"document.{key}"] = {"code": "bad_result",
                                         "message": f"analyzer '{name}' gave '{key}' that is not a list of objects"}
            continue
        for v in value:
            item = copy.deepcopy(v)
            item.setdefault("source", name)
            items.append(item)
    return items


def _first(results: Mapping[str, Any], key: str) -> Any:
    for name in sorted(results):
        doc = results[name]
        if isinstance(doc, Mapping) and doc.get(key) is not None:
            return copy.deepcopy(doc[key])
    return None


def _sort_key(item: Mapping[str, Any]) -> tuple[float, str]:
    t = item.get("start_s")
    if not isinstance(t, int | float):
        spans = item.get("spans") or [{}]
        t = spans[0].get("start_s") if isinstance(spans[0], Mapping) else None
    return (float(t) if isinstance(t, int | float) else float("inf"), json.dumps(item, sort_keys=True, default=str))


def _moderation(results: Mapping[str, Any], shot_of: _ShotIndex) -> dict[str, Any] | None:
    """The moderation section with per-shot maximum and mean scores added."""
    mod = _first(results, "moderation")
    if not isinstance(mod, dict) or not isinstance(mod.get("samples"), list):
        return mod
    by_shot: dict[int, list[float]] = {}
    for x in mod["samples"]:
        if isinstance(x, dict) and isinstance(x.get("score"), int | float) and (i := shot_of(x.get("t"))) is not None:
            by_shot.setdefault(i, []).append(float(x["score"]))
    mod["shots"] = [{"shot_index": i, "max": max(v), "mean": round(sum(v) / len(v), 4), "samples": len(v)}
                    for i, v in sorted(by_shot.items())]
    return mod


def _scene(results: Mapping[str, Any], shot_of: _ShotIndex, top: int = 5) -> dict[str, Any] | None:
    """The scene section with each shot's labels: mean score over its samples (a missing label counts 0)."""
    scene = _first(results, "scene")
    if not isinstance(scene, dict) or not isinstance(scene.get("samples"), list):
        return scene
    by_shot: dict[int, list[dict[str, float]]] = {}
    for x in scene["samples"]:
        if isinstance(x, dict) and (i := shot_of(x.get("t"))) is not None:
            by_shot.setdefault(i, []).append({str(y["label"]): float(y["score"]) for y in x.get("labels") or []
                                              if isinstance(y, dict) and "label" in y and "score" in y})
    shots = []
    for i, rows in sorted(by_shot.items()):
        names = {k for r in rows for k in r}
        mean = sorted(((sum(r.get(k, 0.0) for r in rows) / len(rows), k) for k in names), key=lambda m: (-m[0], m[1]))
        shots.append({"shot_index": i, "samples": len(rows),
                      "labels": [{"label": k, "score": round(v, 4)} for v, k in mean[:top]]})
    scene["shots"] = shots
    return scene


def _shot_objects(shots: list[dict[str, Any]], objects: list[dict[str, Any]], results: Mapping[str, Any]) -> None:
    """Each shot's objects as "3 person, 1 car": per label the most tracks matched at one sample, and its tracks.

    Counted from the detector's per-sample matches, not from track spans: a track broken
    into pieces, or one that missed a few samples, does not add to the count.
    """
    tracks: dict[int, Counter[str]] = {}
    for o in objects:
        if isinstance(o.get("shot_index"), int):
            tracks.setdefault(o["shot_index"], Counter())[str(o.get("label"))] += 1
    found = results.get("objects")
    live = found.get("live") if isinstance(found, Mapping) else None
    live = [x for x in live or [] if isinstance(x, Mapping) and isinstance(x.get("t"), int | float)
            and isinstance(x.get("counts"), Mapping)]
    for shot in shots:
        start, end = float(shot["start_s"]), float(shot["end_s"])
        peak: Counter[str] = Counter()
        for x in live:
            if start <= x["t"] < end:
                for label, k in x["counts"].items():
                    peak[label] = max(peak[label], int(k))
        here = tracks.get(shot["index"], Counter())
        rows = [{"label": label, "peak": max(1, peak[label]), "tracks": n} for label, n in here.items()]
        shot["objects"] = sorted(rows, key=lambda r: (-r["peak"], r["label"]))


def build_document(video: Video, results: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
    """Assemble the analysis document from analyzer results and analyzer errors, both by analyzer name."""
    errs: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (errors or {}).items()}
    results = {k: v for k, v in (results or {}).items() if isinstance(v, Mapping)}
    clean_shots = _clean_shots(_first(results, "shots"))
    shot_of = _ShotIndex(clean_shots)
    lists: dict[str, list[dict[str, Any]]] = {}
    for key in _LISTS:
        items = _gather(results, key, errs)
        for item in items:
            if key == "people":
                for sp in item.get("spans") or []:
                    if isinstance(sp, dict) and "shot_index" not in sp:
                        sp["shot_index"] = shot_of(sp.get("start_s"))
            elif "shot_index" not in item:
                item["shot_index"] = shot_of(item.get("start_s"))
        lists[key] = sorted(items, key=_sort_key)
    _shot_objects(clean_shots, lists["objects"], results)
    try:
        tags = derive_tags(results, clean_shots)
    except Exception as exc:  # tags are a summary: never let them cost the document
        tags = []
        errs["document.tags"] = {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}
    speech = results.get("speech", {})
    v = video.to_dict()
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "video": {k: v[k] for k in _VIDEO_FIELDS},
        "analyzers": sorted(set(results) | set(errors or {})),
        "shots": clean_shots,
        "language": speech.get("language") if isinstance(speech, Mapping) else None,
        "transcript": lists["transcript"],
        "translation": lists["translation"],
        "subtitles": _first(results, "subtitles"),
        "people": lists["people"],
        "objects": lists["objects"],
        "texts": lists["texts"],
        "scene_labels": lists["scene_labels"],
        "tags": tags,
        "cues": lists["cues"],
        "moderation": _moderation(results, shot_of),
        "scene": _scene(results, shot_of),
        "errors": errs,
    }
