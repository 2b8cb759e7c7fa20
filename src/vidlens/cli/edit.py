"""``vidlens edit``: silence removal, highlight reels, reframing, captions and loudness in one render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, echo, print_json, progress
from vidlens.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command()(edit)


def edit(
    source: str = typer.Argument(..., help="Input video (a file, or a library video id)."),
    output: Path = typer.Option(..., "--output", "-o", help="Edited file (.mp4, .mov, .mkv, .m4v)."),
    silence: bool = typer.Option(False, "--silence", help="Remove dead air (audio below the threshold)."),
    threshold: float = typer.Option(0.04, "--threshold", help="Silence: level below this share of the peak."),
    margin: float = typer.Option(0.2, "--margin", help="Silence: seconds kept before and after sound."),
    min_clip: float = typer.Option(0.12, "--min-clip", help="Silence: shorter sounds count as silence (s)."),
    min_cut: float = typer.Option(0.24, "--min-cut", help="Silence: shorter pauses are kept (s)."),
    quiet_speed: float = typer.Option(0.0, "--quiet-speed",
                                      help="Silence: keep quiet parts at this speed (> 1) instead of cutting."),
    highlights: float | None = typer.Option(None, "--highlights", help="A highlight reel of this many seconds."),
    transitions: bool = typer.Option(True, "--transitions/--no-transitions",
                                     help="Highlights: dissolve where the reel joins moments jarringly."),
    reframe: str | None = typer.Option(None, "--reframe", help="Reframe to 9:16, 1:1 or 4:5 following the subject."),
    subtitles: str | None = typer.Option(None, "--subtitles", help="burn (into the picture), vtt or srt (beside "
                                                                   "the output)."),
    loudness: float | None = typer.Option(None, "--loudness", help="EBU R128 target in LUFS (default: the "
                                                                   "[edit] setting, -14)."),
    keep_level: bool = typer.Option(False, "--keep-level", help="Leave the audio level as it is (no R128 gain)."),
    export: list[str] = typer.Option([], "--export", help="Also write the timeline: otio, fcpxml or edl "
                                                          "(repeatable)."),
    dub: str | None = typer.Option(None, "--dub", help="Dub the speech into this language (ISO 639-1; en from any "
                                                       "language, others such as zh through [edit] dub_translator)."),
    dub_voice: Path | None = typer.Option(None, "--dub-voice", help="Your own Piper voice (.onnx) for --dub (else "
                                          "by language: [edit] dub_voices, built-in en and zh)."),
    lip_sync: bool = typer.Option(False, "--lip-sync", help="With --dub: the speaking face's mouth follows the new "
                                                            "speech (needs vidlens[presenter])."),
    face_index: int | None = typer.Option(None, "--face-index", min=0, help="With --lip-sync: move this face "
                                          "(0 = largest) instead of the one whose mouth moves with the speech."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    sign: bool = typer.Option(True, "--sign/--no-sign", help="Sign the AIGC label with this install's key."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Edit a video in one render: cuts, reel, reframe, captions, loudness; label it as AI-edited (GB 45438).

    --json prints every kept and dropped segment with its reason and scores.
    """
    from vidlens.edit.export import FORMATS
    from vidlens.edit.reframe import ASPECTS
    from vidlens.edit.service import EditOptions, edit_file
    from vidlens.edit.silence import SilenceSettings
    from vidlens.settings import load_settings

    if keep_level and loudness is not None:
        raise UsageError("--keep-level and --loudness contradict each other")
    if subtitles not in (None, "burn", "vtt", "srt"):
        raise UsageError(f"--subtitles must be burn, vtt or srt, got {subtitles!r}")
    if reframe is not None and reframe not in ASPECTS:
        raise UsageError(f"--reframe must be one of {', '.join(ASPECTS)}, got {reframe!r}")
    if lip_sync and dub is None:
        raise UsageError("--lip-sync moves the mouth to dubbed speech: use it with --dub")
    if face_index is not None and not lip_sync:
        raise UsageError("--face-index chooses the face to lip sync: use it with --lip-sync")
    if dub is not None and not (2 <= len(dub) <= 3 and dub.isalpha()):
        raise UsageError(f"--dub takes an ISO 639-1 language code such as en, got {dub!r}")
    for fmt in export:
        if fmt not in FORMATS:
            raise UsageError(f"--export must be one of {', '.join(FORMATS)}, got {fmt!r}")
    settings = load_settings(config_file=config, **({"data_dir": data_dir} if data_dir is not None else {}))
    ours = settings.edit  # type: ignore[attr-defined]
    options = EditOptions(
        silence=SilenceSettings(threshold, margin, min_clip, min_cut, quiet_speed) if silence else None,
        highlights_s=highlights, transitions=transitions, reframe=reframe,
        subtitles=subtitles,  # type: ignore[arg-type]
        loudness_lufs=None if keep_level else loudness if loudness is not None else ours.loudness_lufs,
        export=tuple(export),
        producer=ours.producer, sign=sign, crf=ours.crf, preset=ours.preset,
        dub=dub.lower() if dub else None, dub_voice=str(dub_voice) if dub_voice else ours.dub_voice,
        dub_translator=ours.dub_translator, dub_max_tempo=ours.dub_max_tempo, dub_duck_db=ours.dub_duck_db,
        dub_notice=ours.dub_notice, dub_voices=dict(ours.dub_voices), explicit_label=ours.explicit_label,
        lip_sync=lip_sync, face_index=face_index)
    document, path = _source(source, options, data_dir, config, json_out)
    result = _run(path, output, options, document, Path(settings.data_dir), overwrite, json_out)
    if json_out:
        print_json(result.to_dict())
        return
    d = result.decisions.to_dict()
    echo(f"wrote {result.output}: {d['output_duration_s']} s of {d['duration_s']} s "
         f"({d['kept']} kept, {d['dropped']} dropped; {', '.join(d['operations']) or 'no cuts'})")
    after = result.details.get("loudness_after")
    if after:
        echo(f"loudness {after['integrated']} LUFS (target {result.details['loudness_target']})")
    for side in result.sidecars:
        echo(f"wrote {side}")


def _source(ref: str, options: Any, data_dir: Path | None, config: Path | None,
            quiet: bool) -> tuple[dict[str, Any] | None, Path]:
    """The file to cut and, when the options need it, its analysis document (analysed now if missing)."""
    if not options.needs_document():
        if not Path(ref).is_file():
            raise UsageError(f"'{ref}' is not a file (a library id needs an option that reads the analysis)")
        return None, Path(ref)
    from vidlens.analyze.runner import AnalysisRunner
    from vidlens.cli.common import open_platform
    from vidlens.cli.core import _video_from_ref

    platform = open_platform(data_dir, config)
    try:
        video = _video_from_ref(platform, ref)
        runner = AnalysisRunner(platform, analyzers=options.analyzers())
        with progress(show=not quiet) as bar:
            task = bar.add_task("analysis", total=1.0)
            outcome = runner.run(video, progress=lambda f: bar.update(task, completed=f))
        assert outcome.document is not None
        return outcome.document, Path(video.uri)
    finally:
        platform.close()


def _run(path: Path, output: Path, options: Any, document: dict[str, Any] | None, data_dir: Path,
         overwrite: bool, quiet: bool) -> Any:
    from vidlens.edit.service import edit_file

    with progress(show=not quiet) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=1.0)
            bar.update(tasks[stage], completed=fraction)

        return edit_file(path, output, options, document=document, data_dir=data_dir, overwrite=overwrite,
                         progress=report)
