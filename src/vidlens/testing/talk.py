"""A talk of any length with known pauses: real spoken clips joined with pauses of random length; and a
dialogue: two of them side by side, taking turns.

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


def build_dialogue(left: Path, right: Path, out: Path, *, turns: int = 4, size: tuple[int, int] = (360, 288),
                   fps: int = 25, pause: tuple[float, float] = (0.4, 1.0), seed: int = 0) -> dict[str, object]:
    """Write ``out``: two people side by side taking turns, ``left`` first. Each turn one of them says their
    clip (sound and picture) while the other holds still on their clip's first frame, a pause of random
    length before each turn. The video is lossless (H.264 at QP 0), so a test can compare pixels; returns
    each turn's span and side."""
    rng = random.Random(seed)
    clips = (left, right)
    frames = [round(probe(c).duration_s * fps) for c in clips]
    gaps = [round(rng.uniform(*pause) * fps) for _ in range(turns)]
    w, h = size
    speaks = [sum(1 for k in range(turns) if k % 2 == i) for i in (0, 1)]
    chains = []
    for i in (0, 1):
        chains.append(f"[{i}:v]fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,"
                      f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,split={turns}"
                      + "".join(f"[v{i}_{k}]" for k in range(turns)))
        chains.append(f"[{i}:a]aresample=48000,aformat=channel_layouts=stereo,asplit={max(speaks[i], 1)}"
                      + "".join(f"[a{i}_{j}]" for j in range(max(speaks[i], 1))))
        if speaks[i] == 0:
            chains.append(f"[a{i}_0]anullsink")
    spans = []
    t = 0
    for k in range(turns):
        s = k % 2
        n = frames[s]
        chains.append(f"[v{s}_{k}]trim=end_frame={n},setpts=PTS-STARTPTS,"
                      f"tpad=start_mode=clone:start={gaps[k]}[p{s}_{k}]")
        chains.append(f"[v{1 - s}_{k}]trim=end_frame=1,setpts=PTS-STARTPTS,"
                      f"tpad=stop_mode=clone:stop={gaps[k] + n - 1}[p{1 - s}_{k}]")
        dur = (gaps[k] + n) / fps
        chains.append(f"[a{s}_{k // 2}]atrim=end={n / fps},asetpts=PTS-STARTPTS,"
                      f"adelay={round(gaps[k] / fps * 1000)}:all=1,apad=whole_dur={dur},atrim=end={dur}[pa{k}]")
        spans.append({"clip": Path(clips[s]).name, "side": ("left", "right")[s],
                      "start_s": round((t + gaps[k]) / fps, 3), "end_s": round((t + gaps[k] + n) / fps, 3)})
        t += gaps[k] + n
    for i in (0, 1):
        chains.append("".join(f"[p{i}_{k}]" for k in range(turns)) + f"concat=n={turns}:v=1:a=0[side{i}]")
    chains.append("".join(f"[pa{k}]" for k in range(turns)) + f"concat=n={turns}:v=0:a=1[a]")
    chains.append("[side0][side1]hstack=inputs=2[v]")
    out.parent.mkdir(parents=True, exist_ok=True)
    graph = out.with_name(out.name + ".graph.txt")
    graph.write_text(";".join(chains), encoding="utf-8")
    try:
        run_ffmpeg(["-i", str(left), "-i", str(right), "-/filter_complex", str(graph), "-map", "[v]", "-map", "[a]",
                    "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "128k", str(out)])
    finally:
        graph.unlink(missing_ok=True)
    return {"duration_s": round(t / fps, 3), "fps": fps, "speech": spans}
