"""Copy the self-contained browser player (``player.html`` + vendored hls.js / dash.js) next to a manifest."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

HLS_FILES = ("hls.min.js", "hls.js.LICENSE")
DASH_FILES = ("dash.mediaplayer.min.js", "dash.mediaplayer.min.js.LICENSE.txt", "dash.js.LICENSE")
DEFAULT_SRC = 'const DEFAULT_SRC = "master.m3u8";'


def install_player(outdir: Path, *, hls: bool = True, dash: bool = False) -> list[str]:
    """Write the player files into ``outdir``: only the engines its manifests need.

    ``player.html`` opens ``master.m3u8`` beside it, or ``manifest.mpd`` when the folder has DASH only;
    ``?src=`` picks another manifest.
    """
    static = resources.files("vidlens.deliver") / "static"
    names = [*(HLS_FILES if hls else ()), *(DASH_FILES if dash else ())]
    for name in names:
        with resources.as_file(static / name) as src:
            shutil.copyfile(src, outdir / name)
    page = (static / "player.html").read_text(encoding="utf-8")
    if DEFAULT_SRC not in page:
        raise RuntimeError("player.html no longer declares DEFAULT_SRC")
    if dash and not hls:
        page = page.replace(DEFAULT_SRC, DEFAULT_SRC.replace("master.m3u8", "manifest.mpd"))
    (outdir / "player.html").write_text(page, encoding="utf-8")
    return ["player.html", *names]
