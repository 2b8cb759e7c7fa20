"""Tags for the whole video and for each shot, derived from the other analyzers' results.

Tags are a summary, not a model: every tag is computed from items already in the
results (object tracks, people, on-screen text, the transcript, picture statistics,
scene labels) and lists its evidence in words, so a user can check why it is there.
This runs after every analyzer, inside document assembly, and never fails the
document: results it cannot read are simply not used.

Tag kinds: ``object``, ``people``, ``text``, ``speech``, ``language``, ``topic``,
``style``, ``scene`` and ``moderation`` (``nsfw`` when a content-moderation score
reaches its threshold).

Each tag is listed once at video scope, with ``shots``: the shots it was found in.
A shot-scope tag is added only where it says more than that, in a video of several
shots and for a tag that is not in every one of them (it carries that shot's own
evidence). Scene tags say what kind of place a shot shows: ``indoor`` or ``outdoor``,
a coarse family (``nature``, ``street``, ``room`` ...) or ``graphics`` (a test
pattern, slide or title card). They come from the scene analyzer's family scores
and picture texture, never from one ImageNet class name, and each is shown only
above a threshold at which its precision was measured on hand-labelled shots
(``bench/bench_tags.py``, ``bench/data/tags_truth.json``); its confidence is that
measured precision. Where the evidence is weak or mixed, nothing is said.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vidlens.analyze.builtin.scene_families import COCO_EVIDENCE, FAMILIES, GRAPHICS, INDOOR, OUTDOOR

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



@dataclass(frozen=True)
class SceneThresholds:
    """When scene tags are shown, and with what confidence.

    Set on fold A of the hand-labelled shots by bench/bench_tags.py (for each tag family the
    least strict threshold whose precision there is at least 0.9, with no wrong tag just under
    it; for graphics the middle of the gap between drawn and camera pictures) and checked on the
    held-out fold B; docs/benchmarks.md has the counts. A setting or family score is the mean, over a
    shot's usable samples, of the summed probability of its ImageNet classes
    (vidlens.analyze.builtin.scene_families).
    """

    indoor: float = 0.1
    outdoor: float = 0.17
    ratio: float = 2.0  # a setting also needs this many times the other setting's score
    family: float = 0.2
    graphics_detail: float = 0.15  # drawn: at most this share of detail pixels ...
    graphics_edges: float = 0.005  # ... and some hard edges (a fade or a blank frame has none)
    dark_luma: float = 0.08  # samples darker than this (black, fades) say nothing about the scene
    # confidence of a shown tag: its precision on fold A, (right + 1) / (shown + 2)
    confidence: tuple[tuple[str, float], ...] = ((INDOOR, 0.83), (OUTDOOR, 0.95), ("family", 0.88), (GRAPHICS, 0.8))

    def minimum(self, setting: str) -> float:
        return self.indoor if setting == INDOOR else self.outdoor

    def conf(self, what: str) -> float:
        return dict(self.confidence)[what]


SCENE = SceneThresholds()
BW_SATURATION = 0.015  # a grey car park with a red car measures 0.03; a black-and-white film under 0.01
CORROBORATE_SCORE = 0.1  # an ImageNet class this likely corroborates a detected COCO object


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
            "confidence": round(float(min(1.0, max(0.0, confidence))), 3), "evidence": evidence,
            "shots": [shot["index"]] if shot is not None and isinstance(shot.get("index"), int) else []}


def _people_tag(n: int) -> str:
    return "person" if n == 1 else ("group of people" if n < 5 else "crowd")


def _style(stats: list[dict[str, Any]], window: tuple[float, float] | None) -> list[tuple[str, float, str]]:
    """(tag, confidence, evidence) style hints from the technical analyzer's picture statistics.

    Its sky-blue and green shares are not used: a blue studio backdrop or a green wall reads
    as sky or grass, so they said "outdoor" on talking heads; indoor/outdoor is a scene tag.
    """
    rows = [r for r in stats if window is None or (_span(r) and _overlap(_span(r), window) > 0)]  # type: ignore[arg-type]
    if not rows:
        return []
    mean = {k: sum(float(r.get(k, 0.0)) for r in rows) / len(rows) for k in ("luma", "saturation")}
    out = []
    if mean["luma"] < 0.2:
        out.append(("dark / night", 0.5 + (0.2 - mean["luma"]) * 2, f"mean luma {mean['luma']:.2f} (< 0.20)"))
    if mean["saturation"] < BW_SATURATION:
        out.append(("black and white", 0.7, f"mean saturation {mean['saturation']:.3f} (< {BW_SATURATION})"))
    return out


@dataclass
class SceneEvidence:
    """What a shot's scene samples say: mean family scores over the usable samples, and why others were not."""

    samples: int = 0  # usable: neither dark nor drawn
    dark: int = 0
    drawn: int = 0
    families: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.samples + self.dark + self.drawn

    def setting(self, name: str) -> float:
        """Summed score of the families that imply ``name`` (indoor or outdoor)."""
        return sum(v for f, v in self.families.items() if f in FAMILIES and FAMILIES[f][0] == name)


def _scene_samples(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    for name in sorted(results):
        scene = results[name].get("scene") if isinstance(results[name], Mapping) else None
        if isinstance(scene, Mapping) and isinstance(scene.get("samples"), list):
            return [x for x in scene["samples"] if isinstance(x, dict) and isinstance(x.get("t"), int | float)]
    return []


def _is_drawn(tex: Mapping[str, Any], th: SceneThresholds) -> bool:
    try:
        return float(tex["detail"]) <= th.graphics_detail and float(tex["edges"]) >= th.graphics_edges
    except (KeyError, TypeError, ValueError):
        return False


def scene_evidence(samples: list[dict[str, Any]], window: tuple[float, float] | None,
                   th: SceneThresholds = SCENE) -> SceneEvidence:
    """The scene evidence of the samples whose time falls in ``window`` (all of them when None)."""
    ev = SceneEvidence()
    sums: Counter[str] = Counter()
    for x in samples:
        t = float(x["t"])
        if window is not None and not window[0] <= t < window[1]:
            continue
        tex = x.get("texture") if isinstance(x.get("texture"), Mapping) else {}
        fams = x.get("families")
        if not isinstance(fams, Mapping):
            continue  # a sample of an older scene analyzer or an own model without families
        if isinstance(tex.get("luma"), int | float) and tex["luma"] < th.dark_luma:
            ev.dark += 1
        elif _is_drawn(tex, th):
            ev.drawn += 1
        else:
            ev.samples += 1
            for f, v in fams.items():
                if isinstance(v, int | float):
                    sums[str(f)] += float(v)
    ev.families = {f: v / ev.samples for f, v in sums.items()} if ev.samples else {}
    return ev


def scene_tags(ev: SceneEvidence, th: SceneThresholds = SCENE) -> list[tuple[str, float, str]]:
    """(tag, confidence, evidence) scene tags for one shot's evidence: graphics, a setting, families."""
    if ev.total == 0 or ev.dark * 2 > ev.total:
        return []
    if ev.drawn * 2 > ev.total - ev.dark:
        return [(GRAPHICS, th.conf(GRAPHICS),
                 f"{ev.drawn} of {ev.total - ev.dark} sample(s) drawn: flat colour and hard edges with almost no "
                 f"detail (picture texture)")]
    if ev.samples == 0:
        return []
    out: list[tuple[str, float, str]] = []
    score = {s: ev.setting(s) for s in (INDOOR, OUTDOOR)}
    for s, other in ((INDOOR, OUTDOOR), (OUTDOOR, INDOOR)):
        if score[s] >= th.minimum(s) and score[s] >= th.ratio * score[other]:
            out.append((s, th.conf(s), f"{s} classes score {score[s]:.2f}, {other} {score[other]:.2f} "
                                                f"(mean of {ev.samples} sample(s))"))
    shown = {t for t, _, _ in out}
    for f, v in sorted(ev.families.items(), key=lambda kv: (-kv[1], kv[0])):
        if v >= th.family and f in FAMILIES and not ({INDOOR, OUTDOOR} - {FAMILIES[f][0]}) & shown:
            out.append((f, th.conf("family"), f"'{f}' classes score {v:.2f} (mean of {ev.samples} sample(s))"))
    return out


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
    """Video-scope tags (each with the shots it was found in), then the shot-scope tags that add to them."""
    objects = [(o, sp) for o in _items(results, "objects") if isinstance(o.get("label"), str) and (sp := _span(o))]
    people = [(p, sps) for p in _items(results, "people") if (sps := _spans_of_person(p))]
    texts = [(t, sp) for t in _items(results, "texts") if str(t.get("text", "")).strip() and (sp := _span(t))]
    transcript = [(s, sp) for s in _items(results, "transcript") if str(s.get("text", "")).strip() and (sp := _span(s))]
    english = [(s, sp) for s, sp in transcript if s.get("language") in ("en", None)]
    english += [(s, sp) for s, sp in ((x, _span(x)) for x in _items(results, "translation")) if sp]
    stats = [r for r in _items(results, "picture_stats") if _span(r)]
    samples = _scene_samples(results)
    found = results.get("objects")
    peaks = found.get("peak_concurrent") if isinstance(found, Mapping) else None
    tags = _level(objects, people, texts, transcript, english, stats, samples, None,
                  peaks=peaks if isinstance(peaks, Mapping) else {})
    moderation = _moderation(results)
    tags += _nsfw_tag(moderation, None, None)
    video_topics = {t["tag"] for t in tags if t["kind"] == "topic"}
    windows = [(shot, w) for shot in shots if (w := _span(shot)) is not None and isinstance(shot.get("index"), int)]
    per_shot: list[dict[str, Any]] = []
    for shot, window in windows:
        shot_peaks = {str(r.get("label")): r.get("peak") for r in shot.get("objects") or [] if isinstance(r, Mapping)}
        per_shot += _level(objects, people, texts, transcript, english, stats, samples, shot, window, video_topics,
                           shot_peaks)
        per_shot += [_tag(t, "scene", c, [why], shot) for t, c, why in scene_tags(scene_evidence(samples, window))]
        per_shot += _nsfw_tag(moderation, shot, window)
    if windows:
        tags += _scene_over_shots([t for t in per_shot if t["kind"] == "scene"], len(windows))
    else:
        tags += [_tag(t, "scene", c, [why]) for t, c, why in scene_tags(scene_evidence(samples, None))]
    return _once(tags, per_shot, len(windows))


def _scene_over_shots(shot_tags: list[dict[str, Any]], n_shots: int) -> list[dict[str, Any]]:
    """Video-scope scene tags from the shots' own: the best shot's confidence and evidence, and how many shots."""
    by_tag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in shot_tags:
        by_tag[t["tag"]].append(t)
    out = []
    for tag, rows in by_tag.items():
        best = max(rows, key=lambda t: t["confidence"])
        where = ", ".join(str(t["shot_index"]) for t in rows)
        out.append(_tag(tag, "scene", best["confidence"],
                        [f"in {len(rows)} of {n_shots} shot(s) ({where}); shot {best['shot_index']}: "
                         f"{best['evidence'][0]}"]))
    return sorted(out, key=lambda t: (-t["confidence"], t["tag"]))


def _once(video: list[dict[str, Any]], per_shot: list[dict[str, Any]], n_shots: int) -> list[dict[str, Any]]:
    """Each video tag with its ``shots``; a shot tag only in a multi-shot video and for a tag not in every shot."""
    where: dict[tuple[str, str], list[int]] = defaultdict(list)
    for t in per_shot:
        where[(t["kind"], t["tag"])].append(t["shot_index"])
    for t in video:
        t["shots"] = sorted(set(where.get((t["kind"], t["tag"]), [])))
    if n_shots < 2:
        return video
    return video + [t for t in per_shot if len(set(where[(t["kind"], t["tag"])])) < n_shots]


def _agrees(label: str, spans: list[tuple[float, float]], samples: list[dict[str, Any]]) -> str | None:
    """Evidence that the image classifier saw the same kind of thing as the detector, inside its tracks."""
    kinds = set(COCO_EVIDENCE.get(label, ()))
    best: tuple[float, str, float] | None = None
    for x in samples:
        t = float(x["t"])
        if not any(a <= t <= b for a, b in spans):
            continue
        for y in x.get("labels") or []:
            if isinstance(y, Mapping) and y.get("label") in kinds and isinstance(y.get("score"), int | float) \
                    and y["score"] >= CORROBORATE_SCORE and (best is None or y["score"] > best[0]):
                best = (float(y["score"]), str(y["label"]), t)
    return None if best is None else f"the image classifier agrees: '{best[1]}' {best[0]:.2f} at {_fmt(best[2])}"


def _level(objects: list, people: list, texts: list, transcript: list, english: list, stats: list,
           samples: list[dict[str, Any]], shot: dict[str, Any] | None, window: tuple[float, float] | None = None,
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
        evidence = [f"{len(tracks)} '{label}' track(s) from the object detector, {at_once}{seen:.1f} s in view, "
                    f"first at {_fmt(first)}"]
        agrees = _agrees(label, [sp for _, sp in tracks], samples)
        out.append(_tag(label, "object", conf, evidence + ([agrees] if agrees else []), shot))
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
    return out
