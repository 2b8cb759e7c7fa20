"""Delivery commands: transcode, package, loudness, thumbnails, live."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, echo, log, print_json
from vidlens.errors import ConflictError, NotFoundError, UsageError

if TYPE_CHECKING:
    from vidlens.settings import Settings

live_app = typer.Typer(
    help="Live ingest (RTMP/SRT push, RTSP pull) to a low-latency HLS ladder.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command()(profiles)
    app.command()(transcode)
    app.command()(package)
    app.command()(loudness)
    app.command()(thumbnails)
    app.add_typer(live_app, name="live")


@contextmanager
def _ffmpeg_progress(
    label: str, source: Path, show: bool
) -> Iterator[Callable[[dict[str, str]], None] | None]:
    """A rich progress bar fed by FFmpeg's ``-progress`` blocks (time encoded / source duration)."""
    if not show or not log.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from vidlens.errors import MediaError
    from vidlens.media.probe import probe

    try:
        total = max(probe(source, sha256="-").duration_s, 0.001)
    except MediaError:  # the real run reports the problem properly
        total = 1.0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[speed]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=log,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total, speed="")

        def update(block: dict[str, str]) -> None:
            us = block.get("out_time_us", "")
            if us.lstrip("-").isdigit():
                bar.update(task, completed=min(total, int(us) / 1e6), speed=block.get("speed", "").strip())

        yield update


def _settings(data_dir: Path | None, config: Path | None) -> Settings:
    from vidlens.settings import load_settings

    flags: dict[str, Any] = {"data_dir": data_dir} if data_dir is not None else {}
    return load_settings(config_file=config, **flags)


def _data_dir(data_dir: Path | None, config: Path | None) -> Path:
    return Path(_settings(data_dir, config).data_dir)


def _emit(result: Any, json_out: bool, lines: list[str]) -> None:
    if json_out:
        print_json(result.to_dict() if hasattr(result, "to_dict") else result)
    else:
        for line in lines:
            echo(line)


BackgroundOption = typer.Option(
    False, "--background", help="Queue a durable job for `vidlens worker` instead of running now."
)


def _queue(
    kind: str, payload: dict[str, Any], json_out: bool, data_dir: Path | None, config: Path | None
) -> None:
    """Record a job (progress, result, or FFmpeg's command and log tail on failure) and say its id."""
    from vidlens.cli.common import open_platform

    platform = open_platform(data_dir, config)
    job = platform.jobs.enqueue(kind, payload)
    _emit(
        {"job_id": job.id, "kind": kind, "status": job.status},
        json_out,
        [f"queued job {job.id} ({kind}); `vidlens worker` runs it, `vidlens jobs show {job.id}` follows it"],
    )


def _rate(profile: dict[str, Any]) -> str:
    return f"crf {profile['crf']}" if profile["crf"] is not None else f"{profile['bitrate_kbps']}k"


def profiles(
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption
) -> None:
    """Encoding profiles (built-in and from configuration), and the encoder this FFmpeg has for each."""
    from vidlens.deliver.profiles import ENCODERS, PRESETS, available_encoders, get_profile

    have = available_encoders()
    extra = _settings(data_dir, config).deliver.profiles
    names = [*PRESETS, *(n for n in extra if n not in PRESETS)]
    rows = []
    for name in names:
        p = get_profile(name, extra)
        origin = "config" if name in extra else "built-in"
        encoder = next((e for e in ENCODERS[p.codec] if e in have), None)
        rows.append({**p.model_dump(), "origin": origin, "encoder": encoder})
    _emit(
        {"profiles": rows},
        json_out,
        [
            f"{r['name']:<16} {r['codec']:<5} {_rate(r):<9} <= {r['max_width']}x{r['max_height']} "
            f"{r['audio_codec']} {r['encoder'] or 'NO ENCODER'} ({r['origin']})"
            for r in rows
        ],
    )


def transcode(
    source: Path = typer.Argument(..., help="Input video."),
    out: Path = typer.Argument(..., help="Output file (.mp4, .mkv, .webm, .mov, .ts)."),
    profile: str = typer.Option("web-h264", "--profile", "-p", help="Profile name (see `vidlens profiles`)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
    drop_label: bool = typer.Option(
        False, "--drop-label", help="Deliver without the source's AIGC label (by default it is carried, or it is an error)."
    ),
    background: bool = BackgroundOption,
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Encode one file with a profile; the output appears only once complete."""
    from vidlens.deliver.profiles import get_profile
    from vidlens.deliver.transcode import transcode as run

    prof = get_profile(profile, _settings(data_dir, config).deliver.profiles)
    if background:
        payload = {"source": str(source.absolute()), "out": str(out.absolute()), "profile": prof.model_dump()}
        _queue("deliver.transcode", {**payload, "overwrite": overwrite, "drop_label": drop_label}, json_out,
               data_dir, config)
        return
    with _ffmpeg_progress(f"transcode {source.name}", source, not json_out) as cb:
        r = run(source, out, prof, on_progress=cb, overwrite=overwrite, drop_label=drop_label)
    _emit(
        r,
        json_out,
        [
            (
                f"{r.output}: {r.width}x{r.height} {r.encoder} {r.fps} fps, {r.duration_s} s, "
                f"{r.size_bytes} bytes, hdr {r.hdr}, AIGC label {r.labels['AIGC']}"
            )
        ],
    )


def package(
    source: Path = typer.Argument(..., help="Input video."),
    outdir: Path = typer.Argument(
        ..., help="Output folder (created; replaced only if it holds an earlier package)."
    ),
    hls: bool = typer.Option(False, "--hls", help="Write OUTDIR/master.m3u8 and HLS renditions."),
    dash: bool = typer.Option(
        False, "--dash", help="Write OUTDIR/manifest.mpd (with --hls: shared fMP4 segments)."
    ),
    segment_type: str = typer.Option("fmp4", "--segment-type", help="HLS segments: fmp4 or ts."),
    segment_seconds: float = typer.Option(4.0, "--segment-seconds", help="Segment (and GOP) length."),
    codec: str = typer.Option("h264", "--codec", help="h264 or h265."),
    speed: str = typer.Option("veryfast", "--speed", help="Encoder speed preset."),
    max_height: int = typer.Option(2160, "--max-height", help="Top rung cap (never above the source)."),
    max_rungs: int = typer.Option(4, "--max-rungs", help="How many renditions at most."),
    player: bool = typer.Option(
        False, "--player", help="Also write player.html with hls.js and/or dash.js beside the manifests."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty OUTDIR."),
    drop_label: bool = typer.Option(
        False, "--drop-label", help="Deliver without the source's AIGC label (by default it is carried, or it is an error)."
    ),
    background: bool = BackgroundOption,
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Package a video as an adaptive HLS and/or DASH ladder in one FFmpeg pass."""
    from pydantic import ValidationError

    from vidlens.deliver.ladder import PackageOptions
    from vidlens.deliver.ladder import package as run

    if not (hls or dash):
        raise UsageError("choose --hls, --dash or both")
    try:
        opts = PackageOptions(
            hls=hls,
            dash=dash,
            segment_type=segment_type,
            segment_seconds=segment_seconds,
            codec=codec,
            speed=speed,
            max_height=max_height,
            max_rungs=max_rungs,
            player=player,
            drop_label=drop_label,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = f"--{str(err['loc'][0]).replace('_', '-')}: " if err["loc"] else ""
        raise UsageError(where + err["msg"].removeprefix("Value error, ")) from None
    if background:
        payload = {"source": str(source.absolute()), "outdir": str(outdir.absolute())}
        opts_json = opts.model_dump(mode="json")
        _queue(
            "deliver.package",
            {**payload, "options": opts_json, "overwrite": overwrite},
            json_out,
            data_dir,
            config,
        )
        return
    with _ffmpeg_progress(f"package {source.name}", source, not json_out) as cb:
        r = run(source, outdir, opts, on_progress=cb, overwrite=overwrite)
    rungs = ", ".join(f"{x.name} {x.width}x{x.height} {x.video_kbps}k" for x in r.renditions)
    _emit(
        r,
        json_out,
        [
            f"{r.outdir}: {' + '.join(m for m in (r.hls, r.dash) if m)}",
            f"renditions: {rungs}; GOP {r.gop_frames} frames at {r.fps} fps",
            "AIGC label: " + "; ".join(f"{k} {v}" for k, v in r.labels["AIGC"].items()),
        ],
    )


def loudness(
    source: Path = typer.Argument(..., help="Input media."),
    out: Path | None = typer.Argument(None, help="Normalised copy to write (omit to only measure)."),
    target: float = typer.Option(
        None, "--target", help="Integrated loudness in LUFS (default -23, broadcast)."
    ),
    preset: str = typer.Option("broadcast", "--preset", help="broadcast (-23 LUFS) or streaming (-14 LUFS)."),
    true_peak: float = typer.Option(-1.0, "--true-peak", help="Maximum true peak in dBTP."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
    background: bool = BackgroundOption,
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Measure EBU R128 loudness and optionally normalise it (two-pass loudnorm)."""
    from pydantic import ValidationError

    from vidlens.deliver.loudness import TARGETS, LoudnessTarget, normalize

    if preset not in TARGETS:
        raise UsageError(f"--preset must be one of {', '.join(TARGETS)}")
    base = TARGETS[preset]
    try:
        tgt = LoudnessTarget(
            integrated=base.integrated if target is None else target, true_peak=true_peak, lra=base.lra
        )
    except ValidationError as exc:
        raise UsageError(f"bad loudness target: {exc.errors()[0]['msg']}") from None
    if background:
        payload = {"source": str(source.absolute()), "out": str(out.absolute()) if out else None}
        target_json = tgt.model_dump(mode="json")
        _queue(
            "deliver.loudness",
            {**payload, "target": target_json, "overwrite": overwrite},
            json_out,
            data_dir,
            config,
        )
        return
    r = normalize(source, out, tgt, overwrite=overwrite)

    def fmt(m: Any) -> str:
        return (
            "n/a"
            if m is None
            else (f"{m.integrated:.1f} LUFS, true peak {m.true_peak:.1f} dBTP, LRA {m.lra:.1f} LU")
        )

    _emit(
        r,
        json_out,
        [f"before: {fmt(r.before)}"]
        + ([f"after:  {fmt(r.after)} ({r.normalization}) -> {r.output}"] if r.output else []),
    )


def thumbnails(
    source: Path = typer.Argument(..., help="Input video."),
    outdir: Path = typer.Argument(..., help="Output folder."),
    poster_at: float | None = typer.Option(
        None, "--poster-at", help="Poster time in seconds (e.g. best keyframe)."
    ),
    interval: float | None = typer.Option(None, "--interval", help="Seconds between sprite tiles."),
    preview: str = typer.Option("webp", "--preview", help="Animated preview: webp, mp4 or none."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty OUTDIR."),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Poster frame, sprite sheets + WebVTT thumbnail track, and a short animated preview.

    Without --poster-at, a video already analysed in the library gets its best keyframe as poster.
    """
    from vidlens.deliver.thumbnails import thumbnails as run

    origin = "given"
    if poster_at is None and source.is_file():
        poster_at = _analysis_poster(source, data_dir, config)
        origin = "analysis"
    r = run(
        source,
        outdir,
        poster_at=poster_at,
        poster_origin=origin,
        interval_s=interval,
        preview=None if preview == "none" else preview,
        overwrite=overwrite,
    )
    _emit(
        r,
        json_out,
        [
            (
                f"{r.outdir}: {r.poster} at {r.poster_time_s} s, {len(r.sprites)} sprite sheet(s), "
                f"{r.cues} cues in {r.vtt}, preview {r.preview or 'none'}"
            )
        ],
    )


def _analysis_poster(source: Path, data_dir: Path | None, config: Path | None) -> float | None:
    """The best keyframe from shot analysis when this file is in the library (never creates one)."""
    from vidlens.cli.common import open_platform
    from vidlens.deliver.thumbnails import poster_from_shots

    settings = _settings(data_dir, config)
    if settings.database_url is None and not (Path(settings.data_dir) / "vidlens.db").is_file():
        return None
    catalog = open_platform(data_dir, config).catalog
    try:
        video = catalog.get_video(str(source))
    except NotFoundError:
        return None
    return poster_from_shots(catalog.shots(video.id))


# -- live ---------------------------------------------------------------------------------------


@live_app.command("start")
def live_start(
    name: str = typer.Argument("main", help="Stream name (one supervisor process per name)."),
    rtmp_port: int | None = typer.Option(None, "--rtmp-port", help="Listen for an RTMP push on this port."),
    srt_port: int | None = typer.Option(None, "--srt-port", help="Listen for an SRT push on this port."),
    rtsp_port: int | None = typer.Option(
        None, "--rtsp-port", help="Listen for an RTSP push (ANNOUNCE/RECORD, TCP or UDP) on this port."
    ),
    rtsp: str | None = typer.Option(None, "--rtsp", help="Pull this rtsp:// URL (reconnects on drops)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    outdir: Path | None = typer.Option(
        None, "--out", help="HLS output folder (default DATA_DIR/live/NAME/)."
    ),
    max_height: int = typer.Option(720, "--max-height", help="Top rung height."),
    rungs: int = typer.Option(3, "--rungs", help="Number of renditions."),
    segment_seconds: float = typer.Option(1.0, "--segment-seconds", help="Segment length."),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Start a supervised live transcode in the background."""
    from pydantic import ValidationError

    from vidlens.deliver.live import LiveOptions, pid_alive, state_dir

    chosen = [x for x in (rtmp_port, srt_port, rtsp_port, rtsp) if x is not None]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --rtmp-port, --srt-port, --rtsp-port, --rtsp")
    protocol = "rtmp" if rtmp_port else "srt" if srt_port else "rtsp"
    try:
        opts = LiveOptions(
            name=name,
            protocol=protocol,
            port=rtmp_port or srt_port or rtsp_port,
            url=rtsp,
            host=host,
            max_height=max_height,
            rungs=rungs,
            segment_seconds=segment_seconds,
        )
    except ValidationError as exc:
        raise UsageError(f"bad live options: {exc.errors()[0]['msg']}") from None
    sdir = state_dir(_data_dir(data_dir, config))
    sdir.mkdir(parents=True, exist_ok=True)
    state_file = sdir / f"{name}.json"
    if state_file.exists():
        old = json.loads(state_file.read_text())
        if pid_alive(old.get("supervisor_pid")):
            raise ConflictError(f"live stream '{name}' is already running (pid {old['supervisor_pid']})")
    out = (outdir or sdir / name).absolute()
    log = open(sdir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidlens.deliver.live", opts.model_dump_json(), str(out), str(state_file)],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not state_file.exists():
        if proc.poll() is not None:
            raise UsageError(f"the live supervisor exited at once; see {sdir / (name + '.log')}")
        time.sleep(0.1)
    result = {
        "name": name,
        "supervisor_pid": proc.pid,
        "ingest_url": opts.ingest_url,
        "master": str(out / "master.m3u8"),
        "state_file": str(state_file),
    }
    _emit(
        result,
        json_out,
        [
            (
                f"live '{name}': {'push to' if opts.listens else 'pulling'} {opts.ingest_url}; "
                f"HLS at {out / 'master.m3u8'} "
                f"(supervisor pid {proc.pid})"
            )
        ],
    )


def _read_states(sdir: Path, name: str | None) -> list[dict[str, Any]]:
    from vidlens.deliver.live import pid_alive

    files = [sdir / f"{name}.json"] if name else sorted(sdir.glob("*.json"))
    states = []
    for f in files:
        if not f.exists():
            raise NotFoundError(f"no live stream named '{name}'")
        s = json.loads(f.read_text())
        if s.get("supervisor_pid") and not pid_alive(s["supervisor_pid"]):
            s["state"], s["supervisor_pid"] = "dead", None
        states.append(s)
    return states


@live_app.command("status")
def live_status(
    name: str | None = typer.Argument(None, help="Stream name (default: all)."),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """State, restarts and recent events of live streams."""
    from vidlens.deliver.live import state_dir

    states = _read_states(state_dir(_data_dir(data_dir, config)), name)
    lines = []
    for s in states:
        lines.append(
            f"{s['name']}: {s['state']}, restarts {s['restarts']}, ingest {s['ingest_url']}, "
            f"last output {s.get('last_output_age_s')} s ago"
            + (f", waiting {s['waiting_s']:.0f} s for media" if s.get("waiting_s") is not None else "")
            + (f"; last error: {s['last_error']}" if s.get("last_error") else "")
        )
        lines += [f"  {e['kind']}: {e['detail']}" for e in s.get("events", [])[-5:]]
    _emit({"streams": states}, json_out, lines or ["no live streams"])


@live_app.command("stop")
def live_stop(
    name: str = typer.Argument("main", help="Stream name."),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Stop a live stream's supervisor (its FFmpeg finishes the playlist and exits)."""
    import os
    import signal

    from vidlens.deliver.live import pid_alive, state_dir

    sdir = state_dir(_data_dir(data_dir, config))
    state = _read_states(sdir, name)[0]
    pid = state.get("supervisor_pid")
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    _emit(
        {"name": name, "stopped": True, "was_running": bool(pid)},
        json_out,
        [f"live '{name}' stopped" if pid else f"live '{name}' was not running"],
    )
