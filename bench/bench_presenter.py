"""Presenter benchmark: lip sync, identity, intelligibility and speed of `vidlens humans speak`.

Portraits are one frame (at 1.0 s) of each GRID clip in the shared corpus but ``bbaf2n`` (the
committed sample, the only face looked at while building the presenter), so every figure is on
faces the warp was never adjusted to. Each portrait reads one of three ~10 s English scripts.

* Lip sync: the mouth opening measured on the output with MediaPipe's face mesh (inner-lip gap
  over mouth width, frame by frame) against the speech loudness envelope (40 ms RMS), Pearson r,
  best over lags of up to ±0.12 s; beside the same measure on the real GRID talking heads, and
  on mismatched pairs (each video's mouth against another one's speech), the chance level.
* Identity: SFace similarity of the face in every other output frame to the portrait's face;
  the share of frames at or above the registry's verification threshold.
* Intelligibility: the project's ASR (the speech analyzer, Whisper tiny.en) on the output,
  word error rate against the script.
* Speed: one 10 s script at 720×1280: CPU seconds per second of video and the stages of one render with the
  models loaded, and whole commands in fresh processes, beside another checkout's (``--baseline-src``).
* Encoding: the x264 settings, each against the frames as drawn (PSNR, SSIM, CPU, the watermark still read).
* Dubbing: lip-synced dubbing of a 1-minute 1280×720 talking head, beside the plain dub: time, CPU, lip sync.

Writes docs/benchmarks.md (bench:presenter markers) and docs/img/presenter.png.
Usage: python bench/bench_presenter.py [--media DIR] [--portraits N] [--only quality|speed|picture|dub|encode]
       [--baseline-src OTHER_CHECKOUT/src]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from common import machine, media_dir, write_section  # noqa: E402

from vidlens.analyze.base import AnalysisContext  # noqa: E402
from vidlens.analyze.builtin.speech import SpeechAnalyzer  # noqa: E402
from vidlens.analyze.wer import wer  # noqa: E402
from vidlens.govern.watermark import detect_video  # noqa: E402
from vidlens.humans.presenter.service import SpeakRequest, speak  # noqa: E402
from vidlens.humans.presenter.visemes import envelope  # noqa: E402
from vidlens.media.audio import load_audio  # noqa: E402
from vidlens.media.ffmpeg import run_ffmpeg  # noqa: E402
from vidlens.media.probe import probe  # noqa: E402

SCRIPTS = (
    "Good evening. Heavy rain is expected across the north tonight, and drivers are asked to take care on "
    "the roads. Tomorrow will be dry and bright, with a light wind from the west.",
    "This jacket is made from recycled wool. It keeps you warm on cold mornings, folds into its own pocket, "
    "and comes in four colours. Order today and it ships tomorrow.",
    "To renew your residence permit, bring your passport, one photo and the letter we sent you. You can book "
    "an appointment online, or call the service centre on weekdays.",
)
RATE = 16000
MAX_LAG = 3  # frames at 25 fps: 0.12 s


def mouth_series(path: Path) -> tuple[np.ndarray, float]:
    """Inner-lip gap / mouth width per frame (NaN where no face), and the frame rate."""
    from mediapipe.python.solutions.face_mesh import FaceMesh

    video = probe(path)
    cap = cv2.VideoCapture(str(path))
    out = []
    with FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=False) as mesh:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            found = mesh.process(bgr[:, :, ::-1]).multi_face_landmarks
            if not found:
                out.append(np.nan)
                continue
            p = found[0].landmark
            h, w = bgr.shape[:2]
            gap = np.hypot((p[13].x - p[14].x) * w, (p[13].y - p[14].y) * h)
            width = np.hypot((p[61].x - p[291].x) * w, (p[61].y - p[291].y) * h)
            out.append(gap / max(width, 1e-6))
    cap.release()
    return np.array(out, np.float64), float(video.fps or 25)


def speech_envelope(path: Path, fps: float, n: int) -> np.ndarray:
    return envelope(load_audio(path, RATE), RATE, fps, n).astype(np.float64)


def lip_sync(mouth: np.ndarray, env: np.ndarray) -> float:
    """Pearson r of mouth opening and loudness, best over lags up to ±MAX_LAG frames."""
    n = min(mouth.size, env.size)
    mouth, env = mouth[:n], env[:n]
    best = -1.0
    for lag in range(-MAX_LAG, MAX_LAG + 1):
        a = mouth[max(0, lag):n + min(0, lag)]
        b = env[max(0, -lag):n - max(0, lag)]
        ok = ~np.isnan(a)
        if ok.sum() > 10 and np.std(a[ok]) > 0 and np.std(b[ok]) > 0:
            best = max(best, float(np.corrcoef(a[ok], b[ok])[0, 1]))
    return best


def mismatched(series: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    """Each mouth against the next video's speech."""
    return [lip_sync(series[i][0], series[(i + 1) % len(series)][1]) for i in range(len(series))]


def identity(path: Path, portrait_vec: np.ndarray, embedders, threshold: float) -> tuple[float, float, int]:
    """(share of sampled frames at or above ``threshold``, median similarity, frames sampled)."""
    cap = cv2.VideoCapture(str(path))
    sims, i = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % 2 == 0:
            faces = embedders.find_faces(bgr, 32)
            sims.append(float(np.dot(faces[0].embedding, portrait_vec)) if faces else -1.0)
        i += 1
    cap.release()
    s = np.array(sims)
    return float(np.mean(s >= threshold)), float(np.median(s)), len(s)


def side_by_side(portrait: Path, video: Path, mouth: np.ndarray, dest: Path) -> None:
    """Portrait | the three most open frames | a strip of the mouth over 2 s."""
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    h = 420
    def fit(img: np.ndarray) -> np.ndarray:
        return cv2.resize(img, (int(img.shape[1] * h / img.shape[0]), h), interpolation=cv2.INTER_AREA)
    order = [int(i) for i in np.argsort(np.nan_to_num(mouth, nan=-1))[::-1]]
    picks: list[int] = []
    for i in order:
        if all(abs(i - j) > 10 for j in picks):
            picks.append(i)
        if len(picks) == 3:
            break
    top = np.hstack([fit(cv2.imread(str(portrait)))] + [fit(frames[i]) for i in sorted(picks)])
    fh, fw = frames[0].shape[:2]
    crop = (slice(int(fh * 0.66), int(fh * 0.9)), slice(int(fw * 0.22), int(fw * 0.78)))  # the mouth and chin
    start = max(0, min(sorted(picks)[0] - 10, len(frames) - 50))
    cells = [frames[i][crop] for i in range(start, min(start + 36, len(frames)), 3)]
    strip = np.hstack(cells)
    strip = cv2.resize(strip, (top.shape[1], int(strip.shape[0] * top.shape[1] / strip.shape[1])),
                       interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(dest), np.vstack([top, strip]), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def still_encode(portrait: Path, audio_from: Path, seconds: float, tmp: Path) -> float:
    """The peer: FFmpeg alone encoding the still portrait with the same speech, size and settings."""
    t0 = time.perf_counter()
    run_ffmpeg(["-loop", "1", "-framerate", "25", "-i", str(portrait), "-i", str(audio_from), "-map", "0:v",
                "-map", "1:a", "-t", f"{seconds:.3f}", "-vf", "scale=720:1280:force_original_aspect_ratio=increase,"
                "crop=720:1280,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                "-c:a", "aac", "-b:a", "160k", "-y", str(tmp / "still.mp4")])
    return time.perf_counter() - t0


def header(load: float) -> str:
    return (f"`python bench/bench_presenter.py`. Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC "
            f"on {machine()}, `nproc` {os.cpu_count()}, load average {load:.1f} "
            f"({'a quiet machine' if load < (os.cpu_count() or 1) else '**under load**, shared with other work'}).")


def quality(media: Path, portraits: int, registry, tmp: Path) -> str:
    grid = sorted(p for p in (media / "av_speech_grid").glob("*.mpg"))
    held_out = [p for p in grid if p.stem != "bbaf2n"][:portraits]
    load = os.getloadavg()[0]
    threshold = registry.settings.face_threshold
    asr = SpeechAnalyzer.from_dict({"model": "tiny.en"})
    asr.analyze(AnalysisContext(video=probe(REPO / "src/vidlens/analyze/builtin/data/jfk.opus",
                                            require_video=False)), iter(()))
    real = []
    for clip in grid:  # real talking heads
        m, fps = mouth_series(clip)
        real.append((m, speech_envelope(clip, fps, m.size)))
    rows, made = [], []
    for i, clip in enumerate(held_out):
        portrait = tmp / f"{clip.stem}.png"
        run_ffmpeg(["-ss", "1.0", "-i", str(clip), "-frames:v", "1", str(portrait)])
        script = SCRIPTS[i % len(SCRIPTS)]
        out = tmp / f"{clip.stem}-presenter.mp4"
        doc = speak(SpeakRequest(portrait=portrait, text=script, size=(360, 640)), out, registry, tmp / "data")
        m, fps = mouth_series(out)
        env = speech_envelope(out, fps, m.size)
        r = lip_sync(m, env)
        vec = registry.embedders.find_faces(cv2.imread(str(portrait)), 1)[0].embedding
        share, median, sampled = identity(out, vec, registry.embedders, threshold)
        heard = asr.analyze(AnalysisContext(video=probe(out)), iter(()))
        hyp = " ".join(s["text"] for s in heard["transcript"])
        e, n = wer(script, hyp)
        marked = detect_video(out)
        made.append((m, env, e, n, share, portrait, out, marked.payload == doc["watermark"]))
        rows.append(f"| `{clip.stem}` | {doc['duration_s']:.1f} | {r:.2f} | {100 * share:.0f} % ({sampled}) | "
                    f"{median:.2f} | {100 * e / max(n, 1):.0f} % | "
                    f"{'read' if marked.payload == doc['watermark'] else 'not read'} "
                    f"({marked.bit_confidence:.2f}) |")
        print(rows[-1], flush=True)
    synth_r = [lip_sync(m, env) for m, env, *_ in made]
    real_r = [lip_sync(m, env) for m, env in real]
    synth_mis = mismatched([(m, env) for m, env, *_ in made])
    real_mis = mismatched(real)
    total_e, total_n = sum(x[2] for x in made), sum(x[3] for x in made)
    shares = [x[4] for x in made]
    best = int(np.argmax(synth_r))
    (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
    side_by_side(made[best][5], made[best][6], made[best][0], REPO / "docs" / "img" / "presenter.png")
    return "\n".join([
        "## Presenter", "", header(load), "",
        f"Portraits: one frame of {len(held_out)} GRID clips (held out: never looked at while building), "
        "360×640 output; lip sync is Pearson r of the mesh-measured mouth opening and the speech envelope, "
        f"best within ±{MAX_LAG / 25:.2f} s.",
        "",
        "| portrait | speech s | lip-sync r | frames ≥ SFace threshold (sampled) | median similarity | WER | "
        "watermark (bit agreement) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "GRID clips all open with silence and close with it, so even a GRID mouth against another clip's "
        "speech correlates (closed in both silences): read the mismatched GRID column as the floor for that "
        "layout, and the presenter's mismatched column (its videos are speech from end to end) as chance.",
        "",
        "| lip sync (r) | presenter | real GRID talking heads | presenter, mismatched audio | GRID, mismatched audio |",
        "|---|---|---|---|---|",
        f"| median | {np.median(synth_r):.2f} | {np.median(real_r):.2f} | {np.median(synth_mis):.2f} | "
        f"{np.median(real_mis):.2f} |",
        f"| range | {min(synth_r):.2f}–{max(synth_r):.2f} | {min(real_r):.2f}–{max(real_r):.2f} | "
        f"{min(synth_mis):.2f}–{max(synth_mis):.2f} | {min(real_mis):.2f}–{max(real_mis):.2f} |",
        "",
        f"Identity: {sum(s >= 0.95 for s in shares)} of {len(shares)} presenter videos have ≥ 95 % of sampled "
        f"frames at or above the registry's threshold ({threshold}); worst video {100 * min(shares):.0f} %. "
        f"Intelligibility: WER {100 * total_e / max(total_n, 1):.1f} % over {total_n} script words "
        "(Whisper tiny.en).",
    ])


def _cpu() -> float:
    """CPU seconds of this process and of every child it has waited for (FFmpeg, CLI runs)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def cli_speak(portrait: Path, out: Path, data: Path, src: Path | None) -> tuple[float, float, dict]:
    """One ``vidlens humans speak`` of the 10 s script at 720×1280 in a fresh process (models loaded as a user's
    command loads them), from ``src`` (another checkout's ``src/``) or this one: (wall s, CPU s, its JSON)."""
    env = {**os.environ, "PYTHONPATH": str(src or REPO / "src")}
    cpu, t0 = _cpu(), time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "vidlens", "humans", "speak", "--portrait", str(portrait), "--text",
                        SCRIPTS[0], "--size", "720x1280", "-o", str(out), "--overwrite", "--json", "--data-dir",
                        str(data)], capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return time.perf_counter() - t0, _cpu() - cpu, json.loads(r.stdout)


def speed(media: Path, registry, tmp: Path, baseline: Path | None) -> str:
    """A ~10 s script at 720×1280: whole commands in fresh processes (this checkout and, with ``baseline``,
    another one, taking turns), and the stages of one render with the models loaded."""
    clip = media / "av_speech_grid" / "lbax4n.mpg"
    portrait = tmp / "speed.png"
    run_ffmpeg(["-ss", "1.0", "-i", str(clip), "-frames:v", "1", str(portrait)])
    cpu, t0 = _cpu(), time.perf_counter()
    speak(SpeakRequest(portrait=portrait, text="Hello.", size=(360, 640)), tmp / "warm.mp4", registry, tmp / "data")
    first_wall, first_cpu = time.perf_counter() - t0, _cpu() - cpu
    load = os.getloadavg()[0]
    cpu, t0 = _cpu(), time.perf_counter()
    doc = speak(SpeakRequest(portrait=portrait, text=SCRIPTS[0], size=(720, 1280)), tmp / "speed.mp4", registry,
                tmp / "data")
    wall, warm_cpu = time.perf_counter() - t0, _cpu() - cpu
    peer = still_encode(portrait, tmp / "speed.mp4", doc["duration_s"], tmp)
    runs: dict[str, list[tuple[float, float, dict, float]]] = {"this": [], "baseline": []}
    if baseline is not None:  # its own data dir (its migrations may be older), set up by one uncounted run
        cli_speak(portrait, tmp / "cli-baseline.mp4", tmp / "data-baseline", baseline)
    for _ in range(2):  # taking turns: both see the same load
        for name, src in (("baseline", baseline), ("this", None)):
            if name == "baseline" and baseline is None:
                continue
            data = tmp / ("data-baseline" if name == "baseline" else "data")
            w, c, made = cli_speak(portrait, tmp / f"cli-{name}.mp4", data, src)
            runs[name].append((w, c / made["duration_s"], made, os.getloadavg()[0]))
    t = doc["timings"]
    d = doc["duration_s"]
    lines = [
        "## Presenter speed", "", header(load), "",
        f"{d:.1f} s of English speech at 720×1280 (25 fps, {doc['frames']} frames), with the models loaded: "
        f"**{warm_cpu / d:.2f} CPU s per second of video**, {wall:.1f} s wall ({d / wall:.2f}× real time "
        f"under this load): speech {t['speech_s']:.1f} s, frames + encode {t['render_s']:.1f} s (drawing "
        f"{t['render_cpu_s']:.1f} CPU s, FFmpeg {t['encode_cpu_s']:.1f} CPU s, at once), labels (OCR read-back, "
        f"signed label) {t['labels_s']:.1f} s, portrait and mesh {t['portrait_s']:.1f} s. The first call of the "
        f"process (loading the face models and the voice, whose patched copy for phoneme timings is then kept "
        f"in the data directory's cache) took {first_wall:.1f} s, {first_cpu:.1f} CPU s.",
        f"Peer in the same run: FFmpeg alone encoding the still portrait with the same speech, size and settings "
        f"took {peer:.1f} s wall.",
    ]
    for name, label in (("this", "this version"), ("baseline", "the baseline checkout (`--baseline-src`)")):
        if runs[name]:
            best = min(runs[name], key=lambda x: x[1])
            w, per_s, made, at = best
            t = made["timings"]
            lines.append(f"- `vidlens humans speak` in a fresh process, {label}: {per_s:.2f} CPU s per second "
                         f"of video ({per_s * made['duration_s']:.1f} CPU s for {made['duration_s']:.1f} s), "
                         f"{w:.1f} s wall at load average {at:.1f} (best of {len(runs[name])}, turns taken; all "
                         f"walls: {', '.join(f'{r[0]:.1f}' for r in runs[name])} s): before `speak` (interpreter, "
                         f"imports, settings, database) {w - made['wall_s']:.1f} s, until the first frame "
                         f"{t.get('start_s', t['portrait_s'] + t.get('voice_load_s', 0) + t['speech_s']):.1f} s, "
                         f"frames + encode {t['render_s']:.1f} s, labels {t['labels_s']:.1f} s")
    if runs["baseline"]:
        ratio = min(r[1] for r in runs["baseline"]) / min(r[1] for r in runs["this"])
        wall = min(r[0] for r in runs["baseline"]) / min(r[0] for r in runs["this"])
        lines.append(f"- baseline / this version in the same run: CPU {ratio:.2f}×, wall {wall:.2f}×")
    lines.append(f"On 2 idle cores, a whole command needs CPU s per second of video ≤ 2 to render 10 s of "
                 f"speech in ≤ 10 s; wall times here are under the load above.")
    return "\n".join(lines)


ENCODINGS = (("veryfast", 20), ("superfast", 20), ("superfast", 18), ("ultrafast", 20), ("ultrafast", 17))


def _picture_quality(made: Path, reference: Path) -> tuple[float, float]:
    """(PSNR dB, SSIM) of every frame of ``made`` against ``reference``, FFmpeg's own measures."""
    import re

    log = run_ffmpeg(["-i", str(made), "-i", str(reference), "-lavfi", "[0:v][1:v]psnr;[0:v][1:v]ssim", "-f", "null",
                      "-"])
    psnr = re.search(r"PSNR .*?average:([0-9.]+|inf)", log)
    ssim = re.search(r"SSIM .*?All:([0-9.]+)", log)
    if psnr is None or ssim is None:
        raise RuntimeError(f"no PSNR/SSIM in FFmpeg's log: {log[-500:]}")
    return float(psnr.group(1)), float(ssim.group(1))


def encodings(media: Path, registry, tmp: Path) -> str:
    """The x264 settings: one 720×1280 render with the encoder lossless (its frames exactly as drawn), encoded
    again with each candidate: FFmpeg's CPU seconds (the lossless decode, timed alone, taken off), PSNR and SSIM
    against the drawn frames, size, and whether the watermark still reads."""
    from vidlens.humans.presenter import render

    portrait = tmp / "encode.png"
    run_ffmpeg(["-ss", "1.0", "-i", str(media / "av_speech_grid" / "lbax4n.mpg"), "-frames:v", "1", str(portrait)])
    reference = tmp / "lossless.mp4"
    chosen, render.X264 = render.X264, ("-preset", "ultrafast", "-qp", "0")
    try:
        doc = speak(SpeakRequest(portrait=portrait, text=SCRIPTS[0], size=(720, 1280)), reference, registry,
                    tmp / "data")
    finally:
        render.X264 = chosen
    load = os.getloadavg()[0]
    cpu = _cpu()
    run_ffmpeg(["-i", str(reference), "-an", "-f", "null", "-"])
    decode = _cpu() - cpu
    rows = []
    for preset, crf in ENCODINGS:
        out = tmp / f"enc-{preset}-{crf}.mp4"
        cpu = _cpu()
        run_ffmpeg(["-i", str(reference), "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                    "-pix_fmt", "yuv420p", str(out)])
        used = _cpu() - cpu - decode
        psnr, ssim = _picture_quality(out, reference)
        mark = detect_video(out)
        now = ("-preset", preset, "-crf", str(crf)) == tuple(chosen)
        rows.append(f"| {preset}, CRF {crf}{' (used)' if now else ''} | {used:.1f} | {used / doc['frames'] * 1000:.0f} "
                    f"| {psnr:.1f} | {ssim:.4f} | {out.stat().st_size / doc['duration_s'] * 8 / 1000:.0f} | "
                    f"{'read' if mark.payload == doc['watermark'] else 'not read'} ({mark.bit_confidence:.2f}) |")
        print(rows[-1], flush=True)
    return "\n".join([
        "## Presenter encoding", "", header(load), "",
        f"One {doc['duration_s']:.1f} s render at 720×1280 ({doc['frames']} frames) written losslessly, then encoded "
        f"again with each x264 setting (video only): FFmpeg CPU s with the lossless decode ({decode:.1f} CPU s, timed "
        "alone) taken off, and PSNR / SSIM of every frame against the frames as drawn.",
        "",
        "| x264 | CPU s | CPU ms a frame | PSNR dB | SSIM | kbit/s | watermark (bit agreement) |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])


def dub(media: Path, tmp: Path) -> str:
    """Lip-synced dubbing of a 1-minute 1280×720 talking head (GRID speakers, never the tuned clip), beside
    the same dub without lip sync: time, CPU and lip-sync correlation of each output."""
    from vidlens.edit.service import EditOptions, edit_file
    from vidlens.testing.talk import build_talk

    clips = sorted(p for p in (media / "av_speech_grid").glob("*.mpg") if p.stem != "bbaf2n")[:6]
    src = tmp / "talk-720p.mp4"
    truth = build_talk(clips, src, seconds=60, size=(1280, 720), seed=7)
    texts = json.loads((media / "ground_truth" / "transcripts.json").read_text())
    transcript = [{"text": texts[f"av_speech_grid/{s['clip']}"]["text"], "start_s": s["start_s"] + 0.6,
                   "end_s": s["end_s"] - 0.4, "language": "en"} for s in truth["speech"]]
    document = {"transcript": transcript, "language": "en"}
    load = os.getloadavg()[0]
    rows = []
    for name, lip in (("dub", False), ("dub + lip sync", True)):
        out = tmp / f"dub-{lip}.mp4"
        cpu, t0 = _cpu(), time.perf_counter()
        res = edit_file(src, out, EditOptions(dub="en", lip_sync=lip), document=document, data_dir=tmp / "data",
                        overwrite=True)
        wall, used = time.perf_counter() - t0, _cpu() - cpu
        m, fps = mouth_series(out)
        env = speech_envelope(out, fps, m.size)
        shift = int(7 * fps)  # the same mouth against the speech 7 s later: chance level
        rows.append((name, wall, used, lip_sync(m, env), lip_sync(m, np.roll(env, shift)), res.details))
    info = rows[1][5]["lip_sync"]
    return "\n".join([
        "## Lip-synced dubbing", "", header(load), "",
        f"A {truth['duration_s']:.0f} s 1280×720 talk of {len(truth['speech'])} GRID sentences (6 held-out clips, "
        f"pauses between), dubbed into English by the Piper voice (`edit_file(dub='en')`, reference transcript "
        f"as the analysis); lip-sync r as in the presenter bench (mesh-measured mouth opening against the "
        f"output's speech envelope, best within ±0.12 s).",
        "",
        "| output | wall s | CPU s | lip-sync r | r, speech shifted 7 s |",
        "|---|---|---|---|---|",
        *[f"| {n} | {w:.1f} | {c:.1f} | {r:.2f} | {rm:.2f} |" for n, w, c, r, rm, _ in rows],
        "",
        f"Lip sync: {info['moved_frames']} of {info['frames']} frames moved, driven by {info['driven_by']}; "
        f"the lip-sync stage alone {rows[1][5]['timings'].get('lip sync', 0):.1f} s wall. Goal: ≤ 120 s wall on "
        f"2 cores for the whole lip-synced dub; measured under the load above.",
    ])


def picture(media: Path, registry, tmp: Path, clip: str = "lwbsza") -> None:
    """Only the side-by-side picture, from one held-out portrait."""
    portrait = tmp / f"{clip}.png"
    run_ffmpeg(["-ss", "1.0", "-i", str(media / "av_speech_grid" / f"{clip}.mpg"), "-frames:v", "1", str(portrait)])
    out = tmp / f"{clip}-presenter.mp4"
    speak(SpeakRequest(portrait=portrait, text=SCRIPTS[2], size=(360, 640)), out, registry, tmp / "data")
    side_by_side(portrait, out, mouth_series(out)[0], REPO / "docs" / "img" / "presenter.png")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", type=Path, default=None)
    ap.add_argument("--portraits", type=int, default=6)
    ap.add_argument("--only", choices=("quality", "speed", "picture", "dub", "encode"), default=None)
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="speed: also time the `src/` of another checkout (the version before a change)")
    args = ap.parse_args()
    media = args.media or media_dir()
    from vidlens.platform import Platform
    from vidlens.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="bench-presenter-") as tmp_s:
        tmp = Path(tmp_s)
        platform = Platform.from_settings(load_settings(data_dir=tmp / "data"))
        registry = platform.service("humans")
        try:
            if args.only in (None, "quality"):
                body = quality(media, args.portraits, registry, tmp)
                write_section("presenter", body)
                print(body, flush=True)
            if args.only == "picture":
                picture(media, registry, tmp)
            if args.only in (None, "speed"):
                body = speed(media, registry, tmp, args.baseline_src)
                write_section("presenter-speed", body)
                print(body, flush=True)
            if args.only in (None, "encode"):
                body = encodings(media, registry, tmp)
                write_section("presenter-encode", body)
                print(body, flush=True)
            if args.only in (None, "dub"):
                body = dub(media, tmp)
                write_section("lip-sync-dub", body)
                print(body, flush=True)
        finally:
            platform.close()


if __name__ == "__main__":
    main()
