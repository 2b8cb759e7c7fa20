"""Presenter commands, added to the ``humans`` group: ``humans speak`` (a digital human that speaks a script)
and ``humans trace`` (which ledger entry a presenter video's watermark resolves to)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, open_platform, out, print_json

if TYPE_CHECKING:
    from vidlens.humans.registry import HumanRegistry


def register(app: typer.Typer) -> None:
    """Add ``speak`` and ``trace`` to the ``humans`` group (the humans capability is loaded first)."""
    group = next(g.typer_instance for g in app.registered_groups if g.name == "humans")
    group.command("speak")(speak)
    group.command("trace")(trace)


def _registry(data_dir: Path | None, config: Path | None) -> HumanRegistry:
    return open_platform(data_dir, config).service("humans")  # type: ignore[no-any-return]


def speak(
    output: Path = typer.Option(..., "-o", "--output", help="The presenter video to write (.mp4)."),
    portrait: Path | None = typer.Option(None, "--portrait", help="A photo of the presenter's face."),
    human: str | None = typer.Option(None, "--human", help="A registered digital human (name or id): the use is "
                                                          "checked against their consent and the portrait "
                                                          "(--portrait) against their registered face."),
    text: str | None = typer.Option(None, "--text", help="What the presenter says."),
    script: Path | None = typer.Option(None, "--script", help="A UTF-8 text file with what the presenter says."),
    lang: str = typer.Option("en", "--lang", help="Language of the script: en or zh."),
    voice: Path | None = typer.Option(None, "--voice", help="A Piper voice (.onnx, its .onnx.json beside it). "
                                                            "Default: the built-in voice of --lang."),
    size: str = typer.Option("720x1280", "--size", help="Output WIDTHxHEIGHT (default 9:16)."),
    subtitles: bool = typer.Option(False, "--subtitles", help="Burn the script in as subtitles."),
    face_index: int | None = typer.Option(None, "--face-index", min=0,
                                          help="Which face to animate when the portrait has several "
                                               "(0 = largest)."),
    use: str = typer.Option("presenter", "--use", help="What the video is for (checked against the consent)."),
    territory: str | None = typer.Option(None, "--territory",
                                         help="Where it will be shown (ISO 3166-1 alpha-2; checked against "
                                              "the consent)."),
    sign: bool = typer.Option(True, "--sign/--no-sign", help="Sign the implicit label with the install's key."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """A presenter video from one portrait and a script: lip-synced speech, labelled 「AI生成」,
    watermarked and recorded in the humans ledger."""
    from vidlens.errors import UsageError
    from vidlens.humans.presenter.service import SpeakRequest, parse_size, read_script
    from vidlens.humans.presenter.service import speak as make

    if (text is None) == (script is None):
        raise UsageError("give the words with --text or --script (one of them)")
    if portrait is None:
        raise UsageError("give the presenter's face with --portrait (with --human too: the registry keeps "
                         "face embeddings, not pictures, and checks the portrait is that human)")
    words = text if text is not None else read_script(script)  # type: ignore[arg-type]
    platform = open_platform(data_dir, config)
    req = SpeakRequest(portrait=portrait, text=words, lang=lang.lower(), voice=voice, size=parse_size(size),
                       subtitles=subtitles, face_index=face_index, human=human, use=use.strip().lower(),
                       territory=territory.upper() if territory else None, sign=sign)
    result = make(req, output, platform.service("humans"), Path(platform.settings.data_dir), overwrite=overwrite)
    if json_out:
        print_json(result)
        return
    who = f"{result['human']['name']} " if result["human"] else ""
    out.print(f"{who}presenter video {result['output']}: {result['duration_s']:.1f} s, {result['frames']} frames, "
              f"watermark {result['watermark']}, ledger entry {result['ledger_seq']} ({result['wall_s']:.1f} s)",
              highlight=False)


def trace(media: Path = typer.Argument(..., help="A video made by `vidlens humans speak` (or a copy of it)."),
          json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption) -> None:
    """Read the invisible watermark and name the ledger entry it resolves to: who, which consent, which script."""
    from vidlens.govern.watermark import detect_video
    from vidlens.media.probe import probe

    probe(media)  # a clear error for a missing, damaged or foreign file
    found = detect_video(media)
    entry = _registry(data_dir, config).find_use("watermark", found.payload) if found.found else None
    doc = {"watermark": found.to_dict(), "entry": None if entry is None else {
        "seq": entry["seq"], "hash": entry["hash"], "human_id": entry["human_id"] or None,
        "action": entry["action"], "created_at": entry["created_at"], **entry["payload"]}}
    if json_out:
        print_json(doc)
        return
    if not found.found:
        out.print(f"no VidLens watermark in {media.name}", highlight=False)
    elif entry is None:
        out.print(f"watermark {found.payload} is not in this install's humans ledger", highlight=False)
    else:
        p = entry["payload"]
        who = p["human"]["name"] if p.get("human") else "an unregistered portrait"
        out.print(f"watermark {found.payload}: ledger entry {entry['seq']}, {who}, script sha256 "
                  f"{p['script_sha256'][:16]}…, produce id {p['produce_id']}", highlight=False)
