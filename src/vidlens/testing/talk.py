"""A talk of any length with known pauses: real spoken clips joined with pauses of random length.

Each clip is held on its first frame through the pause before it (the speaker stays on screen) and
its sound is delayed by the pause; quiet room noise runs under everything, about 50 dB below the
speech, as in a real recording. The speech spans are known by construction, so silence removal can
be checked against them, and a ten-minute talk for benchmarks is one call.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe


def build_talk(clips: Sequence[Path], out: Path, *, seconds: float, size: tuple[int, int] = (640, 360),
               fps: int = 25, pause: tuple[float, float] = (0.4, 2.0), seed: int = 0) -> dict[str, object]:
    """Write ``out`` (H.264/AAC MP4) of about ``seconds``; return the clips' spans in it."""
    if not clips:
        raise ValueError("no clips to build a talk from")
    rng = random.Random(seed)
    lengths = [probe(c).duration_s for c in clips]
    order: list[tuple[int, float]] = []
    total = 0.0
    while total < seconds:
        k = len(order) % len(clips)
        gap = round(rng.uniform(*pause) * fps) / fps
        order.append((k, gap))
        total += gap + lengths[k]
    w, h = size
    uses = [sum(1 for k, _ in order if k == i) for i in range(len(clips))]
    chains = []
    for i, n in enumerate(uses):
        if n == 0:
            continue
        chains.append(f"[{i}:v]fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,"
                      f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,split={n}"
                      + "".join(f"[v{i}_{j}]" for j in range(n)))
        chains.append(f"[{i}:a]aresample=48000,aformat=channel_layouts=stereo,asplit={n}"
                      + "".join(f"[a{i}_{j}]" for j in range(n)))
    seen = [0] * len(clips)
    spans = []
    t = 0.0
    pieces = []
    for p, (k, gap) in enumerate(order):
        j = seen[k]
        seen[k] += 1
        frames = round(lengths[k] * fps)
        chains.append(f"[v{k}_{j}]trim=end_frame={frames},setpts=PTS-STARTPTS,"
                      f"tpad=start_mode=clone:start_duration={gap}[pv{p}]")
        dur = gap + frames / fps
        chains.append(f"[a{k}_{j}]atrim=end={frames / fps},asetpts=PTS-STARTPTS,adelay={round(gap * 1000)}:all=1,"
                      f"apad=whole_dur={dur},atrim=end={dur}[pa{p}]")
        pieces.append(f"[pv{p}][pa{p}]")
        spans.append({"clip": Path(clips[k]).name, "start_s": round(t + gap, 3), "end_s": round(t + dur, 3)})
        t += dur
    chains.append("".join(pieces) + f"concat=n={len(order)}:v=1:a=1[v][speech]")
    chains.append(f"anoisesrc=a=0.002:c=pink:r=48000:seed={seed}:d={t},aformat=channel_layouts=stereo[room]")
    chains.append("[speech][room]amix=inputs=2:normalize=0:duration=first[a]")
    out.parent.mkdir(parents=True, exist_ok=True)
    graph = out.with_name(out.name + ".graph.txt")
    graph.write_text(";".join(chains), encoding="utf-8")
    try:
        args = [a for c in clips for a in ("-i", str(c))]
        run_ffmpeg(args + ["-/filter_complex", str(graph), "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
                           "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "128k", str(out)])
    finally:
        graph.unlink(missing_ok=True)
    return {"duration_s": round(t, 3), "fps": fps, "speech": spans}
