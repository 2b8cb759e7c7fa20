"""Copy the self-contained browser player (``player.html`` + vendored hls.js) next to a playlist."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

PLAYER_FILES = ("player.html", "hls.min.js", "hls.js.LICENSE")


def install_player(outdir: Path) -> list[str]:
    """Write the player files into ``outdir``; ``player.html`` opens ``master.m3u8`` beside it."""
    static = resources.files("vidlens.deliver") / "static"
    for name in PLAYER_FILES:
        with resources.as_file(static / name) as src:
            shutil.copyfile(src, outdir / name)
    return list(PLAYER_FILES)
