"""Silence removal on a ten-minute talk: VidLens against auto-editor, same file, same settings, same run.

Usage: python bench/bench_edit.py [--minutes 10] [--auto-editor PATH]

The talk is built from the shared GRID clips (real speech, 11 speakers) with pauses of 0.4-2 s and
room noise under everything (``vidlens.testing.talk``), 640x360, 25 fps. Both tools use auto-editor's
defaults: threshold 4 % of the peak, 0.2 s margins, minimum clip 3 frames, minimum cut 6 frames, and
both encode H.264 (libx264) + AAC. Reported: wall time of each (whole command: analysis and render),
the ratio, and how far each of VidLens's cut points is from the nearest of auto-editor's.

The PyPI auto-editor (29.x) is a launcher that downloads its binary on first run, so it cannot run
on a machine without internet; the Debian package (``apt-get install auto-editor``, 22w52a, the
Python implementation) is used when it is the one found.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, media_dir, stamp, write_section  # noqa: E402

from vidlens.testing.talk import build_talk  # noqa: E402


def auto_editor_cmd(path: str | None) -> tuple[list[str], str]:
    exe = path or shutil.which("auto-editor")
    if exe is None:
        raise SystemExit("auto-editor not found: apt-get install auto-editor (or pass --auto-editor)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0 or "download" in (out.stdout + out.stderr).lower():
        raise SystemExit(f"{exe} does not run here: {(out.stdout + out.stderr).strip()[:300]}")
    return [exe], out.stdout.strip()


def ae_cuts(timeline: dict) -> list[float]:
    """Source-time boundaries of auto-editor's kept clips (its JSON timeline, in frames of its timebase)."""
    num, den = (int(x) for x in str(timeline["timeline"]["timebase"]).split("/"))
    out = []
    for clip in timeline["timeline"]["v"][0]:
        out += [clip["offset"] * den / num, (clip["offset"] + clip["dur"]) * den / num]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--auto-editor", default=None)
    args = ap.parse_args()
    ae, ae_version = auto_editor_cmd(args.auto_editor)
    grid = sorted((media_dir() / "av_speech_grid").glob("*.mpg"))
    CACHE.mkdir(parents=True, exist_ok=True)
    talk = CACHE / f"talk_{args.minutes:g}min.mp4"
    if not talk.exists():
        truth = build_talk(grid, talk, seconds=args.minutes * 60, seed=1)
        print(f"built {talk} ({truth['duration_s']} s)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        t0 = time.perf_counter()
        ours = subprocess.run([sys.executable, "-m", "vidlens", "edit", str(talk), "-o", str(t / "ours.mp4"),
                               "--silence", "--keep-level", "--no-sign", "--json", "--data-dir", str(t / "data")],
                              capture_output=True, text=True, check=True)
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([*ae, str(talk), "--no-open", "--progress", "none", "-c:v", "libx264", "-c:a", "aac",
                        "-o", str(t / "ae.mp4")], capture_output=True, text=True, check=True)
        ae_s = time.perf_counter() - t0
        subprocess.run([*ae, str(talk), "--no-open", "--progress", "none", "--export", "json",
                        "-o", str(t / "ae.json")], capture_output=True, text=True, check=True)
        theirs = ae_cuts(json.loads((t / "ae.json").read_text()))
    decisions = json.loads(ours.stdout)["decisions"]
    mine = [x for s in decisions["segments"] if s["keep"] for x in (s["start_s"], s["end_s"])]
    dist = sorted(min(abs(m - a) for a in theirs) for m in mine)
    within = sum(d <= 0.1 for d in dist) / len(dist)
    body = f"""## Edit: silence removal against auto-editor (`bench/bench_edit.py`)

{stamp()} Taken while other work shared the 2 cores (under load): the timings are noisy.

Talk: {decisions['duration_s']} s, 640x360 25 fps H.264/AAC, built from the 11 GRID clips with 0.4-2 s
pauses and room noise (`vidlens.testing.talk`, seed 1). Peer: auto-editor {ae_version} (Debian package;
the PyPI 29.x launcher downloads its binary at run time and cannot run offline). Settings: auto-editor's
defaults on both sides (threshold 0.04 of peak, margin 0.2 s, min clip 3 frames, min cut 6 frames),
libx264 + AAC; VidLens with `--keep-level` (no loudness pass, as auto-editor).

| | wall s | output |
|---|---|---|
| VidLens `vidlens edit --silence` | {ours_s:.1f} | {decisions['output_duration_s']} s, {decisions['kept']} clips |
| auto-editor | {ae_s:.1f} | {len(theirs) // 2} clips |
| speed ratio (auto-editor time / VidLens time) | **{ae_s / ours_s:.2f}x** | |

Cut points: {len(mine)} VidLens boundaries against {len(theirs)} of auto-editor's; distance to the nearest:
median {dist[len(dist) // 2]:.3f} s, max {dist[-1]:.3f} s; **{100 * within:.1f} %** within 0.1 s.
"""
    write_section("edit-silence", body)
    print(body)


if __name__ == "__main__":
    main()
