"""Digital humans: face and voice verification error rates, scan speed, and a 10,000-human registry.

    python bench/bench_humans.py [--humans 10000] [--no-write] [--voice-speed] [--scan-profile [--rounds N]]

Faces: each GRID clip is one speaker. A speaker is enrolled as a registration does (frames of the
first 1.5 s at 2 fps, consistent faces, up to 8 diverse ones) and probed with the faces of the last
1.5 s at 5 fps, clean and degraded (scaled to half and JPEG quality 30). Impostor probes are the
other speakers' faces plus every face of the Intel face clips and Tears of Steel. Voices: each
speaker's speech (Silero VAD) is cut into segments (GRID: two halves of the sentence; LibriVox:
one reader, one segment per file; JFK: three parts); every segment is enrolled and probed with
every other, clean and degraded (8 kHz band and white noise at 10 dB SNR).

Speakers are split by name into a tuning half (even positions) and a held-out half (odd
positions): the threshold is chosen on the tuning half (the middle of the range where FAR + FRR is
smallest) and the error rates are reported on the held-out half, with its equal error rate.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import media_dir, stamp, write_section  # noqa: E402

from vidlens.humans.embedders import RATE, Embedders, speech_of  # noqa: E402
from vidlens.humans.samples import MAX_FACE_SAMPLES, _consistent, _diverse  # noqa: E402
from vidlens.humans.settings import HumansSettings  # noqa: E402
from vidlens.media.decode import Sampling, iter_frames  # noqa: E402
from vidlens.media.probe import probe  # noqa: E402

IMPOSTOR_CLIPS = ("faces/intel_asl_book.mkv", "faces/intel_asl_thanks.mkv",
                  "faces/intel_face-demographics-walking-and-pause.gif", "faces/intel_face-demographics-walking.gif",
                  "faces/intel_head-pose-face-detection-female-and-male.gif", "shots/blender_tears_of_steel_10s.mp4")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def degrade_image(bgr: np.ndarray) -> np.ndarray:
    import cv2

    small = cv2.resize(bgr, (bgr.shape[1] // 2, bgr.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 30])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def faces_of(emb: Embedders, path: Path, fps: float, degrade: bool = False, largest_only: bool = True,
             ) -> list[tuple[float, np.ndarray]]:
    out = []
    for fs in iter_frames(probe(path), Sampling(fps=fps, max_side=640, pix_fmt="bgr24")):
        img = degrade_image(fs.image) if degrade else fs.image
        found = emb.find_faces(img, emb.settings.min_face_px / (2 if degrade else 1))
        for f in found[:1] if largest_only else found:
            out.append((fs.t, f.embedding))
    return out


def rates(genuine: np.ndarray, impostor: np.ndarray, t: float) -> tuple[float, float]:
    """(false-accept rate, false-reject rate) at threshold ``t`` (accept when score >= t)."""
    return float(np.mean(impostor >= t)) if impostor.size else 0.0, float(np.mean(genuine < t)) if genuine.size else 0.0


def tune(genuine: np.ndarray, impostor: np.ndarray) -> float:
    grid = np.round(np.arange(0.0, 1.0, 0.005), 3)
    cost = np.array([sum(rates(genuine, impostor, t)) for t in grid])
    best = grid[cost <= cost.min() + 1e-12]
    return float(round((best.min() + best.max()) / 2, 3))


def eer(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    grid = np.arange(-0.2, 1.0, 0.001)
    gaps = [abs(np.subtract(*rates(genuine, impostor, t))) for t in grid]
    t = float(grid[int(np.argmin(gaps))])
    far, frr = rates(genuine, impostor, t)
    return (far + frr) / 2, t


def halves(names: list[str]) -> tuple[set[str], set[str]]:
    ordered = sorted(names)
    return set(ordered[0::2]), set(ordered[1::2])


# -- faces -------------------------------------------------------------------------------------
def face_trials(emb: Embedders, media: Path) -> dict[str, dict[str, np.ndarray]]:
    grid = sorted((media / "av_speech_grid").glob("*.mpg"))
    templates, probes = {}, {}
    for path in grid:
        log(f"faces: {path.name}")
        enrol = [f for f in faces_of(emb, path, 2.0) if f[0] < 1.5]
        kept = _consistent(enrol)
        templates[path.stem] = np.stack([kept[i][1] for i in _diverse([e for _, e in kept], MAX_FACE_SAMPLES)])
        probes[path.stem] = {
            "clean": [e for t, e in faces_of(emb, path, 5.0) if t >= 1.5],
            "degraded": [e for t, e in faces_of(emb, path, 5.0, degrade=True) if t >= 1.5]}
    outsiders = {}
    for rel in IMPOSTOR_CLIPS:
        log(f"faces (impostors): {rel}")
        outsiders[rel] = [e for _, e in faces_of(emb, media / rel, 2.0, largest_only=False)]
    tune_set, held_set = halves(list(templates))
    out_tune, out_held = halves(list(outsiders))
    result: dict[str, dict[str, np.ndarray]] = {}
    for half, speakers, others in (("tune", tune_set, out_tune), ("held-out", held_set, out_held)):
        for cond in ("clean", "degraded"):
            gen, imp = [], []
            for s in speakers:
                for p in probes[s][cond]:
                    gen.append(float(np.max(templates[s] @ p)))
                    imp += [float(np.max(templates[o] @ p)) for o in speakers if o != s]
            for s in speakers:
                imp += [float(np.max(templates[s] @ e)) for o in others for e in outsiders[o]]
            result[f"{half}/{cond}"] = {"genuine": np.array(gen), "impostor": np.array(imp)}
    return result


# -- voices ------------------------------------------------------------------------------------
def degrade_audio(wav: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    narrow = np.interp(np.arange(wav.size), np.arange(0, wav.size, 2), wav[::2]).astype(np.float32)  # 8 kHz band
    noise = rng.normal(size=wav.size).astype(np.float32)
    noise *= np.sqrt(np.mean(narrow ** 2) / (np.mean(noise ** 2) * 10 ** (10 / 10)))
    return narrow + noise


def voice_segments(emb: Embedders, media: Path) -> dict[str, list[np.ndarray]]:
    segs: dict[str, list[np.ndarray]] = {}
    for path in sorted((media / "av_speech_grid").glob("*.mpg")):
        wav = emb.audio(path)
        speech = speech_of(wav, emb.speech_spans(wav))
        segs[f"grid-{path.stem}"] = [speech[: speech.size // 2], speech[speech.size // 2:]]
    for path in sorted((media / "speech").glob("librivox_*.wav")):
        wav = emb.audio(path)
        segs.setdefault("librivox-reader", []).append(speech_of(wav, emb.speech_spans(wav)))
    wav = emb.audio(media / "speech" / "whisper_jfk.flac")
    speech = speech_of(wav, emb.speech_spans(wav))
    segs["jfk"] = list(np.array_split(speech, 3))
    return segs


def voice_trials(emb: Embedders, media: Path) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    segs = voice_segments(emb, media)
    log(f"voices: {sum(map(len, segs.values()))} segments of {len(segs)} speakers")
    clean = {s: [emb.voice(w) for w in ws] for s, ws in segs.items()}
    noisy = {s: [emb.voice(degrade_audio(w, rng)) for w in ws] for s, ws in segs.items()}
    tune_set, held_set = halves(list(segs))
    result = {}
    for half, speakers in (("tune", tune_set), ("held-out", held_set)):
        for cond, probes in (("clean", clean), ("degraded", noisy)):
            gen, imp = [], []
            for (s, i), (o, j) in itertools.product([(s, i) for s in speakers for i in range(len(clean[s]))],
                                                    repeat=2):
                if (s, i) == (o, j):
                    continue
                score = float(clean[s][i] @ probes[o][j])
                (gen if s == o else imp).append(score)
            result[f"{half}/{cond}"] = {"genuine": np.array(gen), "impostor": np.array(imp)}
    return result


def table(name: str, trials: dict[str, dict[str, np.ndarray]], threshold: float) -> list[str]:
    rows = [f"| {name} set | genuine / impostor trials | FAR at {threshold:.3f} | FRR at {threshold:.3f} | "
            "EER (at threshold) | lowest genuine / highest impostor |", "|---|---|---|---|---|---|"]
    for key, t in trials.items():
        far, frr = rates(t["genuine"], t["impostor"], threshold)
        e, at = eer(t["genuine"], t["impostor"])
        rows.append(f"| {key} | {t['genuine'].size} / {t['impostor'].size} | {far:.2%} | {frr:.2%} | "
                    f"{e:.2%} ({at:.3f}) | {t['genuine'].min():.3f} / {t['impostor'].max():.3f} |")
    return rows


# -- speed -------------------------------------------------------------------------------------
def speed_clip(media: Path, tmp: Path) -> Path:
    """10 s of 1280x720 H.264 with speech: Tears of Steel scaled up, with the JFK recording as its sound."""
    from vidlens.media.ffmpeg import run_ffmpeg

    clip = tmp / "tears_720p.mp4"
    if not clip.exists():
        run_ffmpeg(["-i", str(media / "shots" / "blender_tears_of_steel_10s.mp4"), "-i",
                    str(media / "speech" / "whisper_jfk.flac"), "-map", "0:v", "-map", "1:a", "-t", "10",
                    "-vf", "scale=1280:720", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(clip)])
    return clip


def cpu_median(runs: dict[str, Any], rounds: int = 3) -> dict[str, float]:
    """Median process CPU seconds of each named callable, run alternately so other load falls on all alike."""
    timed: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            cpu = time.process_time()
            fn()
            timed[name].append(time.process_time() - cpu)
    return {k: float(np.median(v)) for k, v in timed.items()}


def scan_speed(media: Path, tmp: Path, registry: object) -> list[str]:
    from vidlens.humans.scan import Scanner

    clip = speed_clip(media, tmp)
    scanner = Scanner(registry)  # type: ignore[arg-type]
    settings = scanner.settings
    before = settings.model_copy(update={"scan_fps": 2.0, "detect_side": 640, "face_reembed_s": 0.0,
                                         "skip_deblocking": False})  # the first release's scan
    scanner.scan(clip)  # warm: models loaded, index built

    def with_settings(cfg: Any) -> Any:
        def run() -> None:
            scanner.settings = cfg
            scanner.scan(clip)
        return run

    t = cpu_median({"before": with_settings(before), "now": with_settings(settings)})
    scanner.settings = settings
    b, n = t["before"], t["now"]
    return [f"Scan of a 10 s 1280×720 H.264 clip with speech (Tears of Steel scaled up, JFK audio), median process "
            f"CPU of 3 alternating runs: faces at {settings.scan_fps:g} frame/s found in frames scaled to "
            f"{settings.detect_side} px, a face on screen embedded once every {settings.face_reembed_s:g} s, "
            f"decoded {'without' if settings.skip_deblocking else 'with'} the deblocking filter, against the 10,000-human face registry above (no voice is registered there, "
            f"so no speech window is embedded): **{10 / n:.1f}× real time per CPU-second** "
            f"({n:.2f} s); the first release's scan (2 frames/s, faces found at 640 px) in the same run: "
            f"{10 / b:.1f}× ({b:.2f} s), so **{b / n:.2f}× faster**. Wall time on this shared machine follows the "
            f"load, not the code."]


def voice_scan_speed(media: Path, tmp: Path) -> list[str]:
    """One human with a face and a voice: today's scan (one decode; each utterance embedded once, windows
    from its partials) against the previous voice path (a second decode of the sound, the VAD over the whole
    track, each window embedded on its own) in the same process, alternating."""
    from vidlens.humans.scan import Scanner, face_moments, voice_moments, voice_windows
    from vidlens.platform import Platform
    from vidlens.settings import load_settings

    clip = speed_clip(media, tmp)
    platform = Platform.from_settings(load_settings(data_dir=tmp / "voice-data"))
    try:
        registry = platform.service("humans")
        registry.register("Reader", owner="bench", faces=[media / "av_speech_grid" / "bbaf2n.mpg"],
                          voices=[media / "speech" / "librivox_sense_and_sensibility_01_austen_64kb-0870.wav"])
        scanner = Scanner(registry)
        s, emb = scanner.settings, scanner.emb
        video = probe(clip)

        def previous() -> None:
            face_moments(video, emb, registry.face_matcher(), s.scan_fps, s.min_face_px, None, s.detect_side,
                         s.face_reembed_s, s.skip_deblocking)
            wav = emb.audio(clip)
            spans = emb.speech_spans(wav)
            windows = [w for ws in voice_windows(spans, s.voice_window_s) for w in ws]
            vectors = np.stack([emb.voice(wav[int(a * RATE):int(b * RATE)]) for a, b in windows])
            voice_moments(registry.index("voice"), s.voice_threshold, windows, vectors)

        def faces_only() -> None:
            face_moments(video, emb, registry.face_matcher(), s.scan_fps, s.min_face_px, None, s.detect_side,
                         s.face_reembed_s, s.skip_deblocking)

        scanner.scan(clip)
        previous()  # warm
        wav = emb.audio(clip)
        windows = sum(len(ws) for ws in voice_windows(emb.speech_spans(wav), s.voice_window_s))
        t = cpu_median({"previous": previous, "now": lambda: scanner.scan(clip), "faces": faces_only}, rounds=5)
    finally:
        platform.close()
    b, n, f = t["previous"], t["now"], t["faces"]
    return [f"The same clip against one human registered with a face and a voice ({windows} speech windows), median "
            f"process CPU of 5 alternating runs in one process: the scan now (one decode for picture and sound, "
            f"Silero VAD as the sound is decoded, each utterance embedded once and each window the mean of its "
            f"partials) **{n:.2f} s, {10 / n:.1f}× real time per CPU-second**; the previous voice path (a second "
            f"decode of the sound, the VAD over the whole track, each half-overlapping window embedded on its own) "
            f"with the same face pass: {b:.2f} s ({10 / b:.1f}×), so {b / n:.2f}× faster; the face pass alone: "
            f"{f:.2f} s ({10 / f:.1f}×), so the voice now costs {max(0.0, n - f):.2f} s of the 10 s."]


GRID_SCAN = ("bbaf2n", "lbax4n", "pwij3p", "swiz3n")  # four speakers, 3 s each, in this order
GRID_REGISTERED = ("bbaf2n", "pwij3p")  # face and voice registered from their own clip


def grid_clip(media: Path, tmp: Path) -> Path:
    """12 s of 1280x720 H.264 with speech: four GRID talking heads one after another, scaled up and padded."""
    from vidlens.media.ffmpeg import run_ffmpeg

    clip = tmp / "grid_720p.mp4"
    if not clip.exists():
        ins = [a for n in GRID_SCAN for a in ("-i", str(media / "av_speech_grid" / f"{n}.mpg"))]
        scale = "".join(f"[{i}:v]scale=900:720,pad=1280:720:190:0,setsar=1,fps=25[v{i}];"
                        f"[{i}:a]aresample=44100,aformat=sample_fmts=fltp:channel_layouts=mono[a{i}];"
                        for i in range(len(GRID_SCAN)))
        joined = "".join(f"[v{i}][a{i}]" for i in range(len(GRID_SCAN)))
        run_ffmpeg([*ins, "-filter_complex", f"{scale}{joined}concat=n={len(GRID_SCAN)}:v=1:a=1[v][a]", "-map", "[v]",
                    "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(clip)])
    return clip


class StageClock:
    """CPU seconds of the scan's stages, on the thread that runs them (the decode runs on its own)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, attr: str, stage: str) -> None:
        fn = getattr(owner, attr)

        def timed(*args: Any, **kw: Any) -> Any:  # noqa: ANN401 - whatever the stage returns
            t = time.thread_time()
            try:
                return fn(*args, **kw)
            finally:
                self.cpu[stage] = self.cpu.get(stage, 0.0) + time.thread_time() - t

        self._undo.append((owner, attr, owner.__dict__.get(attr) if isinstance(owner, type) else None))
        setattr(owner, attr, timed)

    def restore(self) -> None:
        for owner, attr, was in reversed(self._undo):
            if isinstance(owner, type):
                setattr(owner, attr, was)
            else:
                delattr(owner, attr)  # the instance's own attribute: the class's method shows again
        self._undo = []


def decode_cpu(clip: Path, settings: Any) -> float:
    """Process CPU of the scan's decode alone: the same samplings (picture and 16 kHz sound), consumers that keep nothing."""
    from vidlens.humans.scan import SCAN_MAX_SIDE
    from vidlens.media.decode import AudioSampling, Decoder
    from vidlens.media.source import Source

    class Drop:
        def push(self, _: Any) -> None:  # noqa: ANN401
            pass

        def finish(self) -> None:
            return None

    video = probe(clip)
    dec = Decoder(Source(video.uri), video=video, skip_nonref=True, skip_loop_filter=settings.skip_deblocking)
    dec.add_video(Sampling(fps=settings.scan_fps, max_side=SCAN_MAX_SIDE, pix_fmt="bgr24"), Drop())
    dec.add_audio(AudioSampling(RATE), Drop())
    t = time.process_time()
    dec.run()
    return time.process_time() - t


DECODES = {  # name: (threads, skip non-reference frames, skip deblocking, picture, sound, items per hand-off)
    "every frame, deblocked": (2, False, False, True, True, 16),
    "every frame": (2, False, True, True, True, 16),
    "reference frames only (the scan)": (2, True, True, True, True, 16),
    "the scan, one item per hand-off": (2, True, True, True, True, 1),
    "the scan, one decode thread": (1, True, True, True, True, 16),
    "picture alone": (2, True, True, True, False, 16),
    "sound alone": (2, True, True, False, True, 16),
    "sound alone, one item per hand-off": (2, True, True, False, True, 1),
}


def decode_profile(media: Path, tmp: Path, rounds: int) -> list[str]:
    """The scan's decode (1 fps of 640-pixel BGR, 16 kHz sound) in variants, alternating: process CPU, wall,
    frames decoded; and FFmpeg's own decoder alone (``ffmpeg -f null``, one thread) as the floor."""
    import subprocess

    import vidlens.media.decode as decode
    from vidlens.humans.scan import SCAN_MAX_SIDE
    from vidlens.media.source import Source

    class Drop:
        def push(self, _: Any) -> None:  # noqa: ANN401
            pass

        def finish(self) -> None:
            return None

    def run(clip: Path, threads: int, nonref: bool, nolf: bool, picture: bool, sound: bool,
            batch: int) -> tuple[float, float, int]:
        video = probe(clip)
        decode.HANDOFF_BATCH = batch
        dec = decode.Decoder(Source(video.uri), video=video, threads=threads, skip_nonref=nonref,
                             skip_loop_filter=nolf)
        if picture:
            dec.add_video(Sampling(fps=1.0, max_side=SCAN_MAX_SIDE, pix_fmt="bgr24"), Drop())
        if sound:
            dec.add_audio(decode.AudioSampling(RATE), Drop())
        cpu, wall = time.process_time(), time.perf_counter()
        dec.run()
        return time.process_time() - cpu, time.perf_counter() - wall, dec.frames_decoded

    def ffmpeg_cpu(clip: Path) -> float:
        t = os.times()
        subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-skip_frame", "noref", "-skip_loop_filter",
                        "all", "-i", str(clip), "-an", "-f", "null", "-"], check=True)
        u = os.times()
        return (u.children_user - t.children_user) + (u.children_system - t.children_system)

    batch = decode.HANDOFF_BATCH
    clips = {"Tears of Steel + JFK (10 s)": speed_clip(media, tmp),
             "four GRID talkers (12 s)": grid_clip(media, tmp)}
    out = [f"The scan's decode alone (1 fps of 640-pixel BGR and 16 kHz mono sound to consumers that keep "
           f"nothing), each variant {rounds} times, alternating; medians of process CPU and wall. *Floor*: "
           "`ffmpeg -threads 1 -skip_frame noref -skip_loop_filter all -f null`, picture only.", "",
           "| clip | decode | frames decoded | CPU s | wall s (load average) |", "|---|---|---|---|---|"]
    try:
        for label, clip in clips.items():
            got: dict[str, list[tuple[float, float, int, float]]] = {k: [] for k in DECODES}
            floor = []
            for _ in range(rounds):
                for name, cfg in DECODES.items():
                    load = os.getloadavg()[0]
                    got[name].append((*run(clip, *cfg), load))
                floor.append(ffmpeg_cpu(clip))
            for name, runs in got.items():
                out.append(f"| {label} | {name} | {runs[0][2]} | {np.median([r[0] for r in runs]):.3f} | "
                           f"{np.median([r[1] for r in runs]):.2f} ({np.median([r[3] for r in runs]):.1f}) |")
            out.append(f"| {label} | floor: FFmpeg's decoder alone, picture | | {np.median(floor):.3f} | |")
    finally:
        decode.HANDOFF_BATCH = batch
    return out


def scan_profile(media: Path, tmp: Path, rounds: int) -> list[str]:
    """Each clip scanned by the scan as it was (every face of every sample embedded, the deblocking filter run:
    ``face_reembed_s`` 0, ``skip_deblocking`` off) and as it is, alternating in one process: matches compared, CPU
    by stage, process CPU and wall."""
    from vidlens.humans.scan import Scanner
    from vidlens.models.vad import SileroVad
    from vidlens.platform import Platform
    from vidlens.settings import load_settings

    clips = {"Tears of Steel + JFK speech (10 s, faces not registered)": (speed_clip(media, tmp), 10.0),
             "four GRID talkers (12 s, two registered)": (grid_clip(media, tmp), 12.0)}
    platform = Platform.from_settings(load_settings(data_dir=tmp / "scan-data"))
    rows, same = [], []
    try:
        registry = platform.service("humans")
        for name in GRID_REGISTERED:
            clip = media / "av_speech_grid" / f"{name}.mpg"
            registry.register(name, owner="bench", faces=[clip], voices=[clip])
        registry.register("Reader", owner="bench",
                          voices=[media / "speech" / "librivox_sense_and_sensibility_01_austen_64kb-0870.wav"])
        scanner = Scanner(registry)
        now = scanner.settings
        was = now.model_copy(update={"face_reembed_s": 0.0, "skip_deblocking": False})
        emb = scanner.emb
        for label, (clip, seconds) in clips.items():
            found = {}
            for key, cfg in (("was", was), ("now", now)):
                scanner.settings = cfg
                found[key] = scanner.scan(clip)  # also warms models and indexes
            same.append((label, [(m.human.name, m.kind, m.start, m.end) for m in found["was"]],
                         [(m.human.name, m.kind, m.start, m.end) for m in found["now"]],
                         max((abs(a.score - b.score) for a, b in zip(found["was"], found["now"], strict=False)),
                             default=0.0)))
            timed: dict[str, dict[str, list[float]]] = {"was": {}, "now": {}}
            for _ in range(rounds):
                for key, cfg in (("was", was), ("now", now)):
                    scanner.settings = cfg
                    clock = StageClock()
                    clock.wrap(emb.faces, "detect", "face detection")
                    clock.wrap(emb.faces, "embed", "face embedding")
                    clock.wrap(emb.speaker, "partials", "speaker encoder")
                    clock.wrap(SileroVad, "feed", "voice activity")
                    load0, cpu0, wall0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
                    try:
                        scanner.scan(clip)
                    finally:
                        clock.restore()
                    got = timed[key]
                    for k, v in {"cpu": time.process_time() - cpu0, "wall": time.perf_counter() - wall0,
                                 "load": load0, **clock.cpu}.items():
                        got.setdefault(k, []).append(v)
                    got.setdefault("decode", []).append(decode_cpu(clip, cfg))
            scanner.settings = now
            med = {key: {k: float(np.median(v)) for k, v in t.items()} for key, t in timed.items()}
            rows.append((label, seconds, med))
    finally:
        platform.close()
    stages = ("decode", "face detection", "face embedding", "voice activity", "speaker encoder")
    out = [f"Each clip scanned {rounds} times by the scan as it was (every face of every sample embedded and the "
           "H.264 deblocking filter run: `face_reembed_s = 0`, `skip_deblocking = false`) and as it is, alternating in one process; medians. Registry: two GRID speakers "
           "(face and voice from their own clip) and a LibriVox reader (voice). CPU by stage on the thread that "
           "runs it; the decode measured alone with the scan's samplings (it runs on its own thread, beside the "
           "rest); *other* is the process CPU less the stages.", "",
           "| clip | scan | process CPU s | × real time per CPU-second | wall s (load average) | "
           + " | ".join(stages) + " | other |", "|---|---|---|---|---|" + "---|" * (len(stages) + 1)]
    for label, seconds, med in rows:
        for key in ("was", "now"):
            m = med[key]
            other = m["cpu"] - sum(m.get(st, 0.0) for st in stages)
            out.append(f"| {label} | {'before' if key == 'was' else 'now'} | {m['cpu']:.2f} | "
                       f"{seconds / m['cpu']:.1f}× | {m['wall']:.2f} ({m['load']:.1f}) | "
                       + " | ".join(f"{m.get(st, 0.0):.2f}" for st in stages) + f" | {other:.2f} |")
        out.append(f"| {label} | before / now | {med['was']['cpu'] / med['now']['cpu']:.2f}× | | "
                   f"{med['was']['wall'] / med['now']['wall']:.2f}× |" + " |" * (len(stages) + 1))
    out.append("")
    for label, before, after, diff in same:
        verdict = "identical" if before == after else f"DIFFERENT: before {before}, now {after}"
        out.append(f"- {label}: {len(after)} matches, (human, kind, start, end) {verdict}; largest score change "
                   f"{diff:.4f}.")
    return out


def registry_speed(n: int, tmp: Path) -> tuple[list[str], object]:
    from vidlens.humans.samples import Sample
    from vidlens.platform import Platform
    from vidlens.settings import load_settings

    platform = Platform.from_settings(load_settings(data_dir=tmp / "data"))
    registry = platform.service("humans")
    rng = np.random.default_rng(1)
    model = registry.embedders.face_model_id
    t0 = time.perf_counter()
    for i in range(n):
        vecs = rng.normal(size=(MAX_FACE_SAMPLES, 128)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        registry._commit(f"person {i}", "bench", None,
                         [Sample("face", "synthetic", "0" * 64, 0.0, 0.0, model, v) for v in vecs])
        if i and i % 1000 == 0:
            log(f"registry: {i} humans")
    register_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = registry.index("face")
    build_s = time.perf_counter() - t0
    queries = rng.normal(size=(200, 5, 128)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=2, keepdims=True)
    one, five = [], []
    for q in queries:
        t = time.perf_counter()
        index.query_many(q[:1], 1 - registry.settings.face_threshold)
        one.append(time.perf_counter() - t)
        t = time.perf_counter()
        index.query_many(q, 1 - registry.settings.face_threshold)
        five.append(time.perf_counter() - t)
    ms = lambda xs, p: 1000 * float(np.percentile(xs, p))  # noqa: E731
    return [f"Registry of **{n:,} humans** × {MAX_FACE_SAMPLES} face samples ({len(index):,} vectors), each "
            f"registered through the ledger and signed (synthetic unit vectors; {register_s / n * 1000:.1f} ms a "
            f"registration): index built from the store in {build_s:.2f} s after the ledger moves; one face queried "
            f"in **{ms(one, 50):.1f} ms** median, {ms(one, 95):.1f} ms p95; a frame of 5 faces in {ms(five, 50):.1f} ms "
            f"median, {ms(five, 95):.1f} ms p95 (200 queries)."], registry


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--humans", type=int, default=10_000)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--voice-speed", action="store_true",
                    help="only time the scan with a registered voice against the previous voice path")
    ap.add_argument("--scan-profile", action="store_true",
                    help="only profile the scan by stage on 720p clips, before and after face-track "
                         "embedding reuse, and its decode in variants")
    ap.add_argument("--rounds", type=int, default=3, help="alternating runs of each scan (--scan-profile)")
    args = ap.parse_args()
    media = media_dir()
    if args.scan_profile:
        with tempfile.TemporaryDirectory() as tmp:
            lines = [*scan_profile(media, Path(tmp), args.rounds), "",
                     *decode_profile(media, Path(tmp), args.rounds)]
        body = "\n".join(["## Digital humans: scan CPU by stage on 720p (`bench/bench_humans.py --scan-profile`)", "",
                          stamp() + f" `nproc` {os.cpu_count()}. Under load (load average "
                          f"{os.getloadavg()[0]:.1f} at the end; each run's own in the table).", "", *lines])
        print(body)
        if not args.no_write:
            write_section("humans-scan", body)
        return 0
    if args.voice_speed:
        with tempfile.TemporaryDirectory() as tmp:
            lines = voice_scan_speed(media, Path(tmp))
        body = "\n".join(["## Digital humans: scan speed with a registered voice (`bench/bench_humans.py "
                          "--voice-speed`)", "", stamp() + f" Under load (load average {os.getloadavg()[0]:.1f}).",
                          "", *lines])
        print(body)
        if not args.no_write:
            write_section("humans-voice", body)
        return 0
    emb = Embedders(HumansSettings())
    faces = face_trials(emb, media)
    face_t = tune(faces["tune/clean"]["genuine"], np.concatenate([faces["tune/clean"]["impostor"],
                                                                  faces["tune/degraded"]["impostor"]]))
    voices = voice_trials(emb, media)
    voice_t = tune(voices["tune/clean"]["genuine"], np.concatenate([voices["tune/clean"]["impostor"],
                                                                    voices["tune/degraded"]["impostor"]]))
    log(f"tuned thresholds: face {face_t}, voice {voice_t}")
    with tempfile.TemporaryDirectory() as tmp:
        reg_lines, registry = registry_speed(args.humans, Path(tmp))
        speed = scan_speed(media, Path(tmp), registry)
    body = "\n".join([
        "## Digital humans: face and voice verification, scan speed, registry size (`bench/bench_humans.py`)", "",
        stamp() + " Timings taken on a shared 2-core machine under load from other work: treat them as upper "
        "bounds.", "",
        "Speakers split by name: tuning half (even positions) and held-out half (odd positions); the threshold is "
        "the middle of the range where FAR + FRR is smallest on the tuning half (clean genuine trials, clean and "
        "degraded impostor trials), then applied unchanged to the held-out half. Degraded probes: faces at half size and JPEG quality 30; voices through an 8 kHz band with "
        "white noise at 10 dB SNR.", "",
        f"### Faces (SFace int8, largest face per frame; tuned threshold {face_t:.3f}; SFace's published cut-off "
        "is 0.363)", "",
        *table("face", faces, face_t), "",
        f"### Voices (Resemblyzer encoder in ONNX; tuned threshold {voice_t:.3f})", "",
        *table("voice", voices, voice_t), "",
        "### Speed", "", *reg_lines, "", *speed, "", "With a voice registered: `--voice-speed`, its own section below.", "",
        "No peer ran in this benchmark: Resemblyzer's own PyTorch encoder gives the same embeddings (cosine ≥ "
        "0.999998, `scripts/export_resemblyzer.py`), and torch is not installed at run time to time it.",
    ])
    print(body)
    if not args.no_write:
        write_section("humans", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
