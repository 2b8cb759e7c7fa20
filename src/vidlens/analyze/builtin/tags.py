"""Tags for the whole video and for each shot, derived from the other analyzers' results.

Tags are a summary, not a model: every tag is computed from items already in the
results (object tracks, people, on-screen text, the transcript, picture statistics,
scene labels) and lists its evidence in words, so a user can check why it is there.
This runs after every analyzer, inside document assembly, and never fails the
document: results it cannot read are simply not used.

Tag kinds: ``object``, ``people``, ``text``, ``speech``, ``language``, ``topic``,
``style``, ``scene`` and ``moderation`` (``nsfw`` when a content-moderation score
reaches its threshold).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# Short English stopword list (function words, pronouns, auxiliaries, fillers): enough for
# "frequent content words" on transcripts; not a linguistic resource.
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
even ever every few for from further get gets getting go goes going gone got had hadn't has hasn't have haven't
having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is
isn't it it's its itself just know let let's like made make many may me might more most much must mustn't my
myself need never no nor not now of off oh ok okay on once one only or other ought our ours ourselves out over own
really right said same say says see shall shan't she she'd she'll she's should shouldn't so some still such take
than that that's the their theirs them themselves then there there's these they they'd they'll they're they've
thing things think this those though through to too two under until up upon us very was wasn't way we we'd we'll
we're we've well were weren't what what's when when's where where's whether which while who who's whom why why's
will with won't would wouldn't yeah yes yet you you'd you'll you're you've your yours yourself yourselves
""".split())
_WORD = re.compile(r"[a-z][a-z'\-]+")
MIN_OBJECT_S = 1.0
SHOT_OVERLAP = 0.3  # an item counts for a shot when it covers this share of the shot (or 1 s)


def _items(results: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """Every well-formed item under ``key`` in any analyzer's result."""
    out: list[dict[str, Any]] = []
    for doc in results.values():
        value = doc.get(key) if isinstance(doc, Mapping) else None
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, dict))
    return out


def _span(item: Mapping[str, Any]) -> tuple[float, float] | None:
    try:
        s, e = float(item["start_s"]), float(item["end_s"])
    except (KeyError, TypeError, ValueError):
        return None
    return (s, e) if e >= s else None


def _spans_of_person(person: Mapping[str, Any]) -> list[tuple[float, float]]:
    spans = person.get("spans")
    return [sp for sp in (_span(x) for x in spans if isinstance(x, dict))] if isinstance(spans, list) else []  # type: ignore[misc]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _covers(span: tuple[float, float], shot: tuple[float, float]) -> bool:
    need = min(1.0, SHOT_OVERLAP * (shot[1] - shot[0]))
    return _overlap(span, shot) >= max(need, 1e-6)


def _fmt(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m)}:{s:04.1f}"


def keywords(texts: Iterable[str], top: int = 8, min_count: int = 2) -> list[tuple[str, int]]:
    """Most frequent content words (stopwords and words under 3 letters dropped)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for w in _WORD.findall(text.lower()):
            w = w.strip("'-")
            if len(w) >= 3 and w not in _STOPWORDS:
                counts[w] += 1
    return [(w, n) for w, n in counts.most_common() if n >= min_count][:top]


def _tag(tag: str, kind: str, confidence: float, evidence: list[str], shot: dict[str, Any] | None = None,
         span: tuple[float, float] | None = None) -> dict[str, Any]:
    return {"tag": tag, "kind": kind, "scope": "shot" if shot is not None else "video",
            "shot_index": shot.get("index") if shot is not None else None,
            "start_s": round(span[0], 3) if span else None, "end_s": round(span[1], 3) if span else None,
            "confidence": round(float(min(1.0, max(0.0, confidence))), 3), "evidence": evidence}


def _people_tag(n: int) -> str:
    return "person" if n == 1 else ("group of people" if n < 5 else "crowd")


def _style(stats: list[dict[str, Any]], window: tuple[float, float] | None) -> list[tuple[str, float, str]]:
    """(tag, confidence, evidence) style hints from the technical analyzer's picture statistics."""
    rows = [r for r in stats if window is None or (_span(r) and _overlap(_span(r), window) > 0)]  # type: ignore[arg-type]
    if not rows:
        return []
    mean = {k: sum(float(r.get(k, 0.0)) for r in rows) / len(rows) for k in ("luma", "saturation", "sky", "vegetation")}
    out = []
    if mean["luma"] < 0.2:
        out.append(("dark / night", 0.5 + (0.2 - mean["luma"]) * 2, f"mean luma {mean['luma']:.2f} (< 0.20)"))
    elif mean["luma"] > 0.35 and (mean["sky"] > 0.15 or mean["vegetation"] > 0.2):
        out.append(("outdoor", 0.4 + min(0.4, mean["sky"] + mean["vegetation"]),
                    f"sky-blue share of the top third {mean['sky']:.2f}, green share {mean['vegetation']:.2f}"))
    if mean["saturation"] < 0.04:
        out.append(("black and white", 0.7, f"mean saturation {mean['saturation']:.3f} (< 0.04)"))
    return out


def _scene_labels(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    labels = _items(results, "scene_labels")
    return [x for x in labels if isinstance(x.get("label"), str)]


def _moderation(results: Mapping[str, Any]) -> tuple[list[tuple[float, float]], float, str] | None:
    """(t, score) samples, threshold and model of the first moderation result, if any."""
    for name in sorted(results):
        mod = results[name].get("moderation") if isinstance(results[name], Mapping) else None
        if isinstance(mod, Mapping) and isinstance(mod.get("samples"), list) and \
                isinstance(mod.get("threshold"), int | float):
            pts = [(float(x["t"]), float(x["score"])) for x in mod["samples"]
                   if isinstance(x, Mapping) and isinstance(x.get("t"), int | float)
                   and isinstance(x.get("score"), int | float)]
            return pts, float(mod["threshold"]), str(mod.get("model") or name)
    return None


def _nsfw_tag(mod: tuple[list[tuple[float, float]], float, str] | None, shot: dict[str, Any] | None,
              window: tuple[float, float] | None) -> list[dict[str, Any]]:
    if mod is None:
        return []
    pts, threshold, model = mod
    here = [(t, sc) for t, sc in pts if window is None or window[0] <= t < window[1]]
    above = [(t, sc) for t, sc in here if sc >= threshold]
    if not above:
        return []
    t, top = max(above, key=lambda p: p[1])
    return [_tag("nsfw", "moderation", top, [
        f"{model} content-moderation score {top:.2f} at {_fmt(t)} (threshold {threshold:.2f}); "
        f"{len(above)} of {len(here)} sample(s) at or above it"], shot)]


def derive_tags(results: dict[str, dict], shots: list[dict]) -> list[dict]:
    """Video-level then shot-level tags, each with its evidence; deterministic order."""
    objects = [(o, sp) for o in _items(results, "objects") if isinstance(o.get("label"), str) and (sp := _span(o))]
    people = [(p, sps) for p in _items(results, "people") if (sps := _spans_of_person(p))]
    texts = [(t, sp) for t in _items(results, "texts") if str(t.get("text", "")).strip() and (sp := _span(t))]
    transcript = [(s, sp) for s in _items(results, "transcript") if str(s.get("text", "")).strip() and (sp := _span(s))]
    english = [(s, sp) for s, sp in transcript if s.get("language") in ("en", None)]
    english += [(s, sp) for s, sp in ((x, _span(x)) for x in _items(results, "translation")) if sp]
    stats = [r for r in _items(results, "picture_stats") if _span(r)]
    found = results.get("objects")
    peaks = found.get("peak_concurrent") if isinstance(found, Mapping) else None
    tags = _level(objects, people, texts, transcript, english, stats, _scene_labels(results), None,
                  peaks=peaks if isinstance(peaks, Mapping) else {})
    moderation = _moderation(results)
    tags += _nsfw_tag(moderation, None, None)
    video_topics = {t["tag"] for t in tags if t["kind"] == "topic"}
    for shot in shots:
        window = _span(shot)
        if window is not None:
            shot_peaks = {str(r.get("label")): r.get("peak") for r in shot.get("objects") or []
                          if isinstance(r, Mapping)}
            tags += _level(objects, people, texts, transcript, english, stats, _scene_labels(results), shot,
                           window, video_topics, shot_peaks)
            tags += _nsfw_tag(moderation, shot, window)
    return tags


def _level(objects: list, people: list, texts: list, transcript: list, english: list, stats: list,
           scenes: list[dict[str, Any]], shot: dict[str, Any] | None, window: tuple[float, float] | None = None,
           video_topics: set[str] | None = None, peaks: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Tags for the video (``shot`` None) or one shot; ``peaks``: the most objects of a label at once."""
    peaks = peaks or {}

    def inside(sp: tuple[float, float]) -> bool:
        return window is None or _covers(sp, window)

    out: list[dict[str, Any]] = []
    by_label: dict[str, list[tuple[dict, tuple[float, float]]]] = defaultdict(list)
    for o, sp in objects:
        if inside(sp):
            by_label[o["label"]].append((o, sp))
    for label in sorted(by_label):
        tracks = by_label[label]
        seen = sum(sp[1] - sp[0] for _, sp in tracks)
        if window is None and seen < MIN_OBJECT_S and len(tracks) < 2:
            continue
        conf = max(float(o.get("confidence") or 0.5) for o, _ in tracks)
        first = min(sp[0] for _, sp in tracks)
        at_once = f"up to {peaks[label]} at once, " if isinstance(peaks.get(label), int) else ""
        out.append(_tag(label, "object", conf, [
            f"{len(tracks)} '{label}' track(s) from the object detector, {at_once}{seen:.1f} s in view, "
            f"first at {_fmt(first)}"], shot))
    present = [(p, [sp for sp in sps if inside(sp)]) for p, sps in people]
    present = [(p, sps) for p, sps in present if sps]
    if present:
        ids = sorted(str(p.get("person_id")) for p, _ in present)
        out.append(_tag(_people_tag(len(present)), "people", 0.6 + min(0.3, 0.1 * len(present)),
                        [f"{len(present)} distinct person(s) from face clustering: {', '.join(ids[:8])}"], shot))
    shown = [t for t, sp in texts if inside(sp)]
    if shown:
        sample = "; ".join(f"'{str(t['text']).strip()[:40]}'" for t in shown[:3])
        out.append(_tag("on-screen text", "text", 0.8, [f"{len(shown)} text item(s) read by OCR, e.g. {sample}"], shot))
    spoken = [(s, sp) for s, sp in transcript if inside(sp)]
    if spoken:
        talk = sum(sp[1] - sp[0] for _, sp in spoken)
        out.append(_tag("speech", "speech", 0.9, [f"{len(spoken)} transcript segment(s), {talk:.1f} s of speech"], shot))
        langs = Counter(str(s.get("language")) for s, _ in spoken if s.get("language"))
        if window is None:
            for lang, n in sorted(langs.items()):
                out.append(_tag(f"language:{lang}", "language", 0.9, [f"{n} transcript segment(s) in '{lang}'"]))
    words = [str(s["text"]) for s, sp in english if inside(sp)]
    if window is None:
        found = keywords(words)
    else:
        found = [(w, n) for w, n in keywords(words, top=5, min_count=1) if w in (video_topics or set())]
    for w, n in found:
        out.append(_tag(w, "topic", min(0.9, 0.4 + 0.1 * n), [f"'{w}' said {n} time(s) in the transcript"], shot))
    for tag, conf, why in _style(stats, window):
        out.append(_tag(tag, "style", conf, [why + " (picture statistics)"], shot))
    best: dict[str, tuple[float, float | None, int]] = {}
    for x in scenes:
        sp = _span(x)
        if shot is not None and x.get("shot_index") != shot.get("index") and not (sp is not None and inside(sp)):
            continue
        score = float(x.get("confidence", x.get("score", 0.5)) or 0.0)
        n = int(x.get("samples") or 1)
        prev = best.get(x["label"])
        first = sp[0] if sp else None
        if prev is not None:
            score, n = max(prev[0], score), prev[2] + n
            first = prev[1] if first is None or (prev[1] is not None and prev[1] < first) else first
        best[x["label"]] = (score, first, n)
    for label, (score, first, n) in sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:5]:
        when = f", first at {_fmt(first)}" if first is not None else ""
        out.append(_tag(label, "scene", score, [
            f"image classifier label '{label}', best score {score:.2f} over {n} sample(s){when}"], shot))
    return out
