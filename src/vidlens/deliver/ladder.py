"""Adaptive-bitrate packaging: one FFmpeg pass, one decode, N aligned renditions.

The source is decoded once, pre-filtered once (deinterlace, tone-map, constant
rate), split, scaled per rung and encoded with a fixed GOP and no scene-cut
keyframes, so every rendition switches at the same presentation times. HLS uses
FFmpeg's hls muxer (``var_stream_map``); DASH, or HLS and DASH together, use the
dash muxer whose fMP4 segments serve both manifests (CMAF-style, one encode).
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vidlens.deliver.filters import color_args, even, output_fps, pixel_format, pre_filters, scale_filter
from vidlens.deliver.labels import announce_dash, announce_hls, carry, metadata_args, read_label
from vidlens.deliver.player import install_player
from vidlens.deliver.profiles import Profile, encoder_args
from vidlens.deliver.publish import staged_dir
from vidlens.deliver.source import SourceInfo, inspect_source
from vidlens.deliver.transcode import ProgressFn, check_complete
from vidlens.errors import MediaError
from vidlens.media.ffmpeg import run_ffmpeg

# Short side in pixels -> H.264 video bitrate (kbit/s) at <= 30 fps.
LADDER: tuple[tuple[int, int], ...] = (
    (2160, 14000),
    (1440, 8000),
    (1080, 5000),
    (720, 2800),
    (480, 1200),
    (360, 700),
)
CODEC_BITRATE_FACTOR = {"h264": 1.0, "h265": 0.65}
HIGH_FPS_FACTOR = 1.5


class PackageOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hls: bool = True
    dash: bool = False
    segment_type: Literal["fmp4", "ts"] = "fmp4"
    segment_seconds: float = Field(default=4.0, ge=0.5, le=20)
    codec: Literal["h264", "h265"] = "h264"
    speed: Literal["ultrafast", "veryfast", "fast", "medium", "slow"] = "veryfast"
    max_height: int = Field(default=2160, ge=144, le=2160)
    max_rungs: int = Field(default=4, ge=1, le=6)
    max_fps: float = Field(default=60.0, gt=0, le=120)
    audio_bitrate_kbps: int = Field(default=128, ge=32, le=512)
    hdr: Literal["auto", "passthrough", "tonemap"] = "tonemap"
    player: bool = False  # also write player.html + hls.js and/or dash.js
    drop_label: bool = False  # deliver without the source's AIGC label (otherwise carried, or an error)

    @model_validator(mode="after")
    def _outputs(self) -> PackageOptions:
        if not (self.hls or self.dash):
            raise ValueError("choose at least one of HLS and DASH")
        if self.dash and self.segment_type == "ts":
            raise ValueError("DASH needs fMP4 segments; use segment_type 'fmp4' (it serves HLS as well)")
        return self


@dataclass(frozen=True)
class Rung:
    name: str
    width: int
    height: int
    video_kbps: int


@dataclass(frozen=True)
class PackageResult:
    outdir: str
    hls: str | None
    dash: str | None
    segment_type: str
    segment_seconds: float
    gop_frames: int
    fps: str
    renditions: list[Rung]
    audio: bool
    duration_s: float
    wall_s: float
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def choose_ladder(
    width: int,
    height: int,
    *,
    codec: str = "h264",
    fps: float = 30.0,
    max_height: int = 2160,
    max_rungs: int = 4,
) -> list[Rung]:
    """Rungs from the source size down, never upscaled: short sides from ``LADDER`` that fit.

    A source smaller than every rung gets one rendition at its own (even) size.
    """
    short, long_ = min(width, height), max(width, height)
    factor = CODEC_BITRATE_FACTOR[codec] * (HIGH_FPS_FACTOR if fps > 31 else 1.0)
    picks = [(s, kb) for s, kb in LADDER if s <= short and s <= max_height][:max_rungs]
    if not picks:
        s = even(min(short, max_height))
        picks = [(s, max(200, int(LADDER[-1][1] * s * s / (360 * 360))))]
    rungs = []
    for s, kb in picks:
        other = even(round(long_ * s / short))
        w, h = (other, s) if width >= height else (s, other)
        rungs.append(Rung(name=f"{s}p", width=w, height=h, video_kbps=int(kb * factor)))
    return rungs


def _profile(opts: PackageOptions, kbps: int) -> Profile:
    return Profile(
        name="ladder",
        codec=opts.codec,
        bitrate_kbps=kbps,
        speed=opts.speed,
        max_fps=opts.max_fps,
        hdr=opts.hdr,
        audio_bitrate_kbps=opts.audio_bitrate_kbps,
    )


def build_command(
    src: SourceInfo, stage: Path, opts: PackageOptions, rungs: list[Rung]
) -> tuple[list[str], int, str]:
    """FFmpeg arguments for the whole ladder, the GOP in frames, and the output rate."""
    base = _profile(opts, rungs[0].video_kbps)
    fps = output_fps(src.fps, opts.max_fps)
    gop = max(1, round(float(fps) * opts.segment_seconds))
    n = len(rungs)
    pre = ",".join([*pre_filters(src, base, force_cfr=True), f"split={n}"])
    graph = [f"[0:v]{pre}" + "".join(f"[s{i}]" for i in range(n))]
    pix = pixel_format(src, base)
    dar = Fraction(rungs[0].width, rungs[0].height)
    graph += [f"[s{i}]{scale_filter(r.width, r.height, dar)},format={pix}[v{i}]" for i, r in enumerate(rungs)]
    args = ["-i", str(src.video.uri), "-filter_complex", ";".join(graph)]
    for i in range(n):
        args += ["-map", f"[v{i}]"]
    has_audio = src.audio_rate is not None
    if has_audio:
        args += [
            "-map",
            "0:a:0",
            "-c:a",
            "aac",
            "-b:a",
            f"{opts.audio_bitrate_kbps}k",
            "-ac",
            "2",
            "-ar",
            str(min(src.audio_rate or 48000, 48000)),
        ]
    for i, r in enumerate(rungs):
        args += encoder_args(_profile(opts, r.video_kbps), gop=gop, spec=f":v:{i}")
    args += ["-force_key_frames:v", f"expr:eq(mod(n,{gop}),0)", *color_args(src, base), *metadata_args("")]
    if opts.dash:
        args += [
            "-f",
            "dash",
            "-seg_duration",
            f"{opts.segment_seconds:g}",
            "-use_template",
            "1",
            "-use_timeline",
            "1",
            "-adaptation_sets",
            "id=0,streams=v" + (" id=1,streams=a" if has_audio else ""),
            "-init_seg_name",
            "init-$RepresentationID$.m4s",
            "-media_seg_name",
            "chunk-$RepresentationID$-$Number%05d$.m4s",
        ]
        if opts.hls:
            args += ["-hls_playlist", "1", "-hls_master_name", "master.m3u8"]
        args.append(str(stage / "manifest.mpd"))
    else:
        ext = "m4s" if opts.segment_type == "fmp4" else "ts"
        vmap = [f"v:{i},name:{r.name}" + (",agroup:audio" if has_audio else "") for i, r in enumerate(rungs)]
        if has_audio:
            vmap.insert(0, "a:0,agroup:audio,name:audio,default:yes")
        args += [
            "-f",
            "hls",
            "-hls_time",
            f"{opts.segment_seconds:g}",
            "-hls_playlist_type",
            "vod",
            "-hls_flags",
            "independent_segments",
            "-hls_segment_type",
            "fmp4" if opts.segment_type == "fmp4" else "mpegts",
            "-master_pl_name",
            "master.m3u8",
            "-var_stream_map",
            " ".join(vmap),
            "-hls_segment_filename",
            str(stage / "%v" / f"seg_%05d.{ext}"),
        ]
        if opts.segment_type == "fmp4":
            args += [
                "-hls_fmp4_init_filename",
                "init.mp4",
                "-hls_segment_options",
                "movflags=+use_metadata_tags",
            ]
        args.append(str(stage / "%v" / "index.m3u8"))
    return args, gop, f"{fps.numerator}/{fps.denominator}" if fps.denominator != 1 else str(fps.numerator)


def _carry_label(stage: Path, opts: PackageOptions, label: str | None) -> dict[str, str]:
    """Write the source's label into every init segment (fMP4) or media segment (TS) and the manifests."""
    if opts.dash:
        files = sorted(stage.glob("init-*.m4s"))
    elif opts.segment_type == "fmp4":
        files = sorted(stage.glob("*/init*.mp4"))
    else:
        files = sorted(stage.glob("*/*.ts"))
    status = carry(files, label, drop=opts.drop_label)
    if status == "carried" and label is not None:
        if opts.hls:
            announce_hls(stage / "master.m3u8", label)
        if opts.dash:
            announce_dash(stage / "manifest.mpd", label)
    return {kind: status for kind, on in (("hls", opts.hls), ("dash", opts.dash)) if on}


def package(
    source: str | Path,
    outdir: str | Path,
    opts: PackageOptions | None = None,
    *,
    on_progress: ProgressFn | None = None,
    overwrite: bool = False,
) -> PackageResult:
    """Package ``source`` into ``outdir`` (``master.m3u8`` and/or ``manifest.mpd`` plus segments)."""
    opts = opts or PackageOptions()
    t0 = time.perf_counter()
    src = inspect_source(source)
    w, h = src.display_size
    rungs = choose_ladder(
        w,
        h,
        codec=opts.codec,
        fps=float(output_fps(src.fps, opts.max_fps)),
        max_height=opts.max_height,
        max_rungs=opts.max_rungs,
    )
    label = read_label(source)
    last: dict[str, str] = {}

    def progress(block: dict[str, str]) -> None:
        last.update(block)
        if on_progress is not None:
            on_progress(block)

    with staged_dir(outdir, overwrite=overwrite) as stage:
        args, gop, fps = build_command(src, stage, opts, rungs)
        log = run_ffmpeg(args, on_progress=progress, path=str(source))
        out_s = int(last.get("out_time_us", "0") or 0) / 1e6
        check_complete(src, out_s, str(source), log)
        for manifest in (["master.m3u8"] if opts.hls else []) + (["manifest.mpd"] if opts.dash else []):
            if not (stage / manifest).is_file():
                raise MediaError(f"FFmpeg finished but wrote no {manifest}", path=str(source))
        labels = _carry_label(stage, opts, label)
        if opts.player:
            install_player(stage, hls=opts.hls, dash=opts.dash)
    return PackageResult(
        outdir=str(Path(outdir).absolute()),
        hls="master.m3u8" if opts.hls else None,
        dash="manifest.mpd" if opts.dash else None,
        segment_type=opts.segment_type,
        segment_seconds=opts.segment_seconds,
        gop_frames=gop,
        fps=fps,
        renditions=rungs,
        audio=src.audio_rate is not None,
        duration_s=round(out_s, 3),
        wall_s=round(time.perf_counter() - t0, 3),
        labels={"AIGC": labels},
    )


def hls_playlist_entries(playlist: Path) -> list[tuple[float, str]]:
    """(duration, URI) for each media segment of an HLS media playlist."""
    entries: list[tuple[float, str]] = []
    duration: float | None = None
    for line in playlist.read_text().splitlines():
        m = re.match(r"#EXTINF:([\d.]+)", line)
        if m:
            duration = float(m.group(1))
        elif line and not line.startswith("#") and duration is not None:
            entries.append((duration, line.strip()))
            duration = None
    return entries
