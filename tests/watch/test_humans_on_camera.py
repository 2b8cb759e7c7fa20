"""A registered digital human seen by a camera is a ``watchlist`` event (the humans registry's faces)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.watch.conftest import events, vidlens

pytestmark = pytest.mark.slow


def test_registered_human_on_a_camera(shared_media: Path, tmp_path: Path) -> None:
    grid = sorted((shared_media / "av_speech_grid").glob("*.mpg"))
    data = tmp_path / "data"
    vidlens("humans", "register", "Speaker One", "--face", str(grid[0]), data_dir=data)
    cfg = tmp_path / "c.yml"
    # the registered speaker (GRID has one clip per speaker here) and someone else: only the first is named
    cfg.write_text(f"cameras:\n  desk: {{source: {grid[0]}, detect: {{fps: 2}}}}\n"
                   f"  other: {{source: {grid[1]}, detect: {{fps: 2}}}}\n")
    vidlens("watch", "run", str(cfg), "--until-eof", "--fast", data_dir=data)
    found = events(data)
    assert [e["camera"] for e in found if e["type"] == "object" and e["label"] == "person"].count("desk") >= 1
    named = [e for e in found if e["type"] == "watchlist"]
    assert [(e["camera"], e["label"]) for e in named] == [("desk", "Speaker One")]
