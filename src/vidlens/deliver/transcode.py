"""Single-output transcodes driven by a ``Profile``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vidlens.deliver.filters import color_args, video_chain
from vidlens.deliver.labels import carry, metadata_args, read_label
from vidlens.deliver.loudness import LoudnessMeasure, LoudnessTarget, measure, second_pass
from vidlens.deliver.profiles import Profile, audio_args, encoder_args, encoder_for
from vidlens.deliver.publish import staged_file
from vidlens.deliver.source import SourceInfo, inspect_source
from vidlens.errors import CorruptMediaError, UsageError
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe

ProgressFn = Callable[[dict[str, str]], None]

# suffix -> (muxer, video codecs, audio codecs) the container can hold.
CONTAINERS: dict[str, tuple[str, set[str], set[str]]] = {
    ".mp4": ("mp4", {"h264", "h265", "vp9", "av1"}, {"aac", "opus"}),
    ".m4v": ("mp4", {"h264", "h265"}, {"aac"}),
    ".mov": ("mov", {"h264", "h265"}, {"aac"}),
    ".mkv": ("matroska", {"h264", "h265", "vp9", "av1"}, {"aac", "opus"}),
    ".webm": ("webm", {"vp9", "av1"}, {"opus"}),
    ".ts": ("mpegts", {"h264", "h265"}, {"aac"}),
}
# An output shorter than this share of the source means the input died half way.
MIN_DURATION_RATIO = 0.9


@dataclass(frozen=True)
class TranscodeResult:
    output: str
    profile: str
    encoder: str
    width: int
    height: int
    fps: str
    duration_s: float
    size_bytes: int
    hdr: str
    deinterlaced: bool
    wall_s: float
    labels: dict[str, str] = field(default_factory=dict)
    loudness: dict | None = None  # when the profile has a loudness target: target, before, after

    def to_dict(self) -> dict:
        return asdict(self)


def container_for(out: Path, profile: Profile) -> str:
    """The muxer for ``out``'s suffix, after checking it can hold the profile's codecs."""
    spec = CONTAINERS.get(out.suffix.lower())
    if spec is None:
        raise UsageError(f"unsupported output type '{out.suffix}' (use one of {', '.join(CONTAINERS)})")
    muxer, vcodecs, acodecs = spec
    if profile.codec not in vcodecs:
        raise UsageError(
            f"a {out.suffix} file cannot hold {profile.codec} video (it takes {', '.join(sorted(vcodecs))})"
        )
    if profile.audio_codec not in ("none", "copy") and profile.audio_codec not in acodecs:
        raise UsageError(
            f"a {out.suffix} file cannot hold {profile.audio_codec} audio "
            f"(it takes {', '.join(sorted(acodecs))})"
        )
    return muxer


def hdr_outcome(src: SourceInfo, profile: Profile) -> str:
    if not src.hdr:
        return "sdr"
    return f"{src.hdr} kept" if profile.keeps_hdr(src.hdr) else f"{src.hdr} tone-mapped to sdr"


def check_complete(src: SourceInfo, out_duration_s: float, path: str, log_tail: str = "") -> None:
    """Raise when the output is much shorter than the source: FFmpeg hit a truncated input.

    ``log_tail``: what FFmpeg said on the run (it exits 0 at a truncated input, but says why).
    """
    expected = src.video.duration_s
    if expected > 1 and out_duration_s < expected * MIN_DURATION_RATIO:
        raise CorruptMediaError(
            f"{Path(path).name}: the input ends early: decoded {out_duration_s:.2f} s of the "
            f"{expected:.2f} s its header declares (truncated or damaged file)",
            path=path,
            log_tail=log_tail,
        )


def demuxed_duration(path: str | Path) -> float:
    """Seconds of video packets actually present (demux only, no decode): cheap truncation check."""
    last: dict[str, str] = {}
    run_ffmpeg(
        ["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
        on_progress=last.update,
        path=str(path),
    )
    return int(last.get("out_time_us", "0") or 0) / 1e6


def transcode(
    source: str | Path,
    out: str | Path,
    profile: Profile,
    *,
    on_progress: ProgressFn | None = None,
    overwrite: bool = False,
    drop_label: bool = False,
) -> TranscodeResult:
    """Encode ``source`` to ``out`` under ``profile``; the file appears only once complete.

    The source's AIGC label is carried into the output (an error if it cannot be), unless
    ``drop_label`` asks to leave it out.
    """
    t0 = time.perf_counter()
    out = Path(out)
    muxer = container_for(out, profile)
    src = inspect_source(source)
    vf, (w, h) = video_chain(src, profile)
    label = read_label(source)
    loud_filter, loud_before, loud_target = _loudness_plan(source, src, profile)
    args = [
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-vf",
        vf,
        *encoder_args(profile),
        *color_args(src, profile),
        *audio_args(profile, src.audio_rate),
        *(["-af", loud_filter] if loud_filter else []),
        *metadata_args(muxer, faststart=True),
        "-f",
        muxer,
    ]
    with staged_file(out, overwrite=overwrite) as tmp:
        log = run_ffmpeg([*args, str(tmp)], on_progress=on_progress, path=str(source))
        result = probe(tmp, sha256="-")
        check_complete(src, result.duration_s, str(source), log)
        label_status = carry([tmp], label, drop=drop_label)
        loudness = None
        if loud_target is not None and loud_before is not None:
            after = measure(tmp, loud_target)[0] if loud_filter else None
            loudness = {
                "target": loud_target.integrated,
                "before": loud_before.to_dict(),
                "after": after.to_dict() if after else None,
            }
    return TranscodeResult(
        output=str(out.absolute()),
        profile=profile.name,
        encoder=encoder_for(profile.codec),
        width=w,
        height=h,
        fps=str(result.fps),
        duration_s=round(result.duration_s, 3),
        size_bytes=out.stat().st_size,
        hdr=hdr_outcome(src, profile),
        deinterlaced=src.interlaced,
        wall_s=round(time.perf_counter() - t0, 3),
        labels={"AIGC": label_status},
        loudness=loudness,
    )


def _loudness_plan(
    source: str | Path, src: SourceInfo, profile: Profile
) -> tuple[str | None, LoudnessMeasure | None, LoudnessTarget | None]:
    """Measure the source when the profile names a loudness target; the filter that reaches it."""
    if profile.loudness_target is None or src.audio_rate is None or profile.audio_codec in ("none", "copy"):
        return None, None, None
    target = LoudnessTarget(integrated=profile.loudness_target)
    before, raw = measure(source, target)
    return second_pass(before, raw, target), before, target
