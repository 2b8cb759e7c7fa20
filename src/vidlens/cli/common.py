"""Helpers shared by every CLI module: options, output, the Platform.

Output follows one rule (docs/architecture.md, "CLI conventions for capabilities"): what a command
was asked for goes to standard output, through ``out``, ``echo``, ``print_table`` or ``print_json``;
progress bars, warnings and errors go to standard error through ``log``. So ``vidlens jobs list |
grep failed`` and ``vidlens ingest DIR > added.txt`` capture the result and nothing else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

    from vidlens.platform import Platform


@dataclass
class _State:
    debug: bool = False


state = _State()
log = Console(stderr=True)  # progress, warnings, notices: never a command's result
out = Console(soft_wrap=True, highlight=False)  # a command's result; soft wrap: piped lines are never broken

DataDirOption = typer.Option(None, "--data-dir", envvar="VIDLENS_DATA_DIR",
                             help="Data directory (database, blobs). Default: settings / ./vidlens-data.")
JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout for machines.")
ConfigOption = typer.Option(None, "--config", envvar="VIDLENS_CONFIG", help="Path of a vidlens.toml file.")


def open_platform(data_dir: Path | None = None, config: Path | None = None, **overrides: Any) -> Platform:
    """Build the Platform from settings (defaults < vidlens.toml < VIDLENS_* env < these flags)."""
    from vidlens.platform import Platform
    from vidlens.settings import load_settings

    flags: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        flags["data_dir"] = data_dir
    return Platform.from_settings(load_settings(config_file=config, **flags))


def progress(*columns: str | ProgressColumn, show: bool = True) -> Progress:
    """Progress bars on stderr, drawn only for a terminal (a log file or pipe gets nothing, not a stray line)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = columns or (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                          TimeElapsedColumn())
    return Progress(*columns, console=log, transient=True, disable=not (show and log.is_terminal))


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def echo(line: str = "") -> None:
    """One line of a command's result on stdout, verbatim (no markup: file names may hold brackets)."""
    typer.echo(line)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    """A table on stdout: drawn for a terminal; for a pipe, plain columns that are never cut short."""
    cells = [[str(c) for c in columns], *([("" if v is None else str(v)) for v in r] for r in rows)]
    if out.is_terminal:
        from rich.table import Table
        from rich.text import Text

        t = Table(title=Text(title) if title else None)
        for c in columns:
            t.add_column(c)
        for r in cells[1:]:
            t.add_row(*(Text(v) for v in r))  # Text: values are never read as markup
        out.print(t)
        return
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for r in cells:
        echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def print_pretty_json(obj: Any) -> None:
    """One JSON object on stdout, indented (and coloured in a terminal) for people."""
    out.print_json(json.dumps(obj, ensure_ascii=False, default=str))
