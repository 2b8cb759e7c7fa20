"""``edit_file``: decide (silence, highlights), frame (reframe), caption, render once, label, export.

Every option shapes one decision list and one render plan, so ``--silence --highlights 60 --reframe
9:16 --subtitles burn`` is still one FFmpeg encode. The output is published atomically (nothing
half-written on failure), carries the GB 45438 implicit label written by govern, and its loudness is
measured after the render, so the result reports what was achieved.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vidlens.deliver.loudness import LoudnessTarget, measure
from vidlens.deliver.publish import staged_file
from vidlens.edit.decisions import DecisionList, whole
from vidlens.edit.render import Captions, RenderPlan, render
from vidlens.edit.silence import SilenceSettings, frame_levels, silence_decisions
from vidlens.errors import UnsupportedMediaError, UsageError
from vidlens.media.probe import probe
from vidlens.types import Video

if TYPE_CHECKING:
    from vidlens.govern.explicit import Ocr

Progress = Callable[[str, float], None]
OUTPUT_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")


@dataclass(frozen=True)
class EditOptions:
    silence: SilenceSettings | None = None
    highlights_s: float | None = None
    reframe: str | None = None  # 9:16 | 1:1 | 4:5
    subtitles: Literal["burn", "vtt", "srt"] | None = None
    loudness_lufs: float | None = -14.0  # None: leave the level as it is
    export: tuple[str, ...] = ()
    producer: str = "VidLens"
    sign: bool = True
    crf: int = 20
    preset: str = "veryfast"
    dub: str | None = None  # target language (ISO 639-1)
    dub_voice: str | None = None  # a Piper .onnx voice for any language; None: by language (dub_voices)
    dub_voices: Mapping[str, str] = field(default_factory=dict)  # language -> Piper .onnx, over the built-ins
    dub_translator: str | None = None  # "module:attribute", for targets the analysis cannot give
    dub_max_tempo: float = 1.5
    dub_duck_db: float = -15.0
    transitions: bool = True  # dissolves where a reel joins moments jarringly (edit.transitions)
    dub_notice: str | None = None  # None: the built-in notice in the dub's language
    lip_sync: bool = False  # the speaking face's mouth follows the dubbed speech (needs dub)
    face_index: int | None = None  # lip sync this face (0 = largest) instead of the one found speaking
    explicit_label: str = "AI生成"

    def needs_document(self) -> bool:
        return (self.highlights_s is not None or self.subtitles is not None or self.reframe is not None
                or self.dub is not None)

    def analyzers(self) -> list[str]:
        """What the analysis document must hold for these options."""
        out = []
        if self.highlights_s is not None or self.reframe is not None:
            out.append("shots")
        if self.highlights_s is not None or self.subtitles is not None or self.dub is not None:
            out.append("speech")
        return out


@dataclass
class EditResult:
    output: Path
    decisions: DecisionList
    sidecars: list[Path] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"output": str(self.output), "sidecars": [str(p) for p in self.sidecars], **self.details,
                "decisions": self.decisions.to_dict()}


class Stages:
    """Wall seconds per stage of an edit, reported with the result (where the time of a slow edit went)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t, 3)


def source_timeline(video: Video) -> tuple[Fraction, int]:
    """The constant frame rate the edit works in, and the source's length in frames at it."""
    if not video.fps:
        raise UnsupportedMediaError(f"{Path(video.uri).name}: no frame rate; cannot edit to the frame",
                                    path=video.uri)
    count = video.frame_count or round(video.duration_s * float(video.fps))
    return video.fps, max(1, int(count))


def output_cues(dl: DecisionList, transcript: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Transcript segments moved onto the output's timeline (a sentence split by a cut becomes two)."""
    cues = []
    for seg in transcript:
        for a, b in dl.map_span(float(seg["start_s"]), float(seg["end_s"])):
            if b - a >= 0.2:
                cues.append({**seg, "start_s": round(a, 3), "end_s": round(b, 3)})
    return cues


def font_family(path: Path, index: int) -> str:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        with TTCollection(str(path), lazy=True) as c:
            return str(c.fonts[index]["name"].getDebugName(1))
    with TTFont(str(path), lazy=True) as f:
        return str(f["name"].getDebugName(1))


def _audio_rate(video: Video) -> int | None:
    rates = [s.sample_rate for s in video.streams if s.kind == "audio" and s.sample_rate]
    return rates[0] if rates else None


def edit_file(src: Path, out: Path, options: EditOptions, *, document: Mapping[str, Any] | None = None,
              data_dir: Path | None = None, overwrite: bool = False, progress: Progress | None = None,
              detect: Any = None) -> EditResult:
    """Edit ``src`` into ``out`` as ``options`` say; ``document`` is its analysis (needed by some options)."""
    t0 = time.perf_counter()
    say = progress or (lambda stage, f: None)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UsageError(f"output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{out.suffix}'")
    if out.absolute() == src.absolute():
        raise UsageError("the output would overwrite the input; choose another name")
    if options.needs_document() and document is None:
        raise UsageError("highlights, reframing and subtitles need the video's analysis document")
    timings = Stages()
    video = probe(src)
    fps, frames = source_timeline(video)
    rate = _audio_rate(video)
    dl = whole(str(src), fps, frames)
    levels: np.ndarray | None = None
    if options.silence is not None or options.highlights_s is not None:
        if rate is None and options.silence is not None:
            raise UnsupportedMediaError(f"{src.name}: silence removal needs an audio track, found none",
                                        path=str(src))
        say("audio levels", 0.0)
        with timings.stage("audio levels"):
            levels = frame_levels(src, fps, frames, rate) if rate else None
    if options.silence is not None:
        assert levels is not None
        dl = silence_decisions(str(src), levels, fps, options.silence)
    if options.highlights_s is not None:
        from vidlens.edit.highlights import highlight_decisions

        assert document is not None
        dl = highlight_decisions(str(src), document, fps, frames, options.highlights_s, levels=levels,
                                 base=dl if options.silence is not None else None)
        if options.silence is not None:
            dl = dl.with_operation("silence", silence=whole_settings(options.silence))
        if options.transitions:
            from vidlens.edit.transitions import decide_joins

            dl = decide_joins(dl, _shot_cuts(document, fps), levels)
    plan_crop = None
    size = None
    if options.reframe is not None:
        from vidlens.edit.reframe import crop_for, default_detect, observe, window_size

        assert document is not None
        width, height = (video.height, video.width) if video.rotation in (90, 270) else (video.width, video.height)
        cw, ch, axis = window_size(width, height, options.reframe)
        with timings.stage("reframe: find the subject"):
            obs = observe(video, axis, cw if axis == "x" else ch, detect or default_detect(),
                          progress=lambda f: say("reframe", f), spans=_looked_at(dl))
        plan_crop, shots = crop_for(video, options.reframe, obs, _shot_cuts(document, fps), frames, fps)
        dl = dl.with_operation("reframe", reframe={
            "aspect": options.reframe, "window": [cw, ch], "axis": axis, "shots": shots,
            "observations": {k: sum(o.source == k for o in obs) for k in ("faces", "people", "motion")}})
        size = (cw, ch)
    sidecars: list[Path] = []
    captions = None
    details: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vidlens-edit-") as tmp:
        if options.subtitles is not None:
            from vidlens.analyze.subtitles import to_srt, to_webvtt

            assert document is not None
            cues = output_cues(dl, list(document.get("transcript") or []))
            details["subtitles"] = {"mode": options.subtitles, "cues": len(cues)}
            if options.subtitles == "burn":
                from vidlens.govern.explicit import find_font

                text = "".join(c["text"] for c in cues) or "A"
                font = find_font(text)
                srt = Path(tmp) / "captions.srt"
                srt.write_text(to_srt(cues), encoding="utf-8")
                w, h = size or ((video.height, video.width) if video.rotation in (90, 270) else
                                (video.width, video.height))
                captions = Captions(srt, font.path.parent, font_family(font.path, font.index), w, h)
                details["subtitles"]["font"] = str(font.path)
            else:
                side = out.with_suffix("." + options.subtitles)
                side.write_text(to_webvtt(cues) if options.subtitles == "vtt" else to_srt(cues), encoding="utf-8")
                sidecars.append(side)
        dub = overlay = None
        label_info: dict[str, Any] | None = None
        if options.dub is not None:
            assert document is not None
            if rate is None:
                raise UnsupportedMediaError(f"{src.name}: dubbing needs an audio track, found none", path=str(src))
            frame = size or ((video.height, video.width) if video.rotation in (90, 270) else (video.width, video.height))
            dub, details["dub"], track = _dub(dl, document, options, Path(tmp), rate, lambda f: say("dub", f),
                                              data_dir)
            dl = dl.with_operation("dub", dub=details["dub"])
            overlay, label_info = _visible_label(options.explicit_label, frame, dl.output_duration_s(), Path(tmp))
        target = LoudnessTarget(integrated=options.loudness_lufs) if options.loudness_lufs is not None else None
        plan = RenderPlan(crop=plan_crop, size=None, captions=captions, loudness=target if rate else None,
                          crf=options.crf, preset=options.preset, audio_rate=rate or 48000, dub=dub, overlay=overlay)
        say("render", 0.0)
        total_s = dl.output_duration_s()

        def on_ffmpeg(block: dict[str, str]) -> None:
            us = block.get("out_time_us", "")
            if us.lstrip("-").isdigit():
                say("render", min(1.0, int(us) / 1e6 / max(total_s, 1e-6)))

        with staged_file(out, overwrite=overwrite) as staged:
            with timings.stage("render"):
                applied = render(src, dl, staged, plan, has_audio=rate is not None, on_progress=on_ffmpeg)
            details.update(applied)
            if options.lip_sync and dub is not None:
                with timings.stage("lip sync"):
                    details["lip_sync"] = _lip_sync(src, dl, staged, track, options, Path(tmp),
                                                    lambda f: say("lip sync", f))
            if target is not None and rate is not None:
                with timings.stage("loudness check"):
                    details["loudness_after"] = measure(staged, target)[0].to_dict()
                details["loudness_target"] = target.integrated
            elif rate is None:
                details["loudness_after"] = None
            if label_info is not None:
                details["explicit_label"] = read_back_label(staged, label_info)
            with timings.stage("label"):
                details["label"] = _label(staged, options, data_dir)
    for fmt in options.export:
        from vidlens.edit.export import export, export_path

        sidecars.append(export(dl, src, export_path(out, fmt), fmt))
    details["wall_s"] = round(time.perf_counter() - t0, 3)
    details["timings"] = timings.seconds
    return EditResult(out.absolute(), dl, sidecars, details)


def _looked_at(dl: DecisionList, margin_s: float = 1.0) -> list[tuple[float, float]] | None:
    """Where reframing must find the subject: the kept pieces, with a margin (a dissolve's handles, the
    camera's smoothing); None (the whole file) when most of it is kept anyway."""
    if dl.output_frame_count() > 0.5 * dl.frame_count:
        return None
    spans: list[tuple[float, float]] = []
    for p in dl.pieces():
        a, b = max(0.0, dl.seconds(p.start) - margin_s), dl.seconds(p.end) + margin_s
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _shot_cuts(document: Mapping[str, Any], fps: Fraction) -> list[int]:
    """The source frames where the analysis found a shot starting."""
    return [round(float(s["start_s"]) * float(fps)) for s in document.get("shots") or []]


def whole_settings(s: SilenceSettings) -> dict[str, float]:
    return {"threshold": s.threshold, "margin_s": s.margin_s, "min_clip_s": s.min_clip_s,
            "min_cut_s": s.min_cut_s, "quiet_speed": s.quiet_speed}


def _label(path: Path, options: EditOptions, data_dir: Path | None) -> dict[str, Any]:
    """The GB 45438 implicit label (1: made with AI), signed by the install's identity when asked."""
    from vidlens.govern.label import new_label
    from vidlens.govern.service import label_file

    label = new_label("1", options.producer, f"vidlens-edit-{uuid.uuid4().hex[:16]}")
    report = label_file(path, path, label, data_dir=data_dir, sign=options.sign)
    return report.to_dict()


def _dub(dl: DecisionList, document: Mapping[str, Any], options: EditOptions, tmp: Path, rate: int,
         progress: Callable[[float], None], data_dir: Path | None) -> tuple[Any, dict[str, Any], Any]:
    """The dubbed track (a WAV on the output timeline), the report of every line's fitting, and the track
    itself (with the phonemes' timings when lip sync needs them and the voice gives them)."""
    from vidlens.edit.dub import build_track, dub_lines, gives_timings, load_translator, notice_for, voice_for, voice_spec
    from vidlens.edit.render import Dub
    from vidlens.models.whisper import cache_dir

    assert options.dub is not None
    translator = load_translator(options.dub_translator) if options.dub_translator else None
    lines = dub_lines(document, options.dub, translator)
    timings = options.lip_sync and gives_timings(voice_spec(options.dub, options.dub_voices, options.dub_voice))
    voice = voice_for(options.dub, options.dub_voices, options.dub_voice, aligned=timings,
                      cache=cache_dir(data_dir) if timings and data_dir is not None else None)
    notice = notice_for(options.dub, options.dub_notice)
    track = build_track(lines, [dl.map_span(x["start_s"], x["end_s"]) for x in lines], dl.output_duration_s(),
                        voice, rate, max_tempo=options.dub_max_tempo, notice_text=notice,
                        progress=progress, timings=timings)
    path = tmp / "dub.wav"
    track.write_wav(path)
    duck = float(10 ** (options.dub_duck_db / 20))
    report = {"language": options.dub, "source_language": document.get("language"), "voice": voice.name,
              "duck_db": options.dub_duck_db, "max_tempo": options.dub_max_tempo, "lines": track.lines,
              "notice": track.notice}
    return Dub(path, tuple(track.windows), duck), report, track


def source_times(dl: DecisionList, n: int, fps: float) -> np.ndarray:
    """The source second each of ``n`` output frames (at ``fps``) shows; NaN past the end."""
    out = np.full(n, np.nan)
    at = 0.0  # output seconds
    for s in dl.kept():
        length = s.output_frames() / float(dl.fps)
        k = np.arange(int(np.ceil(at * fps)), min(n, int(np.ceil((at + length) * fps))))
        out[k] = dl.seconds(s.start) + (k / fps - at) * s.speed
        at += length
    return out


def _lip_sync(src: Path, dl: DecisionList, staged: Path, track: Any, options: EditOptions, tmp: Path,
              progress: Callable[[float], None]) -> dict[str, Any]:
    """Move the speaking face's mouth to the dubbed speech (a second encode of the picture; audio copied).
    Who speaks is judged against the original speech, read from the source at the frames the output shows."""
    import os

    from vidlens.humans.presenter.lipsync import lip_sync
    from vidlens.humans.presenter.visemes import envelope_at
    from vidlens.media.audio import load_audio

    def original(n: int, fps: float) -> np.ndarray:
        rate = 16000
        times = source_times(dl, n, fps)
        loud = envelope_at(load_audio(src, rate), rate, np.nan_to_num(times, nan=-1.0))
        return np.where(np.isnan(times), 0.0, loud)

    synced = tmp / "lip-synced.mp4"
    info = lip_sync(staged, synced, track.samples, track.rate, track.spoken, track.phones, original=original,
                    face_index=options.face_index, crf=options.crf, preset=options.preset, progress=progress)
    os.replace(synced, staged)
    return info


def _visible_label(text: str, frame: tuple[int, int], duration_s: float, tmp: Path) -> tuple[Any, dict[str, Any]]:
    """GB 45438's visible notice (govern's explicit-label drawing), as an overlay for the same render."""
    from vidlens.edit.render import Overlay
    from vidlens.govern import explicit

    rendered = explicit.render_label(text, *frame)
    x, y = explicit.place("top-left", frame, rendered.image.size)
    spans = explicit.windows(duration_s, 3.0, end=False, middle=False)
    path = tmp / "label.png"
    rendered.image.save(path)
    info = {"text": text, "ink_height": rendered.ink_height, "ink_ratio": rendered.ink_height / min(frame),
            "font_size": rendered.font_size, "box": [x, y, *rendered.image.size], "windows": spans}
    return Overlay(path, x, y, tuple(spans)), info


def read_back_label(path: Path, info: dict[str, Any], ocr: Ocr | None = None, *, margin: float = 0.5) -> dict[str, Any]:
    """OCR the drawn label back from the render: a compliance tool never reports a label it did not make.
    ``ocr``: a ``vidlens.govern.explicit.Ocr`` (default: the full reader, detection and recognition) and the
    ``margin`` around the box it is given (see ``explicit.read_back``)."""
    from vidlens.errors import MediaError
    from vidlens.govern import explicit

    readings = explicit.read_back(path, info, ocr or explicit.default_ocr(), margin=margin)
    failed = [(t, text) for t, text in readings if not explicit.reads_as(text, info["text"])]
    if failed or not readings:
        t, text = failed[0] if failed else (0.0, "")
        raise MediaError(f"the visible AI label could not be read back: OCR read {text!r} at {t:.2f} s where "
                         f"{info['text']!r} was drawn; nothing was written", details={"readings": readings})
    return {**info, "read_back": readings}
