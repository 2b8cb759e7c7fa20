"""Speech and technical-cue benchmark on the shared media corpus.

Measures, in one run on this machine:
* ASR word error rate (normalised: case, punctuation, numbers) on every clip with a
  reference in ground_truth/transcripts.json, for Whisper tiny.en and Whisper base
  (base detecting the language itself) side by side, with speed as x real time
  (audio seconds / wall seconds, whole analyzer: decode + VAD + Whisper; models
  loaded before timing);
* the same utterances joined into one file with pauses (long-form path: speech
  packed into 30 s windows);
* Silero VAD speed on all that audio;
* technical cues: black frames found on shots/pyscenedetect_testvideo.mp4 against
  its black_frames ground truth (frame-level precision/recall), and the technical
  analyzer's speed including the decode.

Writes the figures into docs/benchmarks.md between the bench:speech markers.
Usage: python bench/bench_speech.py [--media DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from common import machine, write_section  # noqa: E402

from vidlens.analyze.base import AnalysisContext  # noqa: E402
from vidlens.analyze.builtin.speech import SpeechAnalyzer  # noqa: E402
from vidlens.analyze.builtin.technical import TechnicalAnalyzer  # noqa: E402
from vidlens.analyze.wer import normalize, wer  # noqa: E402
from vidlens.media.audio import load_audio  # noqa: E402
from vidlens.media.decode import iter_frames  # noqa: E402
from vidlens.media.probe import probe  # noqa: E402
from vidlens.models.vad import SileroVad  # noqa: E402





def asr(media: Path, refs: dict[str, dict]) -> tuple[list[str], dict[str, dict]]:
    models = {"tiny.en": {"model": "tiny.en"}, "base": {"model": "base"}}
    rows, totals = [], {m: {"err": 0, "words": 0, "audio": 0.0, "wall": 0.0, "lang_ok": 0, "n": 0} for m in models}
    analyzers = {m: SpeechAnalyzer.from_dict(cfg) for m, cfg in models.items()}
    warm = probe(REPO / "src/vidlens/analyze/builtin/data/jfk.opus", require_video=False)
    for a in analyzers.values():  # load models outside the timed runs
        a.analyze(AnalysisContext(video=warm), iter(()))
    for rel, ref in sorted(refs.items()):
        path = media / rel
        if not path.is_file():
            continue
        video = probe(path, require_video=False)
        cells = []
        for m, a in analyzers.items():
            t0 = time.perf_counter()
            doc = a.analyze(AnalysisContext(video=video), iter(()))
            wall = time.perf_counter() - t0
            hyp = " ".join(s["text"] for s in doc["transcript"])
            e, n = wer(ref["text"], hyp)
            tot = totals[m]
            tot["err"] += e
            tot["words"] += n
            tot["audio"] += video.duration_s
            tot["wall"] += wall
            tot["n"] += 1
            tot["lang_ok"] += doc["language"] == "en"
            cells.append(f"{100 * e / max(n, 1):.0f} % (`{' '.join(normalize(hyp))}`)")
        rows.append(f"| `{rel}` | {video.duration_s:.1f} | " + " | ".join(cells) + " |")
    return rows, totals


def long_form(media: Path, refs: dict[str, dict], tmp: Path) -> dict[str, dict]:
    """All clips in one file, 2 s of silence between them: a talk-show-like timeline with pauses."""
    import wave

    import numpy as np

    rels = [r for r in sorted(refs) if (media / r).is_file()]
    gap = np.zeros(32000, np.float32)
    audio = np.concatenate([x for r in rels for x in (load_audio(media / r), gap)])
    path = tmp / "long_form.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    video = probe(path, require_video=False)
    reference = " ".join(refs[r]["text"] for r in rels)
    out = {}
    for m in ("tiny.en", "base"):
        a = SpeechAnalyzer.from_dict({"model": m})
        t0 = time.perf_counter()
        doc = a.analyze(AnalysisContext(video=video), iter(()))
        wall = time.perf_counter() - t0
        e, n = wer(reference, " ".join(s["text"] for s in doc["transcript"]))
        out[m] = {"wer": e / n, "xrt": video.duration_s / wall, "seconds": video.duration_s,
                  "speech_s": doc["speech_s"], "segments": len(doc["transcript"])}
    return out


def vad_speed(media: Path, refs: dict[str, dict]) -> tuple[float, float]:
    import numpy as np

    audio = np.concatenate([load_audio(media / rel) for rel in sorted(refs) if (media / rel).is_file()])
    vad = SileroVad()
    vad.probabilities(audio[:16000])
    t0 = time.perf_counter()
    for _ in range(3):
        vad.probabilities(audio)
    return audio.size / 16000, (time.perf_counter() - t0) / 3


def black_frames(media: Path) -> dict[str, float]:
    rel = "shots/pyscenedetect_testvideo.mp4"
    gt = json.loads((media / "ground_truth/shots.json").read_text())[rel]
    video = probe(media / rel)
    a = TechnicalAnalyzer()
    t0 = time.perf_counter()
    doc = a.analyze(AnalysisContext(video=video), iter_frames(video, a.sampling_for(video)))
    wall = time.perf_counter() - t0
    fps, n = float(gt["fps"]), int(gt["frames"])
    truth = {i for a_, b in gt["black_frames"] for i in range(a_, b + 1)}
    spans = [(c["start_s"], c["end_s"]) for c in doc["cues"] if c["kind"] == "black"]
    found = {i for i in range(n) if any(s <= (i + 0.5) / fps < e for s, e in spans)}
    tp = len(truth & found)
    return {"precision": tp / max(1, len(found)), "recall": tp / max(1, len(truth)), "spans": len(spans),
            "truth_spans": len(gt["black_frames"]), "xrt": video.duration_s / wall,
            "spans_list": ", ".join(f"{s:.2f}–{e:.2f}" for s, e in spans),
            "truth_list": ", ".join(f"{a_ / fps:.2f}–{(b + 1) / fps:.2f}" for a_, b in gt["black_frames"])}




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, default=Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared/media")))
    args = ap.parse_args()
    refs = {k: v for k, v in json.loads((args.media / "ground_truth/transcripts.json").read_text()).items()
            if not k.startswith("_")}
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    rows, totals = asr(args.media, refs)
    with tempfile.TemporaryDirectory() as tmp:
        lf = long_form(args.media, refs, Path(tmp))
    audio_s, vad_s = vad_speed(args.media, refs)
    bf = black_frames(args.media)
    summary = [f"| {m} | {t['n']} | {t['words']} | **{100 * t['err'] / max(1, t['words']):.1f} %** | "
               f"{t['audio'] / max(t['wall'], 1e-9):.1f}× | {t['lang_ok']}/{t['n']} |" for m, t in totals.items()]
    text = "\n".join([
        "## Speech and technical cues (`bench/bench_speech.py`)",
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()} (load average {load} when the run began: the "
        "cores were shared with other work, so speeds are lower bounds). Whisper on CPU, int8, 2 threads, greedy decoding "
        "(`beam_size=1, temperature=0, condition_on_previous_text=False`), Silero VAD in front. Speed is audio seconds "
        "per wall second for the whole speech analyzer (audio decode + VAD + Whisper), models loaded before timing. "
        "WER is normalised (case, punctuation, digits spelled out) and summed over all clips.",
        "",
        "| model | clips | reference words | WER | speed (× real time) | language = en |",
        "|---|---|---|---|---|---|",
        *summary,
        "",
        f"Long form: the same {len(refs)} utterances in one {lf['base']['seconds']:.0f} s file with 2 s pauses "
        f"({lf['base']['speech_s']:.0f} s of detected speech, packed into 30 s Whisper windows): "
        + "; ".join(f"{m} WER {100 * r['wer']:.1f} % at {r['xrt']:.1f}× real time" for m, r in lf.items()) + ".",
        "",
        f"Base detects the language itself (no language given); tiny.en is English-only. "
        f"Silero VAD: {audio_s:.1f} s of audio in {vad_s * 1000:.0f} ms = {audio_s / vad_s:.0f}× real time (1 thread).",
        "",
        "Technical cues, black frames on `shots/pyscenedetect_testvideo.mp4` (24 s, 1280×720, 29.97 fps) at 8 sampled "
        f"frames/s: frame-level precision {bf['precision']:.3f}, recall {bf['recall']:.3f}; "
        f"{bf['spans']} spans found ({bf['spans_list']} s) for {bf['truth_spans']} in the ground truth "
        f"({bf['truth_list']} s). The technical analyzer ran at {bf['xrt']:.1f}× real time including its own "
        "full decode of the 720p file (in the runner the decode is shared with the other analyzers).",
        "",
        "<details><summary>Per clip (WER, normalised hypothesis)</summary>",
        "",
        "| clip | seconds | tiny.en | base |",
        "|---|---|---|---|",
        *rows,
        "",
        "</details>",
    ])
    write_section("speech", text)
    path = REPO / "docs" / "benchmarks.md"
    print(text)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
