"""Core commands: ingest, info, shots, jobs, worker, plugins, config, report."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vidlens.cli.common import (
    ConfigOption,
    DataDirOption,
    JsonOption,
    echo,
    log,
    open_platform,
    print_json,
    print_pretty_json,
    print_table,
    progress,
)
from vidlens.timebase import format_timecode

if TYPE_CHECKING:
    from vidlens.platform import Platform
    from vidlens.types import Video

jobs_app = typer.Typer(help="Inspect and steer the durable job queue.", no_args_is_help=True)
plugins_app = typer.Typer(help="Installed plugins.", no_args_is_help=True)
config_app = typer.Typer(help="Validate and show the configuration.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(info)
    app.command()(shots)
    app.command()(worker)
    app.command()(report)
    app.command()(demo)
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(plugins_app, name="plugins")
    app.add_typer(config_app, name="config")


def _process_queue(platform: Platform, show: bool) -> None:
    """Run every queued job in this process, ``settings.videos_at_once`` at a time, with a progress bar per job.

    Each thread is a ``Worker``, as in ``vidlens worker``: leased jobs, heartbeats, retries and
    cancellation behave the same whichever command runs them.
    """
    from concurrent.futures import ThreadPoolExecutor

    from vidlens.jobs.queue import Job
    from vidlens.jobs.worker import Worker

    bars: dict[int, Any] = {}

    class ShownWorker(Worker):
        def run_job(self, job: Job) -> None:
            bars[job.id] = bar.add_task(f"{job.kind} {job.payload.get('video_id', '')[:12]}", total=1.0,
                                        visible=show)
            try:
                super().run_job(job)
            finally:
                bar.update(bars.pop(job.id), completed=1.0, visible=False)

        def on_progress(self, job: Job, fraction: float, message: str | None) -> None:
            bar.update(bars[job.id], completed=fraction)

    n = platform.settings.videos_at_once
    with progress(show=show) as bar, ThreadPoolExecutor(n, thread_name_prefix="vidlens-job") as pool:
        workers = [ShownWorker(platform) for _ in range(n)]
        for f in [pool.submit(w.run, threading.Event(), idle_exit=True) for w in workers]:
            f.result()


def ingest(
    paths: list[Path] = typer.Argument(..., help="Video files or folders (searched recursively)."),
    analyze: bool = typer.Option(True, "--analyze/--no-analyze", help="Queue analysis (shots, ...) for each video."),
    background: bool = typer.Option(False, "--background",
                                    help="Only queue the analysis for running workers (`vidlens worker`)."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Add videos to the library. Identical content is recognised and stored once."""
    platform = open_platform(data_dir, config)
    counts = {"added": 0, "duplicate": 0, "failed": 0}

    def show(res: Any) -> None:
        counts[res.status] += 1
        if json_out:
            return
        if res.status == "failed":
            log.print(f"failed    {res.path}: {res.error.message}", highlight=False, markup=False)
        else:
            v = res.video
            echo(f"{res.status:<9} {res.path} -> {v.id[:12]} ({v.width}x{v.height}, {v.duration_s:.1f}s)")

    results = platform.catalog.ingest(paths, analyze=analyze, on_result=show)
    if analyze and not background:
        _process_queue(platform, show=not json_out)
    if json_out:
        print_json({"results": [r.to_dict() for r in results], "counts": counts})
    else:
        echo(f"{counts['added']} added, {counts['duplicate']} duplicate, {counts['failed']} failed")
    if counts["failed"]:
        raise typer.Exit(code=10)


def _video_from_ref(platform: Platform, ref: str, *, record: bool = True) -> Video:
    """A library video by id/prefix, or a file path (probed, and recorded when ``record``)."""
    from vidlens.errors import NotFoundError

    _not_a_folder(ref)
    if Path(ref).is_file():
        if record:
            res = platform.catalog.ingest_file(ref, analyze=False)
            if res.error is not None:
                raise res.error
            assert res.video is not None
            return res.video
        from vidlens.media.probe import probe

        return probe(ref)
    try:
        return platform.catalog.get_video(ref)
    except NotFoundError:
        raise NotFoundError(f"'{ref}' is neither a file nor a video in the library") from None


def _not_a_folder(ref: str) -> None:
    """A folder given where one video is expected: say so (and what takes folders), not "no such video"."""
    if Path(ref).is_dir():
        from vidlens.errors import UsageError

        raise UsageError(f"{ref} is a folder; give one video file or a library video id "
                         f"(`vidlens ingest {ref}` adds every video in a folder)")


def info(
    video: str = typer.Argument(..., help="A file path or a library video id."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Probe a video: container, streams, duration, frame rate, rotation, content hash (and, for a library
    video, its analysis status)."""
    from vidlens.media.containers import container_name
    from vidlens.media.probe import probe

    _not_a_folder(video)
    analysis: dict[str, Any] | None = None  # a library video's analysis status (a bare file has none)
    if Path(video).is_file():
        v = probe(video)
    else:
        catalog = open_platform(data_dir, config).catalog
        v = catalog.get_video(video)
        listed = catalog.summary(v.id)
        analysis = {"status": listed["status"], "failed": listed["failed"]}
    name = container_name(v.container, v.tags, v.uri)
    if json_out:
        print_json(v.to_dict() | {"container_name": name} | ({"analysis": analysis} if analysis else {}))
        return
    rows = [("file", v.uri), ("sha256", v.sha256), ("container", name),
            ("duration", format_timecode(v.duration_s)), ("size", f"{v.width}x{v.height}"),
            ("fps", f"{float(v.fps):.3f} ({v.fps})" if v.fps else "unknown"),
            ("variable frame rate", "yes" if v.variable_frame_rate else "no"),
            ("rotation", f"{v.rotation}°"), ("frames", str(v.frame_count or "unknown")),
            ("audio", "yes" if v.has_audio else "no")]
    if analysis:
        failed = f" (failed: {', '.join(analysis['failed'])})" if analysis["failed"] else ""
        rows.append(("analysis", analysis["status"] + failed))
    for s in v.streams:
        extra = f"{s.width}x{s.height} {s.pix_fmt}" if s.kind == "video" else (
            f"{s.sample_rate} Hz, {s.channels} ch" if s.kind == "audio" else "")
        rows.append((f"stream {s.index}", f"{s.kind} {s.codec} {extra}".strip()))
    width = max(len(k) for k, _ in rows)
    for k, val in rows:
        echo(f"{k:<{width}}  {val}")


def shots(
    video: str = typer.Argument(..., help="A file path or a library video id."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
    force: bool = typer.Option(False, "--force", help="Ignore cached results and analyse again."),
) -> None:
    """Detect shots (cuts, fades, dissolves) with a keyframe and thumbnail each."""
    from vidlens.analyze.runner import AnalysisRunner

    platform = open_platform(data_dir, config)
    v = _video_from_ref(platform, video)
    if not v.width:
        from vidlens.errors import UnsupportedMediaError

        raise UnsupportedMediaError(f"{Path(v.uri).name}: expected a video stream, found audio only", path=v.uri)
    runner = AnalysisRunner(platform, analyzers=["shots"])
    with progress(show=not json_out) as bar:
        task = bar.add_task(f"shots {Path(v.uri).name}", total=1.0)
        outcome = runner.run(v, progress=lambda f: bar.update(task, completed=f), force=force)
    res = outcome.analyzers["shots"]
    if res.status != "ok":
        from vidlens.errors import JobError

        raise JobError(f"shot detection failed: {res.error['message'] if res.error else 'unknown error'}")
    doc = res.document or {}
    if json_out:
        print_json({"video_id": v.id, "file": v.uri, "frames": doc.get("frames"), "fps": str(v.fps),
                    "cached": res.cached, "shots": doc.get("shots", []), "boundaries": doc.get("boundaries", [])})
        return
    print_table(("#", "start", "end", "frames", "in", "keyframe"),
                [(s["index"], format_timecode(s["start_s"]), format_timecode(s["end_s"]),
                  f"{s['start_frame']}-{s['end_frame'] - 1}", s["transition_in"], s["keyframe_frame"])
                 for s in doc["shots"]],
                title=f"{len(doc['shots'])} shots in {Path(v.uri).name}")


def worker(
    processes: int = typer.Option(None, "--processes", "-n", help="Worker processes, or Ray actors with runner = 'ray' (default: settings.workers)."),
    imports: list[str] = typer.Option([], "--import", help="Extra module(s) of job steps to import."),
    once: bool = typer.Option(False, "--once", help="Process queued jobs in this process and exit when idle."),
    data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Run workers that process queued jobs until interrupted (Ctrl-C)."""
    from vidlens.jobs.worker import Worker

    platform = open_platform(data_dir, config)
    stop = threading.Event()
    if once or (processes == 1 and platform.settings.runner == "local"):
        w = Worker(platform, import_modules=imports)
        log.print(f"worker {w.worker_id} processing jobs ({', '.join(w.kinds)})")
        try:
            n = w.run(stop, idle_exit=once)
        except KeyboardInterrupt:
            return
        log.print(f"{n} job(s) processed")
        return
    from vidlens.jobs.runner import make_runner

    runner = make_runner(platform.settings, platform.jobs, import_modules=imports)
    n = processes or platform.settings.workers
    where = "Ray actor(s)" if platform.settings.runner == "ray" else "worker process(es)"
    log.print(f"{n} {where} started; Ctrl-C to stop")
    try:
        runner.serve(stop, processes=n)
    except KeyboardInterrupt:
        stop.set()


@jobs_app.command("list")
def jobs_list(
    status: str | None = typer.Option(None, "--status", help="queued, running, succeeded, partial, failed or cancelled."),
    limit: int = typer.Option(50, "--limit"),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """List jobs, newest first."""
    jobs = open_platform(data_dir, config).jobs.list(status=status, limit=limit)
    if json_out:
        print_json({"jobs": [j.to_dict() for j in jobs]})
        return
    print_table(("id", "kind", "status", "attempts", "progress", "video", "error"),
                [(j.id, j.kind, j.status, f"{j.attempts}/{j.max_attempts}", f"{j.progress:.0%}",
                  (j.video_id or "")[:12], " ".join((j.error_message or "").split())[:60]) for j in jobs])


@jobs_app.command("show")
def jobs_show(job_id: int, json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
              config: Path | None = ConfigOption) -> None:
    """Show one job with its error details."""
    job = open_platform(data_dir, config).jobs.get(job_id)
    if json_out:
        print_json(job.to_dict())
    else:
        print_pretty_json(job.to_dict())


@jobs_app.command("retry")
def jobs_retry(job_id: int, json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
               config: Path | None = ConfigOption) -> None:
    """Queue a partial, failed or cancelled job again."""
    job = open_platform(data_dir, config).jobs.retry(job_id)
    print_json(job.to_dict()) if json_out else echo(f"job {job.id} queued again")


@jobs_app.command("cancel")
def jobs_cancel(job_id: int, json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                config: Path | None = ConfigOption) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    job = open_platform(data_dir, config).jobs.cancel(job_id)
    print_json(job.to_dict()) if json_out else echo(f"job {job.id}: {job.status}"
                                                    + (" (cancel requested)" if job.status == "running" else ""))


@plugins_app.command("list")
def plugins_list(json_out: bool = JsonOption,
                 data_dir: Path | None = DataDirOption) -> None:  # taken by every command; unused here
    """List installed capabilities and plugins (built-ins register the same way as third-party ones)."""
    from vidlens.capability import installed
    from vidlens.plugins import PluginRegistry

    reg = PluginRegistry.discover()
    caps = installed()
    problems = caps.problems()
    if json_out:
        print_json({
            "capabilities": [{"name": c.name, "summary": c.summary, "entry_point": caps.origin(c.name),
                              "requires": list(c.requires), "parts": c.parts(), "problems": problems[c.name]}
                             for c in caps],
            "plugins": [dict(p.manifest.to_dict(), entry_point=p.entry_point) for p in reg],
        })
        return
    print_table(("capability", "parts", "status", "summary"),
                [(c.name, ", ".join(c.parts()), "; ".join(problems[c.name]) or "ok", c.summary) for c in caps])
    echo()
    print_table(("plugin", "kind", "version", "licence", "summary"),
                [(p.manifest.name, p.manifest.kind, p.manifest.version, p.manifest.license, p.manifest.summary)
                 for p in reg])


@config_app.command("validate")
def config_validate(config: Path | None = ConfigOption, data_dir: Path | None = DataDirOption) -> None:
    """Check the configuration, each plugin's section included; print each problem as key path, value and message."""
    from vidlens.plugins import PluginRegistry
    from vidlens.settings import load_settings

    settings = load_settings(config_file=config, **({"data_dir": data_dir} if data_dir else {}))
    registry = PluginRegistry.discover()
    for name, raw in settings.plugins.items():
        cls = registry.get(name).cls  # an unknown plugin name is an error too
        if hasattr(cls, "from_dict"):
            cls.from_dict(raw)
    echo("configuration is valid")


@config_app.command("show")
def config_show(config: Path | None = ConfigOption, json_out: bool = JsonOption,
                data_dir: Path | None = DataDirOption) -> None:
    """Print the effective configuration (after file, environment and defaults)."""
    from vidlens.settings import load_settings

    s = load_settings(config_file=config, **({"data_dir": data_dir} if data_dir else {})).model_dump(mode="json")
    if json_out:
        print_json(s)
    else:
        print_pretty_json(s)


@config_app.command("schema")
def config_schema(data_dir: Path | None = DataDirOption) -> None:  # taken by every command; unused here
    """Print the JSON Schema of the configuration (every field described), one section per capability."""
    from vidlens.settings import settings_model

    print_json(settings_model().model_json_schema())


def report(
    out: Path = typer.Option(Path("vidlens-report.html"), "--out", "-o", help="HTML file to write."),
    data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Write a self-contained HTML report: each video with its shots and keyframe strip."""
    from vidlens.report.html import write_report

    platform = open_platform(data_dir, config)
    path = write_report(platform, out)
    echo(f"report written to {path}")


def demo(
    samples: Path = typer.Option(Path("samples"), "--samples", help="Folder of sample clips to ingest."),
    out: Path = typer.Option(Path("vidlens-report.html"), "--out", "-o", help="HTML report to write."),
    data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Ingest and analyse the sample clips, print a summary, write the library report and one analysis page per clip."""
    from vidlens.report.analysis import write_analysis_report
    from vidlens.report.html import write_report

    platform = open_platform(data_dir, config)
    results = platform.catalog.ingest([samples], analyze=True)
    if not results:
        from vidlens.errors import UsageError

        raise UsageError(f"no sample clips found in {samples}")
    _process_queue(platform, show=True)
    rows: list[tuple[str, ...]] = []
    for r in results:
        if r.video is None:
            rows.append((Path(r.path).name, "-", "-", "-", f"failed: {r.error.message if r.error else ''}"))
            continue
        shot_rows = platform.catalog.shots(r.video.id)
        kinds: dict[str, int] = {}
        for s in shot_rows[1:]:
            kinds[s["transition_in"]] = kinds.get(s["transition_in"], 0) + 1
        rows.append((Path(r.path).name, format_timecode(r.video.duration_s), f"{r.video.width}x{r.video.height}",
                     str(len(shot_rows)), ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "-"))
    print_table(("video", "duration", "size", "shots", "transitions"), rows, title="VidLens demo: shots per video")
    pages = out.parent / (out.stem + "-videos")  # the analysis pages, linked from the library report
    links: dict[str, str] = {}
    for r in results:
        if r.video is not None and (doc := platform.catalog.document(r.video.id)) is not None:
            page = pages / f"{Path(r.path).stem}-{r.video.id[:8]}.html"
            write_analysis_report(doc, page, blobs=platform.blobs)
            links[r.video.id] = f"{pages.name}/{page.name}"
    path = write_report(platform, out, links)
    echo(f"report: {path.resolve()} (analysis of each clip in {pages.resolve()}/)")
