"""EBU R128 loudness: measure, then normalise in a second, linear pass.

One-pass ``loudnorm`` has to guess and rides the gain dynamically; feeding it the
first pass's measurements lets it apply one linear gain when the target allows,
which keeps the mix intact. The output is measured again, so the result reports
what was achieved rather than what was asked for.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vidlens.deliver.labels import carry, metadata_args, read_label
from vidlens.deliver.publish import staged_file
from vidlens.errors import MediaError, UnsupportedMediaError, UsageError
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe

SILENCE_LUFS = -70.0
MP4_SUFFIXES = {".mp4", ".m4a", ".mov"}
# Output suffix -> audio encoder.
AUDIO_ENCODERS = {
    ".mp4": "aac",
    ".m4a": "aac",
    ".mov": "aac",
    ".mkv": "aac",
    ".ts": "aac",
    ".webm": "libopus",
    ".wav": "pcm_s16le",
    ".flac": "flac",
    ".mp3": "libmp3lame",
    ".opus": "libopus",
}


class LoudnessTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    integrated: float = Field(default=-23.0, ge=-70, le=-5)
    true_peak: float = Field(default=-1.0, ge=-9, le=0)
    lra: float = Field(default=11.0, ge=1, le=50)


TARGETS = {"broadcast": LoudnessTarget(integrated=-23.0), "streaming": LoudnessTarget(integrated=-14.0)}


@dataclass(frozen=True)
class LoudnessMeasure:
    integrated: float
    true_peak: float
    lra: float
    threshold: float

    def to_dict(self) -> dict:
        return {k: (None if math.isinf(v) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class LoudnessResult:
    source: str
    output: str | None
    target: LoudnessTarget
    before: LoudnessMeasure
    after: LoudnessMeasure | None
    normalization: str  # linear | dynamic | none (silent) | measured only
    wall_s: float

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "output": self.output,
            "target": self.target.model_dump(),
            "before": self.before.to_dict(),
            "after": self.after.to_dict() if self.after else None,
            "normalization": self.normalization,
            "wall_s": self.wall_s,
        }


def _loudnorm_json(log: str) -> dict[str, str]:
    blocks = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", log, re.DOTALL)
    if not blocks:
        raise MediaError("loudnorm printed no measurement", log_tail=log)
    return json.loads(blocks[-1])


def _filter(target: LoudnessTarget) -> str:
    return f"loudnorm=I={target.integrated}:TP={target.true_peak}:LRA={target.lra}:print_format=json"


def _audio_rate(path: str | Path) -> int:
    video = probe(path, require_video=False, sha256="-")
    rates = [s.sample_rate for s in video.streams if s.kind == "audio" and s.sample_rate]
    if not rates:
        raise UnsupportedMediaError(
            f"{Path(path).name}: expected an audio stream, found none", path=str(path)
        )
    return rates[0]


def measure(path: str | Path, target: LoudnessTarget | None = None) -> tuple[LoudnessMeasure, dict[str, str]]:
    """Integrated loudness, true peak and range of the first audio stream (loudnorm's analysis pass)."""
    _audio_rate(path)
    log = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-af", _filter(target or LoudnessTarget()), "-f", "null", "-"],
        path=str(path),
    )
    return parse_measure(log)


def analysis_filter(target: LoudnessTarget) -> str:
    """The analysis-pass filter, for callers that measure audio of their own filter graph."""
    return _filter(target)


def parse_measure(log: str) -> tuple[LoudnessMeasure, dict[str, str]]:
    """The measurement an analysis pass (``analysis_filter``) printed in FFmpeg's log."""
    raw = _loudnorm_json(log)
    return LoudnessMeasure(
        integrated=float(raw["input_i"]),
        true_peak=float(raw["input_tp"]),
        lra=float(raw["input_lra"]),
        threshold=float(raw["input_thresh"]),
    ), raw


def second_pass(before: LoudnessMeasure, raw: dict[str, str], target: LoudnessTarget) -> str | None:
    """The linear ``loudnorm`` filter for a measured source; None when it is silent (nothing to gain)."""
    if before.integrated < SILENCE_LUFS:
        return None
    # loudnorm only applies one linear gain when the source's range fits the target's: widen the
    # range target rather than squeeze a programme's dynamics (EBU R128 sets no LRA limit).
    lra = min(50.0, max(target.lra, before.lra + 0.1))
    return (
        f"loudnorm=I={target.integrated}:TP={target.true_peak}:LRA={lra:g}"
        f":measured_I={raw['input_i']}:measured_TP={raw['input_tp']}:measured_LRA={raw['input_lra']}"
        f":measured_thresh={raw['input_thresh']}:offset={raw['target_offset']}:linear=true"
        ":print_format=json"
    )


def normalize(
    source: str | Path,
    out: str | Path | None = None,
    target: LoudnessTarget | None = None,
    *,
    overwrite: bool = False,
) -> LoudnessResult:
    """Measure ``source``; with ``out``, write a normalised copy (video copied) and measure it again."""
    t0 = time.perf_counter()
    target = target or LoudnessTarget()
    before, raw = measure(source, target)
    if out is None:
        return LoudnessResult(
            str(source), None, target, before, None, "measured only", round(time.perf_counter() - t0, 3)
        )
    out = Path(out)
    encoder = AUDIO_ENCODERS.get(out.suffix.lower())
    if encoder is None:
        raise UsageError(f"unsupported output type '{out.suffix}' (use one of {', '.join(AUDIO_ENCODERS)})")
    rate = _audio_rate(source)
    second = second_pass(before, raw, target)
    silent = second is None
    if second is None:
        audio = ["-c:a", "copy"]
        normalization = "none (silent)"
    else:
        audio = ["-af", second, "-ar", str(rate), "-c:a", encoder]
        if encoder in ("aac", "libopus", "libmp3lame"):
            audio += ["-b:a", "192k"]
        normalization = "linear"
    video = (
        []
        if out.suffix.lower() in (".wav", ".flac", ".mp3", ".opus", ".m4a")
        else ["-map", "0:v?", "-c:v", "copy"]
    )
    with staged_file(out, overwrite=overwrite) as tmp:
        muxer = "mp4" if out.suffix.lower() in MP4_SUFFIXES else out.suffix.lower().lstrip(".")
        log = run_ffmpeg(
            ["-i", str(source), *video, "-map", "0:a:0", *audio, *metadata_args(muxer), str(tmp)],
            path=str(source),
        )
        if not silent:
            normalization = _loudnorm_json(log).get("normalization_type", "linear")
        after, _ = measure(tmp, target)
        carry([tmp], read_label(source))
    return LoudnessResult(
        str(source),
        str(out.absolute()),
        target,
        before,
        after,
        normalization,
        round(time.perf_counter() - t0, 3),
    )
