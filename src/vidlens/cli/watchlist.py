"""``vidlens watchlist``: the face watch-list (deep-synthesis "blacklist"): add, remove, list, scan, library."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, echo, open_platform, print_json

if TYPE_CHECKING:
    from vidlens.govern.watchlist import WatchList, WatchMatch

watchlist_app = typer.Typer(help="The face watch-list: faces flagged wherever they appear (uploads, library, "
                                 "live cameras); every change is kept in the audit log.", no_args_is_help=True)


@contextmanager
def _watchlist(data_dir: Path | None, config: Path | None) -> Iterator[WatchList]:
    platform = open_platform(data_dir, config)
    try:
        yield platform.service("watchlist")
    finally:
        platform.close()


def _who(command: str) -> dict[str, str]:
    """The audit entry's author: the OS user, through the CLI."""
    return {"actor": getpass.getuser(), "via": "cli", "method": "CLI", "path": f"watchlist {command}"}


def _line(m: WatchMatch) -> str:
    return f"  {m.start:7.2f}-{m.end:7.2f} s  {m.entry.name} ({m.entry.id[:8]}, score {m.score:.2f})"


@watchlist_app.command("add")
def add(file: Path = typer.Argument(..., help="An image or a video of the one person's face."),
        name: str = typer.Option(..., "--name", help="Who the face is, as you know them."),
        reason: str = typer.Option(..., "--reason", help="Why the face is listed; kept in the audit log."),
        json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
        config: Path | None = ConfigOption) -> None:
    """Put a face on the watch-list (refused, saying why, when FILE holds no usable face)."""
    with _watchlist(data_dir, config) as wl:
        entry = wl.add(file, name=name, reason=reason, **_who("add"))
    print_json(entry.to_dict()) if json_out else echo(f"listed {entry.name} ({entry.id}): {entry.faces} face "
                                                      f"embedding(s), audit entry {entry.audit_seq}")


@watchlist_app.command("remove")
def remove(entry_id: str = typer.Argument(..., help="The entry's id (or a unique prefix of 6+ characters)."),
           reason: str = typer.Option(..., "--reason", help="Why it is taken off; kept in the audit log."),
           json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
           config: Path | None = ConfigOption) -> None:
    """Take a face off the watch-list (the audit log keeps when it was listed and why)."""
    with _watchlist(data_dir, config) as wl:
        entry = wl.remove(entry_id, reason=reason, **_who("remove"))
    print_json({"removed": entry.to_dict()}) if json_out else echo(f"removed {entry.name} ({entry.id})")


@watchlist_app.command("list")
def list_entries(json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                 config: Path | None = ConfigOption) -> None:
    """The listed faces."""
    with _watchlist(data_dir, config) as wl:
        entries = wl.list()
    if json_out:
        print_json({"entries": [e.to_dict() for e in entries]})
        return
    for e in entries:
        echo(f"{e.id}  {e.name}: {e.reason} ({e.faces} embedding(s) from {e.source_name})")


@watchlist_app.command("scan")
def scan(media: Path = typer.Argument(..., help="A video or image to search for listed faces."),
         json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
         config: Path | None = ConfigOption) -> None:
    """Where listed faces are seen in MEDIA."""
    with _watchlist(data_dir, config) as wl:
        found = wl.scan(media)
    if json_out:
        print_json({"matches": [m.to_dict() for m in found]})
        return
    if not found:
        echo(f"no listed face in {media.name}")
    for m in found:
        echo(_line(m))


@watchlist_app.command("library")
def library(video_id: str | None = typer.Option(None, "--video", help="Only this video of the library."),
            json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
            config: Path | None = ConfigOption) -> None:
    """Listed faces in every analysed video (uploads once analysed), from the stored faces: no decoding."""
    with _watchlist(data_dir, config) as wl:
        found = wl.library(video_id)
    if json_out:
        print_json({"videos": [{"video_id": v, "matches": [m.to_dict() for m in ms]} for v, ms in found.items()]})
        return
    if not found:
        echo("no listed face in the analysed library")
    for vid, ms in found.items():
        for m in ms:
            echo(f"video {vid[:12]}{_line(m)}")


def register(app: typer.Typer) -> None:
    app.add_typer(watchlist_app, name="watchlist")
