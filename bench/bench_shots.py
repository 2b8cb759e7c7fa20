"""Shot-boundary benchmark: VidLens against PySceneDetect's AdaptiveDetector and TransNetV2 alone, in one run.

Accuracy, on three sets of clips:

* the six real clips of ``shots/`` (truth: ``ground_truth/shots.json`` for four, ``bench/shots_truth.json``,
  hand-annotated, for the two held back) and the static surveillance clips (one shot each);
* spliced clips with boundaries known by construction (``bench/shot_cases.py``): plain cuts,
  white-on-white and dark-on-dark cuts, dissolves and fades through black, a small heavily compressed
  copy, and cuts between shots disturbed by shake, zoom, pan, flashes and objects sliding in.

Groups. ``tune``: the four ``shots/`` clips with published truth, the surveillance clips and the
``tune`` splices, which the detector's settings were chosen on. ``seen``: Sintel, Tears of Steel and
their ``seen`` splices, first held out, then looked at (Sintel's misses and false cut were studied),
so counted as tuning material now. ``held_out``: the ``held_out`` splices, from clips no setting was
ever chosen on; the figure for unseen films. Its later splices (``shot_cases.FRESH_SEEDS``, built after
the change of 13:00 UTC), those of ``shot_cases.NEWEST_SEEDS`` (after the 16:50 UTC change) and its latest
(``shot_cases.LATEST_SEEDS``, built after the last change) chose
nothing and are also pooled on their own.

Methods, each on the same file:

* VidLens: ``detect_boundaries`` on the decoder's tiny YUV frames, with the TransNetV2 network
  scoring the cuts the features are unsure of (the ``shots`` analyzer's default);
* VidLens without the network (``transitions = false``), to show what the network adds;
* PySceneDetect 0.7.2: ``scenedetect.detect(path, AdaptiveDetector())``, defaults;
* TransNetV2 alone, as its package runs it: every frame resized to 48x27 by FFmpeg, 100-frame
  windows every 50 frames, a new shot after each run of frames above 0.5 (VidLens's ONNX copy of the
  same weights).

A detection hits a hard cut within +-1 frame, and a gradual transition anywhere inside
[first - 1, last + 1]; a fade-out, black frames and a fade-in count as one transition.

PySceneDetect's and TransNetV2's results on a splice depend on the clip only, so they are kept beside
the cached clips (``bench/.cache/shot_cases/peers.json``) and computed once per clip; so is TransNetV2
alone's result on a real clip (it is timed each time it runs). ``--skip-transnet-alone`` runs TransNetV2
alone nowhere (its network on every frame costs about 30 CPU-ms a frame, the bulk of a run): its columns
show its cached results where there are some, and ``-`` elsewhere. The header gives the load average at
the start and end of the run: on a shared machine compare the CPU ratios of one run, not its fps.

Speed, on the real clips and a 1080p copy of one (made here with FFmpeg, kept in ``bench/.cache/``):
decode-only (PyAV, same threads), VidLens (probe excluded: decode + sampling + detection + network),
PySceneDetect; wall clock and process CPU time, best of ``--repeat`` interleaved runs. TransNetV2
alone is timed once per clip.

Usage: ``python bench/bench_shots.py [--media DIR] [--repeat 3] [--threads 2] [--skip-transnet-alone] [--no-docs]``
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
import numpy as np

from vidlens.analyze.shotdetect import ShotBoundaryDetector, ShotScore, detect_boundaries, score_boundaries
from vidlens.media.decode import iter_frames
from vidlens.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from vidlens.media.probe import probe
from vidlens.models.transitions import TransitionNet
from vidlens.types import Video

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shot_cases  # noqa: E402
from common import CACHE, REPO, machine, write_section  # noqa: E402

HD_SOURCE = "shots/blender_bbb_0_30.webm"
VIDEO_EXT = {".mp4", ".webm", ".mkv", ".avi", ".gif", ".mov", ".mpg"}
SEEN_REAL = {"shots/blender_sintel_10s.mp4", "shots/blender_tears_of_steel_10s.mp4"}


def decode_only(path: Path, threads: int) -> int:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        s.codec_context.thread_count = threads
        return sum(1 for _ in c.decode(s))


def ours(video: Video, threads: int, net: TransitionNet | None) -> list[int]:
    scorer = None if net is None else net.score_window
    sampled = iter_frames(video, ShotBoundaryDetector.SAMPLING, threads=threads)
    return [b.frame for b in detect_boundaries(sampled, scorer=scorer)]


def pyscenedetect(path: Path) -> list[int]:
    from scenedetect import AdaptiveDetector, detect

    return [start.frame_num for start, _end in detect(str(path), AdaptiveDetector())][1:]


def transnetv2_alone(path: Path, net: TransitionNet, threshold: float = 0.5) -> list[int]:
    """TransNetV2 as its package runs it: FFmpeg 48x27 frames, 100-frame windows every 50 frames."""
    import subprocess

    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-s", "48x27", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 27, 48, 3)
    n = len(frames)
    pad = np.concatenate([frames[:1]] * 25 + [frames] + [frames[-1:]] * (25 + 50 - (n % 50 or 50)))
    p = np.concatenate([net.cut_probabilities(pad[s:s + 100])[25:75] for s in range(0, len(pad) - 99, 50)])[:n]
    above = p > threshold
    # a shot ends at each run of frames above the threshold; the next starts after the run
    return [int(i) + 1 for i in np.flatnonzero(above[:-1] & ~above[1:])]


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


def real_clips(media: Path) -> list[tuple[str, Path, dict | None, str]]:
    """(name, path, truth, group) of the real clips: shots/, surveillance/ and the 1080p copy."""
    truth = json.loads((media / "ground_truth" / "shots.json").read_text())
    truth.update({k: v for k, v in json.loads((REPO / "bench" / "shots_truth.json").read_text()).items()
                  if not k.startswith("_")})
    out: list[tuple[str, Path, dict | None, str]] = []
    for p in sorted((media / "shots").iterdir()):
        if p.suffix in VIDEO_EXT:
            name = f"shots/{p.name}"
            out.append((name, p, truth.get(name), "seen" if name in SEEN_REAL else "tune"))
    for p in sorted((media / "surveillance").iterdir()):
        if p.suffix in VIDEO_EXT:
            out.append((f"surveillance/{p.name}", p, {"cuts": []}, "tune"))
    out.append((f"{HD_SOURCE} @1080p (made here)", make_1080p(media), truth[HD_SOURCE], "tune"))
    return out


def run(media: Path, repeat: int, threads: int, skip_tn: bool = False) -> dict:
    net = TransitionNet.load()
    load_start = os.getloadavg()[0]
    peers_path = shot_cases.CASES_DIR / "peers.json"
    peers = json.loads(peers_path.read_text()) if peers_path.exists() else {}
    rows = []
    for name, path, gt, group in real_clips(media):
        video = probe(path)
        best: dict[str, list[float]] = {k: [float("inf"), float("inf")] for k in ("decode", "ours", "psd")}
        frames = 0
        found: list[int] = []
        psd: list[int] = []
        for _ in range(repeat):  # interleaved, so load on a shared machine hits all of them alike
            runs: dict[str, Callable[[], object]] = {
                "decode": partial(decode_only, path, threads),
                "ours": partial(ours, video, threads, net),
                "psd": partial(pyscenedetect, path),
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
        key = f"{name}:{path.stat().st_size}"  # TransNetV2 alone's result depends on the clip only: kept
        tn_wall = tn_cpu = None
        if not skip_tn:
            tn_wall, tn_cpu, tn_found = timed(partial(transnetv2_alone, path, net))
            peers.setdefault(key, {})["tn"] = list(tn_found)  # type: ignore[call-overload]
            peers_path.write_text(json.dumps(peers, indent=1))
        tn = peers.get(key, {}).get("tn")
        row = {"clip": name, "group": group, "size": f"{video.width}x{video.height}", "frames": frames,
               "decode_s": best["decode"][0], "ours_s": best["ours"][0], "psd_s": best["psd"][0], "tn_s": tn_wall,
               "decode_cpu": best["decode"][1], "ours_cpu": best["ours"][1], "psd_cpu": best["psd"][1],
               "tn_cpu": tn_cpu, "found": {"ours": found, "features": ours(video, threads, None), "psd": psd},
               "truth": gt}
        if tn is not None:
            row["found"]["tn"] = tn
        rows.append(row)
        print(f"{name}: {frames} frames, best wall/cpu s: {best}; {row['found']}", file=sys.stderr)
    for name, (path, gt, group) in shot_cases.build(media).items():
        video = probe(path)
        found = {"ours": ours(video, threads, net), "features": ours(video, threads, None)}
        key = f"{name}:{path.stat().st_size}"  # the peers' results depend on the clip only: kept with it
        kept = peers.setdefault(key, {})
        if "psd" not in kept or ("tn" not in kept and not skip_tn):
            if "psd" not in kept:
                kept["psd"] = pyscenedetect(path)
            if not skip_tn:
                kept["tn"] = transnetv2_alone(path, net)
            peers_path.write_text(json.dumps(peers, indent=1))
        found.update(kept)
        rows.append({"clip": name, "group": group, "fresh": shot_cases.is_fresh(name),
                     "newest": shot_cases.is_newest(name), "latest": shot_cases.is_latest(name),
                     "frames": gt["frames"], "found": found, "truth": gt})
        print(f"{name}: {found}", file=sys.stderr)
    for r in rows:
        r["scores"] = {k: score_boundaries(v, r["truth"]) for k, v in r["found"].items()}
        r["scores"].update({m: None for m in METHODS if m not in r["scores"]})
    return {"rows": rows, "machine": machine(), "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "threads": threads, "repeat": repeat, "load": (load_start, os.getloadavg()[0])}


def _sum(scores: list[ShotScore | None]) -> ShotScore | None:
    if any(s is None for s in scores):  # a method that was not run on every clip of the set has no pooled figure
        return None
    return ShotScore(*(sum(getattr(s, f) for s in scores) for f in ("tp", "fp", "fn", "cut_tp", "cut_fp", "cut_fn")))


def _prf(s: ShotScore | None) -> str:
    if s is None:  # not run (TransNetV2 alone with --skip-transnet-alone and nothing cached)
        return "- | - | -"
    p = s.tp / (s.tp + s.fp) if s.tp + s.fp else 1.0
    r = s.tp / (s.tp + s.fn) if s.tp + s.fn else 1.0
    return f"{s.all_f1:.3f} | {p:.2f} | {r:.2f}"


METHODS = ("ours", "psd", "tn", "features")
SPEED_NOTE = (
    "Speed. Wall: frames per second of the whole job (decode + sampling + detection, and for VidLens the "
    "network on the windows it scores). CPU: process CPU seconds (all threads), which the other load on a "
    "shared machine disturbs less than wall time; cost is VidLens's CPU time as a multiple of decode-only "
    "CPU time (PyAV, same threads, no conversion). PySceneDetect 0.7.2 `detect(path, AdaptiveDetector())`: "
    "defaults, automatic downscale, OpenCV backend; speed-up is its CPU (wall) time over VidLens's. "
    "TransNetV2 alone: FFmpeg 48x27 frames and the network on every frame, timed once."
)
SPEED_HEADER = (
    "| clip | size | frames | decode-only fps | VidLens fps | PySceneDetect fps | TransNetV2 alone fps "
    "| VidLens cost / decode (CPU) | speed-up vs PySceneDetect, CPU (wall) |"
)
ACCURACY_NOTE = (
    "Accuracy (hit: within +-1 frame of a hard cut, or inside [first-1, last+1] of a gradual transition; a "
    "fade-out + black + fade-in is one transition). F1, precision P and recall R per method. *VidLens* is the "
    "default (features + TransNetV2 on the cuts they are unsure of), *features* the same detector with the "
    "network off, *TransNetV2* the network alone at its package's 0.5 threshold. Held-out clips (never "
    "tuned on) first, then the clips the settings were chosen on (`tune`) or looked at (`seen`)."
)
ACCURACY_HEADER = (
    "| clip | group | truth (cuts / gradual) | VidLens F1 | P | R | PySceneDetect F1 | P | R | TransNetV2 F1 | P | R "
    "| features F1 | P | R |"
)


def render(res: dict) -> str:
    rows = res["rows"]
    head = (f"Measured {res['date']} on {res['machine']} (`nproc` {os.cpu_count()}), load average (1 min) "
            f"{res['load'][0]:.1f} at the start and {res['load'][1]:.1f} at the end; decoder threads {res['threads']}, "
            f"best of {res['repeat']} interleaved runs. `python bench/bench_shots.py`.")
    out = [head, "", SPEED_NOTE, "", SPEED_HEADER, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    timed_rows = [r for r in rows if "decode_s" in r]
    for r in timed_rows:
        n = r["frames"]
        tn_fps = "-" if r["tn_s"] is None else f"{n / r['tn_s']:.0f}"
        out.append(f"| {r['clip']} | {r['size']} | {n} | {n / r['decode_s']:.0f} | {n / r['ours_s']:.0f} | "
                   f"{n / r['psd_s']:.0f} | {tn_fps} | {r['ours_cpu'] / r['decode_cpu']:.2f}x | "
                   f"{r['psd_cpu'] / r['ours_cpu']:.2f}x ({r['psd_s'] / r['ours_s']:.2f}x) |")
    for label, sel in (("all but the 1080p copy", [r for r in timed_rows if "@" not in r["clip"]]),
                       ("videos only (no GIF), all", [r for r in timed_rows if ".gif" not in r["clip"]])):
        t = {k: sum(r[k] for r in sel) for k in ("frames", "decode_s", "ours_s", "psd_s", "decode_cpu",
                                                  "ours_cpu", "psd_cpu")}
        tn_fps = "-" if any(r["tn_s"] is None for r in sel) else f"{t['frames'] / sum(r['tn_s'] for r in sel):.0f}"
        out.append(f"| **{label}** | | {t['frames']} | {t['frames'] / t['decode_s']:.0f} | "
                   f"{t['frames'] / t['ours_s']:.0f} | {t['frames'] / t['psd_s']:.0f} | {tn_fps} | "
                   f"**{t['ours_cpu'] / t['decode_cpu']:.2f}x** | "
                   f"**{t['psd_cpu'] / t['ours_cpu']:.2f}x** ({t['psd_s'] / t['ours_s']:.2f}x) |")
    out += ["", ACCURACY_NOTE]
    scored = [r for r in rows if "@" not in r["clip"]]
    for title, sel in (("Held out (never tuned on)", [r for r in scored if r["group"] == "held_out"]),
                       ("Tuned on", [r for r in scored if r["group"] != "held_out"])):
        out += ["", f"{title}:", "", ACCURACY_HEADER, "|---|---|---|" + "---:|" * 12]
        for r in sel:
            s = r["scores"]
            o = s["ours"]
            cuts, soft = o.cut_tp + o.cut_fn, o.tp + o.fn - o.cut_tp - o.cut_fn
            out.append(f"| {r['clip']} | {r['group'].replace('_', ' ')} | {cuts} / {soft} | "
                       + " | ".join(_prf(s[m]) for m in METHODS) + " |")
    out += ["", "Pooled:", "", ACCURACY_HEADER.replace("| clip | group |", "| set | |"), "|---|---|---|" + "---:|" * 12]
    for label, sel in (("tuned on (tune + seen), pooled", [r for r in scored if r["group"] != "held_out"]),
                       ("seen real films (Sintel, Tears of Steel)", [r for r in scored if r["clip"] in SEEN_REAL]),
                       ("held out (never tuned on), pooled", [r for r in scored if r["group"] == "held_out"]),
                       ("held out, splices of seeds 3/4 (built after the 13:00 UTC change)",
                        [r for r in scored if r.get("fresh")]),
                       ("held out, splices of seeds 5/6 (built after the 16:50 UTC change)",
                        [r for r in scored if r.get("newest")]),
                       ("held out, latest splices (seeds 7/8, built after the last change)",
                        [r for r in scored if r.get("latest")])):
        sums = {m: _sum([r["scores"][m] for r in sel]) for m in METHODS}
        o = sums["ours"]
        out.append(f"| **{label}** | | {o.cut_tp + o.cut_fn} / {o.tp + o.fn - o.cut_tp - o.cut_fn} | "
                   + " | ".join(_prf(sums[m]) for m in METHODS) + " |")
    worse = [r["clip"] for r in scored if r["scores"]["ours"].all_f1 < r["scores"]["psd"].all_f1]
    out += ["", f"Clips where VidLens's F1 is below PySceneDetect's: {', '.join(worse) if worse else 'none'}."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, default=Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-transnet-alone", action="store_true",
                    help="run TransNetV2 alone nowhere; show its cached results where there are some")
    ap.add_argument("--no-docs", action="store_true", help="print the table only")
    args = ap.parse_args(argv)
    if not (args.media / "ground_truth" / "shots.json").is_file():
        print(f"media corpus not found at {args.media} (set VIDLENS_MEDIA_DIR or --media)", file=sys.stderr)
        return 2
    text = render(run(args.media, args.repeat, args.threads, args.skip_transnet_alone))
    print(text)
    if not args.no_docs:
        write_section("shots", "## Shot detection\n\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
