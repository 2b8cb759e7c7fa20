"""Accuracy of the vision analyzers on the corpus: OCR character error rate and distinct people by face.

Usage: python bench/bench_accuracy.py
Every clip is ingested into a temporary library and analysed by the real analyzers through
AnalysisRunner (one decode, default settings); the figures are computed from their documents.

CER: Levenshtein distance over characters / reference characters, after case folding and
removing all whitespace (OCR readers drop or add spaces; spacing is not what is measured). A
stricter figure keeps case and single spaces. It is measured at the instants the analyzer sampled
(the timecode changes on every frame, so only those frames can be compared): at each instant that
falls in a ground-truth item's fully visible frames, the reference is the item's text and the
hypothesis is every reported text whose span covers the instant and that resembles this item more
than any other item on screen then, in reading order. A missed text costs all its characters,
a duplicate reading of a text costs its characters again.
"""

from __future__ import annotations

import difflib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import media_dir, stamp, write_section  # noqa: E402

from vidlens.analyze.wer import edit_distance  # noqa: E402

TIMECODE = "text/moviepy_timecode_testpattern.mp4"
CER_GOAL = 0.05

# Distinct people each clip shows, with the MANIFEST.md line each count comes from.
FACES_EXPECTED: dict[str, int] = {
    "faces/intel_asl_book.mkv": 1,  # "Ground truth: 1 face"
    "faces/intel_asl_thanks.mkv": 1,  # "Ground truth: 1 face"
    "faces/intel_face-demographics-walking-and-pause.gif": 3,  # "Ground truth: 3 faces (by inspection)"
    "faces/intel_face-demographics-walking.gif": 2,  # "Ground truth: 2 faces (by inspection)"
    "faces/intel_head-pose-face-detection-female-and-male.gif": 2,  # "2 faces in every frame (by inspection)"
    "surveillance/intel_classroom.gif": 4,  # "classroom, 4 seated people facing the camera"
    # The MANIFEST gives no number here ("real actors' faces (profile, frontal, close-up)"); counted from the
    # frames: the man on the bridge, the man with glasses, the woman in the last shot (a fourth person is
    # seen only from behind).
    "shots/blender_tears_of_steel_10s.mp4": 3,
}
# "GRID talking faces, 11 speakers" ... "talking head, one frontal face on a plain background": one each.
GRID_EXPECTED = 1


class Analysis:
    """A temporary library that ingests clips and runs named analyzers on them."""

    def __init__(self, root: Path, analyzers: list[str]) -> None:
        from vidlens.analyze.runner import AnalysisRunner
        from vidlens.platform import Platform
        from vidlens.settings import load_settings

        self.platform = Platform.from_settings(load_settings(data_dir=root / "data"))
        self.runner = AnalysisRunner(self.platform, analyzers=analyzers)

    def run(self, path: Path, name: str) -> dict[str, Any]:
        video = self.platform.catalog.ingest_file(str(path), analyze=False).video
        outcome = self.runner.run(video, force=True)
        result = outcome.analyzers[name]
        if result.status != "ok":
            raise SystemExit(f"{name} failed on {path}: {result.error}")
        return result.document


# --- OCR ---------------------------------------------------------------------------------------

def norm(text: str) -> str:
    return "".join(text.casefold().split())


def strict(text: str) -> str:
    return " ".join(text.split())


def sample_instants(path: Path, fps: float) -> list[tuple[int, float]]:
    """(frame index, time) of the frames a sampler at ``fps`` takes: the frames the analyzer read."""
    from vidlens.media.decode import Sampling, iter_frames
    from vidlens.media.probe import probe

    return [(fs.index, fs.t) for fs in iter_frames(probe(path), Sampling(fps=fps, max_side=64, pix_fmt="gray"))]


def gt_items(entry: dict[str, Any], instants: list[tuple[int, float]]) -> list[dict[str, Any]]:
    """Ground-truth items as {text, frames, visible}; the timecode becomes one item per sampled frame."""
    if "items" in entry:
        return [{"text": it["text"], "frames": tuple(it["frames"]),
                 "visible": tuple(it.get("fully_visible", it["frames"]))} for it in entry["items"]]
    fps, n = int(entry["fps"]), int(entry["frames"])
    items = [{"text": entry["static_text"], "frames": (0, n - 1), "visible": (0, n - 1)}]
    for f, _ in instants:  # frame f reads 00:00:SS:FF with SS = f // fps, FF = f % fps
        items.append({"text": f"00:00:{f // fps:02d}:{f % fps:02d}", "frames": (f, f), "visible": (f, f)})
    return items


def resemblance(text: str, ref: str) -> float:
    """Share of ``text``'s characters found in ``ref`` (a line of a two-line title scores high)."""
    a, b = norm(text), norm(ref)
    if not a:
        return 0.0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(m.size for m in sm.get_matching_blocks()) / len(a)


def score_clip(doc: dict[str, Any], items: list[dict[str, Any]], instants: list[tuple[int, float]], fps: float
               ) -> tuple[list[dict[str, Any]], int]:
    """Per item: edits and reference characters (normalised and strict) over its instants; extra texts."""
    texts = doc["texts"]
    scores = [{"text": it["text"], "instants": 0, "edits": 0, "chars": 0, "strict_edits": 0, "strict_chars": 0,
               "readings": []} for it in items]
    eps = 1e-3
    for f, t in instants:
        on_screen = [k for k, it in enumerate(items) if it["frames"][0] <= f <= it["frames"][1]]
        if not on_screen:
            continue
        assigned: dict[int, list[dict[str, Any]]] = {k: [] for k in on_screen}
        for tx in texts:
            if tx["start_s"] <= t + eps < tx["end_s"]:
                best = max(on_screen, key=lambda k: resemblance(tx["text"], items[k]["text"]))
                assigned[best].append(tx)
        for k in on_screen:
            it = items[k]
            if not it["visible"][0] <= f <= it["visible"][1]:
                continue
            hyp = " ".join(tx["text"] for tx in sorted(assigned[k], key=lambda tx: (tx["box"][1], tx["box"][0])))
            s = scores[k]
            s["instants"] += 1
            s["edits"] += edit_distance(list(norm(it["text"])), list(norm(hyp)))
            s["chars"] += len(norm(it["text"]))
            s["strict_edits"] += edit_distance(list(strict(it["text"])), list(strict(hyp)))
            s["strict_chars"] += len(strict(it["text"]))
            s["readings"].append(hyp)
    extra = [tx for tx in texts if not any(tx["start_s"] < (it["frames"][1] + 1) / fps
                                           and tx["end_s"] > it["frames"][0] / fps for it in items)]
    return scores, len(extra)


def ocr_section(media: Path, root: Path) -> list[str]:
    gt = json.loads((media / "ground_truth" / "ocr.json").read_text())
    clips = [c for c in gt if not c.startswith("_")]
    analysis = Analysis(root / "ocr", ["ocr"])
    rows, per_item, total, total_chars, total_strict, total_strict_chars = [], [], 0, 0, 0, 0
    unsampled: list[str] = []
    for clip in clips:
        doc = analysis.run(media / clip, "ocr")
        instants = sample_instants(media / clip, float(doc["sample_fps"]))
        items = gt_items(gt[clip], instants)
        scores, extra = score_clip(doc, items, instants, float(gt[clip]["fps"]))
        if clip == TIMECODE:  # one row for all the per-frame timecodes
            codes = scores[1:]
            merged = {"text": "timecode 00:00:SS:FF (per frame)", "instants": sum(s["instants"] for s in codes),
                      "readings": []}
            for key in ("edits", "chars", "strict_edits", "strict_chars"):
                merged[key] = sum(s[key] for s in codes)
            scores = [scores[0], merged]
        for s in scores:
            if s["instants"] == 0:  # on screen only between two samples: no CER to give, say so
                unsampled.append(s["text"])
                rows.append(f"| {Path(clip).name} | {s['text']} | 0 | | | not sampled | | — |")
                continue
            total += s["edits"]
            total_chars += s["chars"]
            total_strict += s["strict_edits"]
            total_strict_chars += s["strict_chars"]
            cer = s["edits"] / max(s["chars"], 1)
            per_item.append(cer)
            seen = sorted(set(s["readings"]))
            shown = "; ".join(f"`{r}`" if r else "(nothing)" for r in seen[:3]) + (" …" if len(seen) > 3 else "")
            shown = shown or "—"
            rows.append(f"| {Path(clip).name} | {s['text']} | {s['instants']} | {s['chars']} | {s['edits']} | "
                        f"{cer:.1%} | {s['strict_edits'] / max(s['strict_chars'], 1):.1%} | "
                        f"{shown} |")
        print(f"{clip}: {len(doc['texts'])} texts, {extra} outside every ground-truth item", flush=True)
        rows.append(f"| {Path(clip).name} | (texts outside every item) | | | | {extra} texts | | |")
    overall = total / max(total_chars, 1)
    lines = [
        "CER = Levenshtein distance over characters ÷ reference characters, case-folded and with all whitespace "
        "removed; *strict* keeps case and single spaces. Measured at the frames the `ocr` analyzer sampled "
        "(default settings): at each one inside an item's fully visible frames, the reference is the item's text and "
        "the hypothesis every reported text whose time span covers that frame and that resembles this item most, in "
        "reading order (a miss costs every character, a duplicate costs them again). The timecode's reference is "
        "per frame (frame n reads 00:00:SS:FF, SS = n // 25, FF = n % 25). Ground truth: "
        "`ground_truth/ocr.json`.", "",
        "| clip | text | frames compared | ref chars | edits | CER | strict CER | readings |",
        "|---|---|---|---|---|---|---|---|", *rows, "",
        f"Overall: {total} edits over {total_chars} characters = **CER {overall:.1%}** (goal ≤ {CER_GOAL:.0%}); "
        f"strict {total_strict / max(total_strict_chars, 1):.1%}; mean of the {len(per_item)} items' CERs "
        f"{sum(per_item) / max(len(per_item), 1):.1%}."
        + (f" Not sampled (on screen only between two samples, so not in the figures): {', '.join(unsampled)}."
           if unsampled else ""),
    ]
    return lines


# --- faces -------------------------------------------------------------------------------------

def faces_section(media: Path, root: Path) -> list[str]:
    expected = dict(FACES_EXPECTED)
    expected.update({f"av_speech_grid/{p.name}": GRID_EXPECTED for p in sorted((media / "av_speech_grid").glob("*.mpg"))})
    analysis = Analysis(root / "faces", ["faces"])
    rows, exact, found_sum, exp_sum = [], 0, 0, 0
    for clip, want in expected.items():
        doc = analysis.run(media / clip, "faces")
        got = int(doc["count"])
        exact += got == want
        found_sum += got
        exp_sum += want
        print(f"{clip}: {got} people (expected {want})", flush=True)
        rows.append(f"| {clip} | {want} | {got} | {'yes' if got == want else 'no'} |")
    return ["Distinct people found by the `faces` analyzer (default settings) against the counts in the corpus "
            "MANIFEST (GRID: one speaker per clip; Tears of Steel: counted from the frames, the MANIFEST gives "
            "none).", "",
            "| clip | expected | found | exact |", "|---|---|---|---|", *rows, "",
            f"Exact on **{exact} of {len(expected)}** clips; {found_sum} people found where {exp_sum} are expected."]


def main() -> None:
    media = media_dir()
    with tempfile.TemporaryDirectory() as tmp:
        ocr_lines = ocr_section(media, Path(tmp))
        face_lines = faces_section(media, Path(tmp))
    body = ["## Accuracy: on-screen text and people", "", stamp(), "", "### OCR character error rate", "",
            *ocr_lines, "", "### People by face", "", *face_lines]
    write_section("accuracy", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
