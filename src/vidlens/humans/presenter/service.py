"""A presenter video from one portrait and a script: checked, spoken, animated, labelled, marked, recorded.

Everything that can refuse does so before anything is written: the script (empty, too long, not
UTF-8), the language and voice, the output size, the consent (for a registered human: status,
expiry, use and territory), the portrait (no face, several, too small) and, for a registered
human, that the portrait is that human (SFace, the registry's threshold). The video is then
rendered into a hidden file beside the output, its visible label read back by OCR, its implicit
label written and signed, its use appended to the humans ledger (naming the human, the consent,
the script's hash and the watermark it carries), and only then moved into place.
"""

from __future__ import annotations

import secrets
import tempfile
import time
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import UsageError
from vidlens.hashing import sha256_bytes, sha256_file, sha256_file_cached
from vidlens.humans.consent import ConsentError
from vidlens.humans.registry import Human, HumanRegistry

LANGUAGES = ("en", "zh")
MAX_SCRIPT_BYTES = 64 * 1024  # about 2 hours of speech: longer scripts are several videos
DEFAULT_SIZE = (720, 1280)  # 9:16, the short-video platforms' frame
MIN_SIDE, MAX_SIDE = 128, 3840
FPS = 25
USE = "presenter"
LABEL_TEXT = "AI生成"
LOUDNESS = -14.0  # LUFS, integrated: the short-video platforms' level
READ_MARGIN = 0.1  # of the label box's height around it when it is read back (the recogniser reads the box alone)
Progress = Callable[[str, float], None]
# The watermark detector averages frames so that moving content cancels out and the static mark adds up; a
# presenter's background and face barely move, so the picture does not cancel and the mark must be stronger.
# Measured at 256×448 on the GRID portrait: govern's default (2.3 levels, 41.5 dB) gave a sync peak but a
# failed CRC in 3 of 3 videos; 1.6× at 38 dB and 2.5× at 35 dB were read back (bit agreement 0.865, 0.894).
MARK_STRENGTH_X, MARK_PSNR = 2.0, 37.0


@dataclass(frozen=True)
class SpeakRequest:
    portrait: Path
    text: str
    lang: str = "en"
    voice: Path | None = None  # a Piper .onnx; None: the packaged voice of ``lang``
    size: tuple[int, int] = DEFAULT_SIZE
    subtitles: bool = False
    face_index: int | None = None
    human: str | None = None  # a registered human (id, id prefix or name)
    use: str = USE
    territory: str | None = None
    producer: str = "VidLens"
    sign: bool = True

    def to_payload(self, portrait: str) -> dict[str, Any]:
        """The request as a job's JSON payload, the portrait named by ``portrait`` (where the worker finds it)."""
        return {"portrait": portrait, "text": self.text, "lang": self.lang, "size": list(self.size),
                "subtitles": self.subtitles, "face_index": self.face_index, "human": self.human, "use": self.use,
                "territory": self.territory, "producer": self.producer, "sign": self.sign}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], portrait: Path) -> SpeakRequest:
        fields = {k: v for k, v in payload.items() if k != "portrait"}
        return cls(portrait=portrait, **{**fields, "size": tuple(fields["size"])})


def read_script(path: Path) -> str:
    """A script file's text; refused when unreadable, empty, too long or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise UsageError(f"{path.name}: the script is {size} bytes; at most {MAX_SCRIPT_BYTES} are spoken "
                             "in one video (split it)")
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path.name}: cannot read the script ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path.name}: the script is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def check_text(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise UsageError("the script is empty: nothing to say")
    if len(text.encode()) > MAX_SCRIPT_BYTES:
        raise UsageError(f"the script is {len(text.encode())} bytes; at most {MAX_SCRIPT_BYTES} are spoken in one "
                         "video (split it)")
    if not any(c.isalnum() for c in text):
        raise UsageError("the script has no words to speak")
    return text


def parse_size(value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise UsageError(f"size must be WIDTHxHEIGHT (e.g. 720x1280), got {value!r}") from None
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE) or w % 2 or h % 2:
        raise UsageError(f"size {value}: each side must be even and {MIN_SIDE}–{MAX_SIDE} pixels")
    return w, h


def check_consent(human: Human, use: str, territory: str | None) -> None:
    """Refuse, saying why, a use the human's consent does not cover now."""
    c = human.consent
    if human.status != "active":
        raise ConsentError(f"{human.name}: the consent was {human.status}; their likeness may not be used")
    if c is None:
        raise ConsentError(f"{human.name} was registered without a consent record; no use is authorised")
    if c.expired():
        raise ConsentError(f"{human.name}: the consent expired on {c.expires.date().isoformat()}")
    if "*" not in c.allowed_uses and use not in c.allowed_uses:
        raise ConsentError(f"{human.name}: the consent covers {', '.join(c.allowed_uses)}, not {use!r}")
    if not c.covers(use, territory):
        where = "no territory was given (--territory)" if territory is None else f"not {territory.upper()}"
        raise ConsentError(f"{human.name}: the consent covers the territories {', '.join(c.territories)}; {where}")


@dataclass(frozen=True)
class Checked:
    """A request that passed every check made before anything is written."""

    text: str
    human: Human | None
    portrait: Any  # presenter.face.Portrait
    similarity: float | None


def check_words(req: SpeakRequest) -> str:
    """The script, refused (with the language and the voice) before any model is loaded."""
    from vidlens.edit.dub import timing_voice_spec

    if req.lang not in LANGUAGES:
        raise UsageError(f"language {req.lang!r} is not supported; choose one of {', '.join(LANGUAGES)}")
    timing_voice_spec(req.lang, {}, str(req.voice) if req.voice else None)
    return check_text(req.text)


def check_request(req: SpeakRequest, registry: HumanRegistry) -> Checked:
    """Refuse what can be refused without rendering (the web page runs it in the request, then queues the
    render): language, voice, script, consent, portrait, identity."""
    from vidlens.humans.presenter.face import load_portrait

    text = check_words(req)
    human = registry.find(req.human) if req.human else None
    if human is not None:
        check_consent(human, req.use, req.territory)
    portrait = load_portrait(req.portrait, registry.embedders, req.face_index)
    similarity = _identity(registry, human, portrait.face.embedding) if human is not None else None
    return Checked(text, human, portrait, similarity)


def _identity(registry: HumanRegistry, human: Human, embedding: np.ndarray) -> float:
    """The portrait's best similarity to the human's registered faces; refused below the threshold."""
    index = registry.index("face")
    hits = [h for h in index.query_many(embedding[None, :], 2.0)[0] if h.payload["human"] == human.id]
    if not hits:
        raise UsageError(f"{human.name} has no registered face sample: the portrait cannot be checked against them")
    best = max(h.score for h in hits)
    if best < registry.settings.face_threshold:
        raise ConsentError(f"the portrait is not {human.name}: face similarity {best:.2f} is below the "
                           f"registry's threshold {registry.settings.face_threshold:.2f}")
    return float(best)


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def sentence_segments(text: str, sentences: list[tuple[int, int]], rate: int) -> list[dict[str, Any]]:
    """Subtitle segments: each spoken sentence with its text when the split agrees with Piper's, else the
    whole script over the whole speech (the subtitles module shares the time out by length)."""
    import re

    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？])\s*", text) if p.strip()]
    if len(parts) == len(sentences):
        return [{"text": p, "start_s": a / rate, "end_s": b / rate} for p, (a, b) in zip(parts, sentences, strict=True)]
    return [{"text": text, "start_s": sentences[0][0] / rate, "end_s": sentences[-1][1] / rate}]


@dataclass(frozen=True)
class Speech:
    """The script spoken: samples, phoneme and sentence timings, written as a WAV with its loudness gain."""

    samples: np.ndarray
    rate: int
    phones: list[Any]  # edit.dub.Phone
    sentences: list[tuple[int, int]]
    voice: str
    wav: Path
    audio_filter: str  # the gain and limiter that bring it to the loudness target
    timings: dict[str, float]


def _speech(req: SpeakRequest, text: str, cache: Path, wav: Path) -> Speech:
    """Load the voice, speak ``text`` with phoneme timings, write it to ``wav`` and measure its loudness gain."""
    from vidlens.deliver.loudness import LoudnessTarget
    from vidlens.edit.dub import Voice, voice_for

    t = time.perf_counter()
    voice = voice_for(req.lang, override=str(req.voice) if req.voice else None, aligned=True, cache=cache)
    assert isinstance(voice, Voice)  # aligned: only a Piper voice gives phoneme timings
    timings = {"voice_load_s": time.perf_counter() - t}
    t = time.perf_counter()
    samples, phones, sentences = voice.speak_aligned(text)
    if samples.size == 0:
        raise UsageError("the voice produced no speech for this script")
    timings["speech_s"] = time.perf_counter() - t
    _write_wav(wav, samples, voice.sample_rate)
    return Speech(samples, voice.sample_rate, phones, sentences, voice.name, wav,
                  _levelled(wav, LoudnessTarget(integrated=LOUDNESS)), timings)


def speak(req: SpeakRequest, out: Path, registry: HumanRegistry, data_dir: Path, *,
          overwrite: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Make the presenter video ``out``; returns what was made and recorded. ``progress(stage, fraction)``
    hears how far it got.

    The voice (load, speech, loudness), the label's reader and its codecs load in threads while the portrait's
    face is found and meshed on this one, and the picture is then set up (canvas, face rig, label, watermark)
    while the voice speaks: ONNX Runtime, OpenCV, MediaPipe and FFmpeg work outside the GIL, so a fresh
    process's start-up uses both cores."""
    from concurrent.futures import ThreadPoolExecutor

    from vidlens.deliver.publish import staged_file
    from vidlens.edit.service import read_back_label
    from vidlens.govern.codecs import codecs
    from vidlens.govern.explicit import line_ocr
    from vidlens.models.whisper import cache_dir

    t0 = time.perf_counter()
    say = progress or (lambda stage, f: None)
    timings: dict[str, float] = {}
    if out.suffix.lower() != ".mp4":
        raise UsageError(f"{out.name}: the presenter writes MP4; name the output .mp4")
    if out.exists() and not overwrite:
        from vidlens.errors import ConflictError

        raise ConflictError(f"{out} already exists; pass --overwrite to replace it")
    say("portrait", 0.0)
    words = check_words(req)
    with tempfile.TemporaryDirectory(prefix="vidlens-speak-") as tmp:
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="vidlens-speak") as pool:
            spoken = pool.submit(_speech, req, words, cache_dir(data_dir), Path(tmp) / "speech.wav")
            reader = pool.submit(line_ocr)
            pool.submit(codecs)  # the implicit label's codecs (a plugin discovery), found now rather than at the end
            checked = check_request(req, registry)  # a refusal here still waits for the two loads to end
            timings["portrait_s"] = time.perf_counter() - t0
            watermark = secrets.token_bytes(8)
            stage = _stage(req, checked.portrait, watermark)
            say("speech", 0.0)
            speech = spoken.result()
            ocr = reader.result()
        timings.update(speech.timings)
        timings["start_s"] = time.perf_counter() - t0  # until the first frame: all of the above, at once
        text, human, similarity = checked.text, checked.human, checked.similarity
        script_sha = sha256_bytes(text.encode())
        produce_id = f"vidlens-humans-{uuid.uuid4().hex[:16]}"
        with staged_file(out, overwrite=overwrite) as staged:
            t, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
            made = _render(req, stage, speech, text, Path(tmp), staged, seed=int(script_sha[:8], 16),
                           progress=lambda f: say("frames", f))
            timings["render_s"] = time.perf_counter() - t
            # CPU seconds: what the render costs whatever else the machine is doing
            timings["render_cpu_s"] = time.process_time() - cpu  # drawing the frames (this process, all threads)
            timings["encode_cpu_s"] = _children_cpu() - children  # FFmpeg (encode, loudness check)
            say("labels", 0.0)
            t = time.perf_counter()
            # the label is one line we drew at a known place: the recogniser alone reads that box
            made["explicit_label"] = read_back_label(staged, made.pop("label_info"), ocr, margin=READ_MARGIN)
            made["label"] = {k: v for k, v in _implicit_label(staged, req, produce_id, data_dir).items() if k != "path"}
            timings["labels_s"] = time.perf_counter() - t
            record = {"produce_id": produce_id, "watermark": watermark.hex(), "script_sha256": script_sha,
                      "portrait_sha256": sha256_file_cached(req.portrait), "language": req.lang, "voice": speech.voice,
                      "use": req.use, "territory": req.territory, "output_sha256": sha256_file(staged),
                      "human": None if human is None else {"id": human.id, "name": human.name, "owner": human.owner,
                                                           "ledger_seq": human.ledger_seq},
                      "consent": None if human is None or human.consent is None else human.consent.to_json(),
                      "face_similarity": None if similarity is None else round(similarity, 4)}
            entry = registry.record_use(human.id if human else "", "speak", record)
    timings = {k: round(v, 3) for k, v in timings.items()}
    return {"output": str(out.absolute()), **record, "ledger_seq": entry["seq"], "ledger_hash": entry["hash"],
            "certificate": registry.use_certificate(entry),
            "duration_s": round(speech.samples.size / speech.rate, 3), **made, "timings": timings,
            "wall_s": round(time.perf_counter() - t0, 3)}


@dataclass(frozen=True)
class Stage:
    """The picture side of a render, which needs no speech: the canvas, the face rig, the visible label and the
    frames' I420 buffer, labelled and marked."""

    rig: Any  # presenter.warp.FaceRig
    frames: Any  # presenter.render.Frames
    face_px: float  # the face's size on the canvas
    label: Any  # govern.explicit.RenderedLabel
    label_at: tuple[int, int]


def _stage(req: SpeakRequest, portrait: Any, watermark: bytes) -> Stage:
    import cv2

    from vidlens.govern import explicit
    from vidlens.govern.watermark import STRENGTH, luma_delta, pattern_for
    from vidlens.humans.presenter import render
    from vidlens.humans.presenter.warp import FaceRig

    w, h = req.size
    placement = render.place((portrait.image.shape[1], portrait.image.shape[0]), portrait.face.box, (w, h))
    base = render.canvas(portrait.image, placement, (w, h))
    landmarks = portrait.landmarks * placement.scale - np.array(placement.offset, np.float32)
    rig = FaceRig(base, landmarks)
    drawn = explicit.render_label(LABEL_TEXT, w, h)
    lx, ly = explicit.place("top-left", (w, h), drawn.image.size)
    label = render.Label(np.asarray(drawn.image.convert("RGBA")), lx, ly)
    labelled = base.copy()
    label.paste(labelled)  # the mark is shaped by the (static) picture once: the face moves a few pixels
    delta = luma_delta(cv2.cvtColor(labelled, cv2.COLOR_BGR2YUV_I420)[:h], pattern_for(w, h, watermark),
                       STRENGTH * MARK_STRENGTH_X, MARK_PSNR)
    return Stage(rig, render.Frames(base, rig.roi, label, delta), portrait.face.size * placement.scale, drawn,
                 (lx, ly))


def _render(req: SpeakRequest, stage: Stage, speech: Speech, text: str, tmp: Path, staged: Path, *, seed: int,
            progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    from vidlens.deliver.loudness import LoudnessTarget, measure
    from vidlens.humans.presenter import motion, render, visemes
    from vidlens.humans.presenter.warp import Pose

    samples, rate, phones, sentences = speech.samples, speech.rate, speech.phones, speech.sentences
    w, h = req.size
    duration = samples.size / rate
    n = int(np.ceil(duration * FPS))
    mouth = visemes.coarticulate(phones, duration, FPS)
    energy = visemes.envelope(samples, rate, FPS, n)
    rng = np.random.default_rng(seed)
    blink = motion.blinks(n, FPS, rng)
    dx, dy, turn = motion.head(n, FPS, stage.face_px, energy, rng)
    opening = visemes.jaw(mouth.open, energy)
    poses = [Pose(float(opening[i]), float(mouth.spread[i]), float(mouth.round[i]), (float(blink[i]),) * 2,
                  (float(dx[i]), float(dy[i]), float(turn[i]))) for i in range(n)]
    target = LoudnessTarget(integrated=LOUDNESS)
    captions = _captions(text, sentences, rate, tmp, (w, h)) if req.subtitles else None
    made = render.encode(stage.rig, stage.frames, poses, FPS, speech.wav, staged, captions=captions,
                         audio_filter=speech.audio_filter, progress=progress)
    made["loudness_after"] = measure(staged, target)[0].to_dict()
    made["loudness_target"] = target.integrated
    made["subtitles"] = captions is not None
    drawn, (lx, ly) = stage.label, stage.label_at
    made["label_info"] = {"text": LABEL_TEXT, "ink_height": drawn.ink_height, "ink_ratio": drawn.ink_height / min(w, h),
                          "font_size": drawn.font_size, "box": [lx, ly, *drawn.image.size],
                          "windows": [(0.0, duration)]}
    made["mouth"] = {"open_mean": round(float(opening.mean()), 3), "open_max": round(float(opening.max()), 3),
                     "blinks": int(np.sum(np.diff((blink > 0.5).astype(int)) == 1))}
    return made


def _leveller(gain_db: float, target: Any) -> str:
    ceiling = 10 ** ((target.true_peak - 0.5) / 20)  # a sample-peak limiter: half a dB kept for inter-sample peaks
    return f"volume={gain_db:.2f}dB,alimiter=limit={ceiling:.4f}:attack=2:release=40:level=false"


def _levelled(wav: Path, target: Any, rounds: int = 2) -> str:
    """A gain and a limiter under the true-peak ceiling that bring the speech to the target loudness.

    Piper's speech is peak-normalised, so a plain linear gain is held back by the peak limit and stays
    short of the target; the limiter takes the peaks, and what it costs in loudness is measured (audio
    only, fast) and given back, twice."""
    from vidlens.deliver.loudness import analysis_filter, measure, parse_measure
    from vidlens.media.ffmpeg import run_ffmpeg

    gain = target.integrated - measure(wav, target)[0].integrated
    for _ in range(rounds):
        log = run_ffmpeg(["-i", str(wav), "-af", f"{_leveller(gain, target)},{analysis_filter(target)}",
                          "-f", "null", "-"], path=str(wav))
        gain += target.integrated - parse_measure(log)[0].integrated
    return _leveller(gain, target)


def _captions(text: str, sentences: list[tuple[int, int]], rate: int, tmp: Path, size: tuple[int, int]) -> Any:
    from vidlens.analyze.subtitles import to_srt
    from vidlens.edit.render import Captions
    from vidlens.edit.service import font_family
    from vidlens.govern.explicit import find_font

    font = find_font(text)
    srt = tmp / "captions.srt"
    srt.write_text(to_srt(sentence_segments(text, sentences, rate)), encoding="utf-8")
    return Captions(srt, font.path.parent, font_family(font.path, font.index), *size)


def _implicit_label(path: Path, req: SpeakRequest, produce_id: str, data_dir: Path) -> dict[str, Any]:
    from vidlens.govern.label import new_label
    from vidlens.govern.service import label_file

    return label_file(path, path, new_label("1", req.producer, produce_id), data_dir=data_dir,
                      sign=req.sign).to_dict()
