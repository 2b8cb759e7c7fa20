"""Helpers shared by every CLI module: options, JSON output, the Platform."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from vidlens.platform import Platform


@dataclass
class _State:
    debug: bool = False


state = _State()
console = Console(stderr=True)

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


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
