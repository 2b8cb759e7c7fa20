"""The moments of one stored document: what a search hit can be. Pure functions, no I/O.

A moment is a span of one video with the text that describes it and, where the document has them,
the keys of the vectors that find it by picture or face:

| kind | from | text | extra |
|---|---|---|---|
| ``speech`` | ``transcript`` | the segment | its language |
| ``translation`` | ``translation`` | the English of the segment | ``en`` |
| ``text`` | ``texts`` (OCR) | the text on screen | its language |
| ``object`` | ``objects`` | the label of the track | label |
| ``person`` | each span of each of ``people`` | identity, else "person N" | face embedding |
| ``tag`` | ``tags`` | the tag | the tag's shots, else the whole video |
| ``shot`` | ``shots`` | objects and scene words of the shot | keyframe thumbnail |
| ``frame`` | ``scene.samples`` | top labels of the sample | keyframe feature blob |
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

MAX_TEXT = 2000


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _str(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _shot_at(shots: list[Mapping[str, Any]], t: float) -> Mapping[str, Any] | None:
    for s in shots:
        start, end = _num(s.get("start_s")), _num(s.get("end_s"))
        if start is not None and end is not None and start <= t < end:
            return s
    return shots[-1] if shots and t >= (_num(shots[-1].get("start_s")) or 0.0) else None


def _moment(kind: str, start: float, end: float, text: str, shots: list[Mapping[str, Any]],
            **extra: Any) -> dict[str, Any]:
    shot = _shot_at(shots, start)
    return {"kind": kind, "start_s": round(start, 3), "end_s": round(max(start, end), 3), "text": text[:MAX_TEXT],
            "language": extra.pop("language", None), "label": extra.pop("label", None),
            "person": extra.pop("person", None), "shot_index": shot.get("index") if shot else None,
            "thumbnail_blob": (shot.get("thumbnail_blob") or shot.get("keyframe_blob")) if shot else None,
            "image_blob": extra.pop("image_blob", None), "face": extra.pop("face", None)}


def _face(values: Any) -> bytes | None:
    if not isinstance(values, list) or not values or not all(_num(v) is not None for v in values):
        return None
    v = np.asarray(values, np.float32)
    n = float(np.linalg.norm(v))
    return (v / n).astype("<f4").tobytes() if n > 1e-9 else None


def _shot_text(shot: Mapping[str, Any], labels: list[str]) -> str:
    objs = [f"{o['peak']} {o['label']}" for o in shot.get("objects") or []
            if isinstance(o, Mapping) and _str(o.get("label")) and isinstance(o.get("peak"), int)]
    return "; ".join(x for x in (", ".join(objs), ", ".join(labels)) if x)


def moments(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every moment of ``document`` (docs/formats.md), in section order."""
    video = document.get("video") or {}
    duration = _num(video.get("duration_s")) or 0.0
    shots = [s for s in document.get("shots") or [] if isinstance(s, Mapping)]
    doc_lang = _str(document.get("language"))
    for kind, section in (("speech", "transcript"), ("translation", "translation"), ("text", "texts")):
        for it in document.get(section) or []:
            text, start = _str(it.get("text")) if isinstance(it, Mapping) else None, None
            if text is None or (start := _num(it.get("start_s"))) is None:
                continue
            lang = _str(it.get("language")) or ("en" if kind == "translation" else doc_lang if kind == "speech"
                                                else None)
            yield _moment(kind, start, _num(it.get("end_s")) or start, text, shots, language=lang)
    for o in document.get("objects") or []:
        label = _str(o.get("label")) if isinstance(o, Mapping) else None
        if label is None or (start := _num(o.get("start_s"))) is None:
            continue
        yield _moment("object", start, _num(o.get("end_s")) or start, label, shots, label=label[:128])
    for p in document.get("people") or []:
        if not isinstance(p, Mapping):
            continue
        identity = _str(p.get("identity"))
        face = _face(p.get("embedding"))
        for sp in p.get("spans") or []:
            if isinstance(sp, Mapping) and (start := _num(sp.get("start_s"))) is not None:
                yield _moment("person", start, _num(sp.get("end_s")) or start,
                              identity or f"person {p.get('person_id')}", shots, label=identity,
                              person=str(p.get("person_id"))[:64], face=face)
    for t in document.get("tags") or []:
        tag = _str(t.get("tag")) if isinstance(t, Mapping) else None
        if tag is None:
            continue
        spans = ([(_num(t.get("start_s")), _num(t.get("end_s")))] if _num(t.get("start_s")) is not None else
                 [(_num(s.get("start_s")), _num(s.get("end_s"))) for s in shots if s.get("index") in (t.get("shots") or [])]
                 or [(0.0, duration)])
        for start, end in spans:
            yield _moment("tag", start or 0.0, end if end is not None else duration, tag, shots, label=tag[:128])
    scene = document.get("scene") if isinstance(document.get("scene"), Mapping) else {}
    per_shot: dict[int, list[str]] = {}
    for s in scene.get("shots") or []:
        if isinstance(s, Mapping) and isinstance(s.get("shot_index"), int):
            per_shot[s["shot_index"]] = [x["label"] for x in (s.get("labels") or [])[:3]
                                         if isinstance(x, Mapping) and _str(x.get("label"))]
    for s in shots:
        start, end = _num(s.get("start_s")), _num(s.get("end_s"))
        if start is None:
            continue
        text = _shot_text(s, per_shot.get(s.get("index"), []))
        yield _moment("shot", start, end or start, text or f"shot {s.get('index')}", shots)
    samples = [x for x in scene.get("samples") or [] if isinstance(x, Mapping) and _num(x.get("t")) is not None]
    for i, x in enumerate(samples):
        t = _num(x["t"]) or 0.0
        nxt = _num(samples[i + 1]["t"]) if i + 1 < len(samples) else duration
        labels = [y["label"] for y in (x.get("labels") or [])[:3] if isinstance(y, Mapping) and _str(y.get("label"))]
        blob = _str(x.get("embedding_blob"))
        if blob is not None:
            yield _moment("frame", t, max(t, nxt or t), ", ".join(labels) or "frame", shots, image_blob=blob)
