"""Tag precision on hand-labelled shots: thresholds set on one fold, precision reported on the other.

Usage: python bench/bench_tags.py [--media DIR] [--fresh]

The truth is bench/data/tags_truth.json (how it was made: its "note"). Every clip is analysed by
the real shots, scene, objects and technical analyzers through AnalysisRunner; the results are
cached in bench/.cache/tags/ (keyed by the analyzers' versions) so re-fitting is quick. Each shot
of the analysis is judged against the labelled segment that holds its middle. A shown tag is
right when the label agrees, wrong when it disagrees, and not counted when the label is "maybe"
(or the setting is null: a person would not commit).

Fitting, per tag family (setting, scene family, graphics): see ``fit``; a tag family's
confidence is its precision on the tuning fold, (right + 1) / (shown + 2). The shipped constants in
vidlens/analyze/builtin/tags.py come from fold A; fold B is held out. The reverse (fit on B,
judge A) is printed as a check of how much the thresholds move with the data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from common import CACHE, stamp, write_section  # noqa: E402

from vidlens.analyze.builtin import tags as T  # noqa: E402
from vidlens.analyze.builtin.scene_families import FAMILIES, GRAPHICS, INDOOR, OUTDOOR  # noqa: E402

TRUTH = REPO / "bench" / "data" / "tags_truth.json"
ANALYZERS = ["shots", "scene", "objects", "technical"]
TARGET = 0.9
MIN_SHOWN = 3
LOCAL, LOCAL_TARGET = 5, 0.8  # the 5 weakest tags shown must still be 4 in 5 right
BAND = 1.5  # no wrong tag may score between threshold / BAND and the threshold
SETTINGS = (INDOOR, OUTDOOR)


# --- the clips ---------------------------------------------------------------------------------

def make_synthetic(out: Path) -> None:
    """Drawn pictures a camera never records: FFmpeg test sources, a title card and a slide (4 s each)."""
    from PIL import Image, ImageDraw, ImageFont

    out.mkdir(parents=True, exist_ok=True)

    def encode(args: list[str], name: str) -> None:
        if not (out / name).exists():
            subprocess.run(["ffmpeg", "-v", "error", "-y", *args, "-t", "4", "-pix_fmt", "yuv420p", "-c:v", "libx264",
                            "-crf", "23", str(out / name)], check=True)

    encode(["-f", "lavfi", "-i", "smptebars=size=640x480:rate=25"], "smptebars.mp4")
    encode(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"], "testsrc2.mp4")
    encode(["-f", "lavfi", "-i", "pal75bars=size=720x576:rate=25"], "pal75bars.mp4")
    encode(["-f", "lavfi", "-i", "rgbtestsrc=size=640x480:rate=25"], "rgbtestsrc.mp4")
    w, h = 1280, 720
    card = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(card)
    d.text((w // 2, h // 2 - 40), "A FILM BY NOBODY IN PARTICULAR", fill=(235, 235, 235),
           font=ImageFont.load_default(48), anchor="mm")
    d.text((w // 2, h // 2 + 40), "music by the same", fill=(180, 180, 180), font=ImageFont.load_default(30),
           anchor="mm")
    slide = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(slide)
    for y in range(h):
        d.line([(0, y), (w, y)], fill=(20, 40 + y * 60 // h, 110 + y * 80 // h))
    d.text((80, 70), "Quarterly results", fill=(255, 255, 255), font=ImageFont.load_default(60))
    for i, line in enumerate(["Revenue up 12 %", "Two new regions", "Costs flat"]):
        d.ellipse([90, 215 + i * 80, 106, 231 + i * 80], fill=(250, 200, 60))
        d.text((130, 200 + i * 80), line, fill=(230, 230, 230), font=ImageFont.load_default(40))
    for i, bar in enumerate([120, 200, 160, 260]):
        d.rectangle([760 + i * 110, 600 - bar, 840 + i * 110, 600],
                    fill=[(230, 90, 60), (60, 180, 90), (240, 200, 60), (90, 140, 240)][i])
    for name, img in (("title_card", card), ("slide", slide)):
        img.save(out / f"{name}.png")
        encode(["-loop", "1", "-framerate", "25", "-i", str(out / f"{name}.png")], f"{name}.mp4")


def analyse(paths: list[Path], fresh: bool) -> list[dict[str, Any]]:
    """(shots, results) of each clip, from the cache when the analyzers' versions match."""
    from vidlens.analyze.builtin.objects import ObjectsAnalyzer
    from vidlens.analyze.builtin.scene import SceneAnalyzer
    from vidlens.analyze.builtin.shots import ShotDetector
    from vidlens.analyze.builtin.technical import TechnicalAnalyzer

    versions = {a.manifest.name: a.manifest.version
                for a in (ShotDetector, SceneAnalyzer, ObjectsAnalyzer, TechnicalAnalyzer)}
    cache = CACHE / "tags"
    cache.mkdir(parents=True, exist_ok=True)
    out, todo = [], []
    for p in paths:
        f = cache / (p.parent.name + "__" + p.name + ".json")
        hit = json.loads(f.read_text()) if f.exists() and not fresh else None
        out.append(hit if hit and hit.get("versions") == versions else None)
        if out[-1] is None:
            todo.append(len(out) - 1)
    if todo:
        from vidlens.analyze.runner import AnalysisRunner
        from vidlens.platform import Platform
        from vidlens.settings import load_settings

        with tempfile.TemporaryDirectory() as root:
            platform = Platform.from_settings(load_settings(data_dir=Path(root) / "data"))
            runner = AnalysisRunner(platform, analyzers=ANALYZERS)
            for i in todo:
                p = paths[i]
                video = platform.catalog.ingest_file(str(p), analyze=False).video
                outcome = runner.run(video, force=True)
                bad = {n: o.error for n, o in outcome.analyzers.items() if o.status != "ok"}
                if bad:
                    raise SystemExit(f"{p}: {bad}")
                a = outcome.analyzers
                out[i] = {"versions": versions, "shots": (a["shots"].document or {}).get("shots", []),
                          "results": {n: o.document for n, o in a.items() if n != "shots"}}
                (cache / (p.parent.name + "__" + p.name + ".json")).write_text(json.dumps(out[i]))
                print(f"analysed {p.name}", flush=True)
    return out


# --- judging -----------------------------------------------------------------------------------

@dataclass
class Shot:
    clip: str
    fold: str
    index: int
    truth: dict[str, Any]
    window: tuple[float, float]
    samples: list[dict[str, Any]]
    objects: list[tuple[str, float]]  # the object tags found in this shot: (label, confidence)
    old_outdoor: bool  # the rule tags used before: a bright picture with sky-blue or green shares


def shots_of(clip: dict[str, Any], analysis: dict[str, Any]) -> tuple[list[Shot], list[dict[str, Any]]]:
    """The clip's shots judged against its segments, and its tags as the document lists them."""
    from vidlens.analyze.document import _clean_shots

    shots = _clean_shots(analysis["shots"])
    results = analysis["results"]
    samples = T._scene_samples(results)
    tags = T.derive_tags(results, shots)
    stats = [r for r in T._items(results, "picture_stats") if T._span(r)]
    out = []
    for shot in shots:
        window = (float(shot["start_s"]), float(shot["end_s"]))
        mid = sum(window) / 2
        truth = next((s for s in clip["segments"] if s["start_s"] <= mid < s["end_s"]), clip["segments"][-1])
        objs = [(t["tag"], t["confidence"]) for t in tags if t["kind"] == "object" and shot["index"] in t["shots"]]
        rows = [r for r in stats if T._overlap(T._span(r), window) > 0]  # type: ignore[arg-type]
        mean = {k: sum(float(r[k]) for r in rows) / len(rows) if rows else 0.0 for k in ("luma", "sky", "vegetation")}
        old = mean["luma"] > 0.35 and (mean["sky"] > 0.15 or mean["vegetation"] > 0.2)
        out.append(Shot(clip["path"], clip["fold"], shot["index"], truth, window, samples, objs, old))
    return out, tags


def scene_tags(shot: Shot, th: T.SceneThresholds) -> set[str]:
    return {t for t, _, _ in T.scene_tags(T.scene_evidence(shot.samples, shot.window, th), th)}


def verdict(kind: str, tag: str, truth: dict[str, Any]) -> bool | None:
    """True (a person agrees), False (disagrees) or None (arguable: not counted)."""
    setting = truth["setting"]
    if kind in ("setting", GRAPHICS):
        return None if setting is None else setting == tag
    if kind == "family":
        return True if tag in truth["scene"] else None if tag in truth["scene_maybe"] else False
    return True if tag in truth["objects"] else None if tag in truth["objects_maybe"] else False


KINDS = {"indoor": (INDOOR,), "outdoor": (OUTDOOR,), "family": tuple(FAMILIES), "graphics": (GRAPHICS,)}


def judge(shots: list[Shot], th: T.SceneThresholds) -> dict[str, Counter[str]]:
    """Per tag family: shown, right, wrong, and the labelled shots it could have been shown on."""
    out: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
    for shot in shots:
        shown = scene_tags(shot, th)
        for k, names in KINDS.items():
            for tag in shown & set(names):
                v = verdict("family" if k == "family" else "setting" if k in SETTINGS else GRAPHICS, tag, shot.truth)
                out[k]["shown"] += 1
                out[k]["right" if v else "wrong" if v is False else "arguable"] += 1
            out[k]["labelled"] += len(set(names) & ({shot.truth["setting"]} | set(shot.truth["scene"])))
    return out


def precision(c: Counter[str]) -> float | None:
    n = c["right"] + c["wrong"]
    return c["right"] / n if n else None


# threshold searched for each tag family, from the strictest to the least strict; a score under 0.1
# (a tenth of the classifier's probability) is noise, not evidence
NEVER = 1.0  # the threshold of a tag family that reaches the target nowhere: never shown
GRIDS = {"indoor": ("indoor", [x / 100 for x in range(90, 9, -1)]),
         "outdoor": ("outdoor", [x / 100 for x in range(90, 9, -1)]),
         "family": ("family", [x / 100 for x in range(90, 9, -1)]),
         "graphics": ("graphics_detail", [x / 1000 for x in range(20, 400, 5)])}


def fit(shots: list[Shot], base: T.SceneThresholds) -> T.SceneThresholds:
    """Thresholds calibrated on ``shots``, each tag family on its own.

    Settings and families: the least strict threshold at which the tags shown reach precision TARGET
    and the weakest LOCAL of them still reach LOCAL_TARGET, and no wrong tag scores within a factor
    BAND below it: a threshold just above a wrong shot would flip with the small numeric differences
    between machines and builds. Graphics: the detail share half
    way between the most detailed drawn sample and the least detailed camera sample (a maximum margin
    on a feature that separates them).
    """
    th = base
    conf = dict(base.confidence)
    for kind, (name, grid) in GRIDS.items():
        if kind == "graphics":
            value = graphics_margin(shots, base)
            th = replace(th, graphics_detail=value)
            c = judge(shots, th)[kind]
            conf[GRAPHICS] = round((c["right"] + 1) / (c["right"] + c["wrong"] + 2), 2)
            continue
        best = None
        for value in grid:
            trial = replace(base, **{name: value})
            c = judge(shots, trial)[kind]
            p = precision(c)
            near = judge(shots, replace(base, **{name: value / BAND}))[kind]["wrong"] - c["wrong"]
            if p is not None and c["right"] + c["wrong"] >= MIN_SHOWN and p >= TARGET and near == 0 \
                    and local_precision(shots, trial, kind) >= LOCAL_TARGET:
                best = (value, c)
        if best is None:
            th = replace(th, **{name: NEVER})
        else:
            th = replace(th, **{name: best[0]})
            conf[kind] = round((best[1]["right"] + 1) / (best[1]["right"] + best[1]["wrong"] + 2), 2)
    return replace(th, confidence=tuple(conf.items()))


def local_precision(shots: list[Shot], th: T.SceneThresholds, kind: str) -> float:
    """Precision of the LOCAL lowest-scoring judged tags of ``kind`` shown under ``th``."""
    judged = []
    for shot in shots:
        ev = T.scene_evidence(shot.samples, shot.window, th)
        shown = {t for t, _, _ in T.scene_tags(ev, th)} & set(KINDS[kind])
        for tag in shown:
            score = ev.families.get(tag, 0.0) if kind == "family" else ev.setting(tag)
            v = verdict("family" if kind == "family" else "setting", tag, shot.truth)
            if v is not None:
                judged.append((score, v))
    weakest = [v for _, v in sorted(judged)[:LOCAL]]
    return sum(weakest) / len(weakest) if weakest else 1.0


def graphics_margin(shots: list[Shot], th: T.SceneThresholds) -> float:
    drawn, camera = [], []
    for shot in shots:
        if shot.truth["setting"] is None:
            continue
        for x in shot.samples:
            tex = x.get("texture") or {}
            if shot.window[0] <= x["t"] < shot.window[1] and tex.get("luma", 0) >= th.dark_luma \
                    and tex.get("edges", 0) >= th.graphics_edges:
                (drawn if shot.truth["setting"] == GRAPHICS else camera).append(float(tex["detail"]))
    if not drawn or not camera or max(drawn) >= min(camera):
        raise SystemExit(f"drawn and camera samples overlap in detail: {sorted(drawn)[-3:]} vs {sorted(camera)[:3]}")
    print(f"graphics: drawn detail up to {max(drawn):.3f}, camera from {min(camera):.3f}")
    return round((max(drawn) + min(camera)) / 2, 3)


def objects_judged(shots: list[Shot]) -> Counter[str]:
    c: Counter[str] = Counter()
    for shot in shots:
        for label, _ in shot.objects:
            v = verdict("object", label, shot.truth)
            c["shown"] += 1
            c["right" if v else "wrong" if v is False else "arguable"] += 1
    return c


def old_outdoor(shots: list[Shot]) -> Counter[str]:
    c: Counter[str] = Counter()
    for shot in shots:
        if shot.old_outdoor:
            v = verdict("setting", OUTDOOR, shot.truth)
            c["shown"] += 1
            c["right" if v else "wrong" if v is False else "arguable"] += 1
    return c


def fmt(c: Counter[str]) -> str:
    p = precision(c)
    return (f"{c['shown']} | {c['right']} | {c['wrong']} | {c['arguable']} | "
            f"{'-' if p is None else f'{p:.2f}'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", type=Path, default=None)
    ap.add_argument("--fresh", action="store_true", help="analyse again even when cached")
    args = ap.parse_args()
    if args.media:
        os.environ["VIDLENS_MEDIA_DIR"] = str(args.media)
    from common import media_dir

    media = media_dir()
    truth = json.loads(TRUTH.read_text())
    make_synthetic(CACHE / "tags_synthetic")
    paths = [CACHE / "tags_synthetic" / Path(c["path"]).name if c["path"].startswith("synthetic/")
             else media / c["path"] for c in truth["clips"]]
    analyses = analyse(paths, args.fresh)
    shots: list[Shot] = []
    duplicates = one_shot = 0
    for clip, analysis in zip(truth["clips"], analyses, strict=True):
        got, tags = shots_of(clip, analysis)
        shots += got
        if len(got) == 1:
            one_shot += 1
            keys = Counter((t["kind"], t["tag"]) for t in tags)
            duplicates += sum(n - 1 for n in keys.values())
    folds = {f: [s for s in shots if s.fold == f] for f in ("A", "B")}
    shipped = T.SCENE
    fit_a, fit_b = fit(folds["A"], shipped), fit(folds["B"], shipped)
    names = [f.name for f in fields(T.SceneThresholds) if f.name in {n for n, _ in GRIDS.values()}]
    print("shipped", {n: getattr(shipped, n) for n in names}, dict(shipped.confidence))
    print("fit on A", {n: getattr(fit_a, n) for n in names}, dict(fit_a.confidence))
    print("fit on B", {n: getattr(fit_b, n) for n in names}, dict(fit_b.confidence))
    if {n: getattr(fit_a, n) for n in names} != {n: getattr(shipped, n) for n in names} or \
            fit_a.confidence != shipped.confidence:
        print("WARNING: the shipped thresholds are not fold A's fit; update SceneThresholds in tags.py")
    held = judge(folds["B"], shipped)
    tuned = judge(folds["A"], shipped)
    reverse = judge(folds["A"], fit_b)
    rows = []
    for k in KINDS:
        rows.append(f"| {k} | {fmt(tuned[k])} | {fmt(held[k])} | {held[k]['labelled']} | {fmt(reverse[k])} |")
        print(rows[-1])
    clips = Counter(c["fold"] for c in truth["clips"])
    count = Counter(s.fold for s in shots)
    labelled = Counter((s.fold, s.truth["setting"]) for s in shots)
    obj_a, obj_b = objects_judged(folds["A"]), objects_judged(folds["B"])
    old_a, old_b = old_outdoor(folds["A"]), old_outdoor(folds["B"])
    th_line = ", ".join(f"{n} {getattr(shipped, n)}" for n in names)
    conf_line = ", ".join(f"{k} {v}" for k, v in shipped.confidence)
    body = f"""## Tag precision (hand-labelled shots)

{stamp()} `python bench/bench_tags.py`. Truth: `bench/data/tags_truth.json`, labelled by looking at the
frames the scene analyzer classifies (how: its `note`). {len(truth["clips"])} clips ({clips["A"]} in fold A,
{clips["B"]} in fold B; clips of one source share a fold), {len(shots)} shots as the shots analyzer cut them
(A {count["A"]}, B {count["B"]}). Settings labelled: fold A {labelled[("A", "indoor")]} indoor,
{labelled[("A", "outdoor")]} outdoor, {labelled[("A", "graphics")]} graphics, {labelled[("A", None)]} no call;
fold B {labelled[("B", "indoor")]} indoor, {labelled[("B", "outdoor")]} outdoor, {labelled[("B", "graphics")]}
graphics, {labelled[("B", None)]} no call. The set is small: read each precision with its counts.

Thresholds are set on fold A and judged on fold B, which played no part in them. Settings and families: the
least strict threshold with precision >= {TARGET} over at least {MIN_SHOWN} tags, its {LOCAL} weakest tags still
{LOCAL_TARGET} right, and no wrong tag within a factor {BAND} below it (so numeric differences between machines do
not flip a shot); a score under 0.1 never counts. Graphics: the detail share half way between drawn and
camera samples of fold A. Shipped: {th_line}; confidence
shown with each tag (its smoothed precision on fold A, (right+1)/(shown+2)): {conf_line}. A tag judged
"arguable" fell on a shot whose label says maybe (or no call); it counts neither way. Labelled: fold B shots
whose label has that tag (the most it could be right on). Reverse: thresholds fit on B, judged on A.

| tag family | A: shown | right | wrong | arguable | precision | **B (held out): shown** | right | wrong | arguable | **precision** | B labelled | reverse: shown | right | wrong | arguable | precision |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Before (tags of the previous release on the same shots): "outdoor" from sky-blue or green picture shares was
shown on A {old_a["shown"]} times ({old_a["right"]} right, {old_a["wrong"]} wrong) and on B {old_b["shown"]} times
({old_b["right"]} right, {old_b["wrong"]} wrong): every GRID talking head and the test pattern were "outdoor".
ImageNet class names no longer stand as scene tags.

Object tags (the object detector's, unchanged here; an ImageNet class can only add evidence to one): fold A
{obj_a["shown"]} shown, {obj_a["right"]} right, {obj_a["wrong"]} wrong, {obj_a["arguable"]} arguable; fold B
{obj_b["shown"]} shown, {obj_b["right"]} right, {obj_b["wrong"]} wrong, {obj_b["arguable"]} arguable.
Duplicates: {duplicates} tags listed twice on the {one_shot} one-shot clips (each tag once, at video scope).
"""
    write_section("tags", body)
    print(body)


if __name__ == "__main__":
    main()
