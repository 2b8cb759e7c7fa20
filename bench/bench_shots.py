"""Shot-boundary benchmark: VidLens's detector against PySceneDetect's AdaptiveDetector, in one run.

For every clip in ``shots/`` and ``surveillance/`` of the shared media corpus, plus a 1080p copy of
one 720p clip made here with FFmpeg (kept in ``bench/.cache/``), it measures side by side:

* decode-only time: PyAV decoding every frame with the same thread settings as VidLens's decoder
  (``thread_type="AUTO"``, ``--threads``), no pixel conversion;
* VidLens: probe excluded, then decode + tiny-YUV sampling + detection
  (``detect_boundaries(iter_frames(video, ShotBoundaryDetector.SAMPLING))``), and the detector alone
  on frames decoded beforehand;
* PySceneDetect 0.7.2: ``scenedetect.detect(path, AdaptiveDetector())``: default settings, default
  automatic downscale, default OpenCV backend.

Each timing (wall clock and process CPU time) is the best of ``--repeat`` interleaved runs. Accuracy uses ``score_boundaries``: a
detection hits a hard cut within +-1 frame, and a gradual transition anywhere inside
[first - 1, last + 1]; a fade-out, black frames and a fade-in count as one transition; for the hard-cut
F1, detections that hit a gradual transition are left out. Surveillance clips are single static shots:
every boundary there is a false positive. Two ``shots/`` clips have no published ground truth; their
detections are listed for inspection.

Usage: ``python bench/bench_shots.py [--media DIR] [--repeat 3] [--threads 2] [--no-docs]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import av

from vidlens.analyze.shotdetect import ShotBoundaryDetector, ShotScore, detect_boundaries, score_boundaries
from vidlens.media.decode import iter_frames
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe
from vidlens.types import Video

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, REPO, machine, write_section  # noqa: E402

HD_SOURCE = "shots/blender_bbb_0_30.webm"
VIDEO_EXT = {".mp4", ".webm", ".mkv", ".avi", ".gif", ".mov", ".mpg"}


def decode_only(path: Path, threads: int) -> int:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        s.codec_context.thread_count = threads
        return sum(1 for _ in c.decode(s))


def ours(video: Video, threads: int) -> list[int]:
    sampled = iter_frames(video, ShotBoundaryDetector.SAMPLING, threads=threads)
    return [b.frame for b in detect_boundaries(sampled)]


def pyscenedetect(path: Path) -> list[int]:
    from scenedetect import AdaptiveDetector, detect

    return [start.frame_num for start, _end in detect(str(path), AdaptiveDetector())][1:]


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall-clock and process CPU seconds (all threads) of one call, and its result."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def make_1080p(media: Path) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / "blender_bbb_0_30_1080p.mp4"
    if not out.exists():
        tmp = out.with_suffix(".part.mp4")
        run_ffmpeg(["-y", "-i", str(media / HD_SOURCE), "-vf", "scale=1920:1080:flags=lanczos", "-an",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(tmp)])
        tmp.replace(out)
    return out




def run(media: Path, repeat: int, threads: int) -> dict:
    truth = json.loads((media / "ground_truth" / "shots.json").read_text())
    clips = [(f"shots/{p.name}", p) for p in sorted((media / "shots").iterdir()) if p.suffix in VIDEO_EXT]
    clips += [(f"surveillance/{p.name}", p) for p in sorted((media / "surveillance").iterdir())
              if p.suffix in VIDEO_EXT]
    clips.append(("shots/blender_bbb_0_30.webm @1080p (made here)", make_1080p(media)))
    rows = []
    for name, path in clips:
        video = probe(path)
        best: dict[str, list[float]] = {k: [float("inf"), float("inf")] for k in ("decode", "ours", "psd", "det")}
        frames = 0
        found: list[int] = []
        psd: list[int] = []
        samples = list(iter_frames(video, ShotBoundaryDetector.SAMPLING, threads=threads))
        for _ in range(repeat):  # interleaved, so load on a shared machine hits all of them alike
            runs: dict[str, Callable[[], object]] = {
                "decode": partial(decode_only, path, threads),
                "ours": partial(ours, video, threads),
                "psd": partial(pyscenedetect, path),
                "det": partial(detect_boundaries, samples),
            }
            for key, fn in runs.items():
                wall, cpu, out = timed(fn)
                best[key] = [min(best[key][0], wall), min(best[key][1], cpu)]
                if key == "decode":
                    frames = int(out)  # type: ignore[call-overload]
                elif key == "ours":
                    found = list(out)  # type: ignore[call-overload]
                elif key == "psd":
                    psd = list(out)  # type: ignore[call-overload]
        key = name.split(" @")[0]
        gt = truth.get(key)
        if gt is None and key.startswith("surveillance/"):
            gt = {"cuts": []}
        row = {"clip": name, "size": f"{video.width}x{video.height}", "frames": frames,
               "decode_s": best["decode"][0], "ours_s": best["ours"][0], "psd_s": best["psd"][0],
               "decode_cpu": best["decode"][1], "ours_cpu": best["ours"][1], "psd_cpu": best["psd"][1],
               "detector_ms_per_frame": 1e3 * best["det"][1] / frames,
               "ours": found, "psd": psd, "truth": gt is not None}
        if gt is not None:
            row["ours_score"] = score_boundaries(found, gt)
            row["psd_score"] = score_boundaries(psd, gt)
        rows.append(row)
        print(f"{name}: {frames} frames, best wall/cpu s: {best}; ours {found} psd {psd}", file=sys.stderr)
    return {"rows": rows, "machine": machine(), "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "threads": threads, "repeat": repeat}


def _sum(scores: list[ShotScore]) -> ShotScore:
    return ShotScore(*(sum(getattr(s, f) for s in scores) for f in ("tp", "fp", "fn", "cut_tp", "cut_fp", "cut_fn")))


SPEED_NOTE = (
    "Speed. Wall: frames per second of the whole job (decode + sampling + detection). CPU: process "
    "CPU seconds (all threads), which the other load on a shared machine disturbs less than wall time; "
    "cost is VidLens's CPU time as a multiple of decode-only CPU time (PyAV, same threads, no "
    "conversion). Detector: CPU ms per frame of `detect_boundaries` on frames decoded beforehand. "
    "PySceneDetect 0.7.2 `detect(path, AdaptiveDetector())`: defaults, automatic downscale, OpenCV "
    "backend; speed-up is its CPU (wall) time over VidLens's."
)
SPEED_HEADER = (
    "| clip | size | frames | decode-only fps | VidLens fps | PySceneDetect fps | VidLens cost / decode "
    "(CPU) | detector ms/frame | speed-up vs PySceneDetect, CPU (wall) |"
)
ACCURACY_NOTE = (
    "Accuracy against `ground_truth/shots.json` (hit: within +-1 frame of a hard cut, or inside "
    "[first-1, last+1] of a gradual transition; a fade-out + black + fade-in is one transition; hard-cut "
    "F1 leaves out detections that hit a gradual transition). Surveillance clips are one static shot "
    "each: every boundary is a false positive."
)
ACCURACY_HEADER = (
    "| clip | truth (cuts / gradual) | VidLens F1 all | VidLens F1 hard cuts | PySceneDetect F1 all "
    "| PySceneDetect F1 hard cuts | VidLens boundaries | PySceneDetect boundaries |"
)


def render(res: dict) -> str:
    rows = res["rows"]
    head = (f"Measured {res['date']} on {res['machine']}; decoder threads {res['threads']}, best of "
            f"{res['repeat']} interleaved runs. `python bench/bench_shots.py`.")
    out = [head, "", SPEED_NOTE, "", SPEED_HEADER, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        n = r["frames"]
        out.append(f"| {r['clip']} | {r['size']} | {n} | {n / r['decode_s']:.0f} | {n / r['ours_s']:.0f} | "
                   f"{n / r['psd_s']:.0f} | {r['ours_cpu'] / r['decode_cpu']:.2f}x | {r['detector_ms_per_frame']:.3f} | "
                   f"{r['psd_cpu'] / r['ours_cpu']:.2f}x ({r['psd_s'] / r['ours_s']:.2f}x) |")
    for label, sel in (("all but the 1080p copy", [r for r in rows if "@" not in r["clip"]]),
                       ("videos only (no GIF), all", [r for r in rows if ".gif" not in r["clip"]])):
        t = {k: sum(r[k] for r in sel) for k in ("frames", "decode_s", "ours_s", "psd_s", "decode_cpu", "ours_cpu",
                                                  "psd_cpu")}
        out.append(f"| **{label}** | | {t['frames']} | {t['frames'] / t['decode_s']:.0f} | "
                   f"{t['frames'] / t['ours_s']:.0f} | {t['frames'] / t['psd_s']:.0f} | "
                   f"**{t['ours_cpu'] / t['decode_cpu']:.2f}x** | | "
                   f"**{t['psd_cpu'] / t['ours_cpu']:.2f}x** ({t['psd_s'] / t['ours_s']:.2f}x) |")
    out += ["", ACCURACY_NOTE, "", ACCURACY_HEADER, "|---|---|---:|---:|---:|---:|---|---|"]
    scored = [r for r in rows if r["truth"]]
    for r in scored:
        o, p = r["ours_score"], r["psd_score"]
        out.append(f"| {r['clip']} | {o.cut_tp + o.cut_fn} / {o.tp + o.fn - o.cut_tp - o.cut_fn} | "
                   f"{o.all_f1:.3f} | {o.cut_f1:.3f} | {p.all_f1:.3f} | {p.cut_f1:.3f} | "
                   f"{_fmt(r['ours'])} | {_fmt(r['psd'])} |")
    gt_clips = [r for r in scored if "@" not in r["clip"]]
    for label, sel in (("all clips with cut lists", [r for r in gt_clips if r["clip"].startswith("shots/")]),
                       ("surveillance (false boundaries)", [r for r in gt_clips if r["clip"].startswith("surv")])):
        o, p = _sum([r["ours_score"] for r in sel]), _sum([r["psd_score"] for r in sel])
        if label.startswith("surv"):
            out.append(f"| **{label}** | 0 | {o.fp} boundaries | | {p.fp} boundaries | | | |")
        else:
            out.append(f"| **{label}** | {o.cut_tp + o.cut_fn} / {o.tp + o.fn - o.cut_tp - o.cut_fn} | "
                       f"**{o.all_f1:.3f}** | **{o.cut_f1:.3f}** | {p.all_f1:.3f} | {p.cut_f1:.3f} | | |")
    held = [r for r in rows if not r["truth"]]
    if held:
        out += ["", "Held-back clips (no published ground truth; never used for tuning), detections for inspection:", ""]
        out += [f"- {r['clip']}: VidLens {_fmt(r['ours'])}; PySceneDetect {_fmt(r['psd'])}" for r in held]
    return "\n".join(out) + "\n"


def _fmt(frames: list[int]) -> str:
    return "[" + ", ".join(map(str, frames)) + "]" if len(frames) <= 12 else f"{len(frames)} boundaries"




def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, default=Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-docs", action="store_true", help="print the table only")
    args = ap.parse_args(argv)
    if not (args.media / "ground_truth" / "shots.json").is_file():
        print(f"media corpus not found at {args.media} (set VIDLENS_MEDIA_DIR or --media)", file=sys.stderr)
        return 2
    text = render(run(args.media, args.repeat, args.threads))
    print(text)
    if not args.no_docs:
        write_section("shots", "## Shot detection\n\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
