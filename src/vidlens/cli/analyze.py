"""``vidlens analyze``: every analyzer over one decode per video, stored, exported; ``vidlens reindex``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vidlens.cli.common import (ConfigOption, DataDirOption, JsonOption, echo, log, open_platform, print_json,
                                progress)
from vidlens.errors import VidLensError

if TYPE_CHECKING:
    from vidlens.analyze.runner import AnalysisOutcome
    from vidlens.types import Video


def register(app: typer.Typer) -> None:
    app.command()(analyze)
    app.command()(reindex)


def analyze(
    videos: list[str] = typer.Argument(..., help="File paths or library video ids."),
    analyzers: str | None = typer.Option(None, "--analyzers", "-a",
                                         help="Comma-separated analyzer names (default: all installed)."),
    force: bool = typer.Option(False, "--force", help="Ignore cached results and analyse again."),
    html_out: Path | None = typer.Option(None, "--html", help="Write the HTML report (file, or folder for several)."),
    vtt: Path | None = typer.Option(None, "--vtt", help="Write WebVTT subtitles (file, or folder for several)."),
    srt: Path | None = typer.Option(None, "--srt", help="Write SRT subtitles (file, or folder for several)."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Analyse videos: shots, objects, people, on-screen text, speech, cues, tags. Prints or exports the document.

    The document is stored (one per video, built from every analyzer's newest result) and printed as stored."""
    from vidlens.analyze.runner import AnalysisRunner
    from vidlens.cli.core import _video_from_ref

    platform = open_platform(data_dir, config)
    names = [n.strip() for n in analyzers.split(",") if n.strip()] if analyzers else None
    runner = AnalysisRunner(platform, analyzers=names)
    several = len(videos) > 1
    docs: list[dict[str, Any]] = []
    failed = 0
    unreadable: list[tuple[str, VidLensError]] = []
    with progress(show=not json_out) as bar:
        todo: list[Video] = []
        for ref in videos:
            try:
                video = _video_from_ref(platform, ref)
                if all(v.id != video.id for v in todo):  # the same content twice is analysed once
                    todo.append(video)
            except VidLensError as exc:
                if not several:
                    raise
                unreadable.append((ref, exc))  # one bad file in a batch: say so, go on with the others
                log.print(f"skipped {ref}: {exc.message}", highlight=False, markup=False)

        stop = threading.Event()  # Ctrl-C: videos in flight stop within 50 frames and store nothing

        def run(video: Video) -> AnalysisOutcome:
            overall = bar.add_task(Path(video.uri).name, total=1.0)
            per = {a.name: bar.add_task(f"  {a.name}", total=1.0) for a in runner.analyzers}
            try:
                return runner.run(video, progress=lambda f: bar.update(overall, completed=f), force=force,
                                  analyzer_progress=lambda n, f: bar.update(per[n], completed=f),
                                  cancelled=stop.is_set)
            finally:
                for t in (overall, *per.values()):
                    bar.remove_task(t)

        # videos at once share the cores; results are reported in the order given
        pool = ThreadPoolExecutor(platform.settings.videos_at_once, thread_name_prefix="vidlens-video")
        try:
            for outcome in pool.map(run, todo):
                name = Path(outcome.video.uri).name
                doc = outcome.document
                assert doc is not None  # stored when the analysis ended
                errors = doc["errors"]
                failed += bool(errors)
                docs.append(doc)
                _exports(platform, doc, html_out, vtt, srt, several, name)
                if not json_out:
                    echo(f"analysed {name}: {len(doc.get('shots', []))} shots, "
                         f"{len(doc.get('people', []))} people, {len(doc.get('objects', []))} object tracks, "
                         f"{len(doc.get('texts', []))} texts, {len(doc.get('transcript', []))} speech segments"
                         + (f" ({len(errors)} analyzer(s) failed: {', '.join(errors)})" if errors else ""))
        except BaseException:
            stop.set()
            raise
        finally:
            pool.shutdown(cancel_futures=True)
    if json_out:
        print_json(docs[0] if not several else
                   {"documents": docs, "skipped": [{"video": r, "error": e.code, "message": e.message} for r, e in unreadable]})
    if unreadable:
        raise typer.Exit(code=unreadable[0][1].exit_code)
    if failed:
        raise typer.Exit(code=12)


def reindex(
    videos: list[str] = typer.Argument(None, help="Library video ids or files (default: every video)."),
    projections: list[str] = typer.Option(None, "--projection", "-p",
                                          help="Rebuild only this projection from its stored records: "
                                               "documents, or camera events for event_moments (repeatable); "
                                               "default: documents and every projection."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Build the stored analysis documents and their projections (shots, search, people, tracks ...) again
    from the stored analyzer results, and (unless videos are named) the projections of other stored records,
    such as the search moments of camera events. Nothing is decoded or analysed again."""
    platform = open_platform(data_dir, config)
    ids = [platform.catalog.get_video(v).id for v in videos] if videos else None
    store = platform.service("documents")
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

    with progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), show=not json_out) as bar:
        task = bar.add_task("reindex", total=None)
        counts = store.reindex(ids, projections or None,
                               progress=lambda done, total, vid: bar.update(task, completed=done, total=total,
                                                                            description=f"reindex {vid[:12]}"))
    if json_out:
        print_json({**counts.to_dict(), "projections": projections or store.projection_names()})
    else:
        records = "".join(f", {n} {kind} record(s) re-projected" for kind, n in counts.records.items())
        echo(f"{counts.documents} document(s) rebuilt, {counts.projected} re-projected, "
             f"{counts.skipped} skipped (never analysed" + (", or no stored document" if projections else "")
             + f"){records}; projections: " + ", ".join(projections or store.projection_names()))


def _target(base: Path, several: bool, name: str, suffix: str) -> Path:
    return base / (Path(name).stem + suffix) if several or base.is_dir() else base


def _exports(platform: Any, doc: dict[str, Any], html_out: Path | None, vtt: Path | None, srt: Path | None,
             several: bool, name: str) -> None:
    if html_out is not None:
        from vidlens.report.analysis import write_analysis_report

        write_analysis_report(doc, _target(html_out, several, name, ".html"), blobs=platform.blobs)
    if vtt is not None or srt is not None:
        from vidlens.analyze.subtitles import to_srt, to_webvtt

        segments = doc.get("transcript", [])
        if vtt is not None:
            _target(vtt, several, name, ".vtt").write_text(to_webvtt(segments), encoding="utf-8")
        if srt is not None:
            _target(srt, several, name, ".srt").write_text(to_srt(segments), encoding="utf-8")
