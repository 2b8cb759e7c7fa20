"""Fixtures for the shot-detection tests: the shared media corpus and decoded tiny frames."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """The shared media corpus (``VIDLENS_MEDIA_DIR``, default ``<repo>/../shared/media``); skips if absent."""
    root = Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))
    if not (root / "ground_truth" / "shots.json").is_file():
        pytest.skip(f"shared media corpus not found at {root} (set VIDLENS_MEDIA_DIR)")
    return root


@pytest.fixture(scope="session")
def shots_truth(shared_media: Path) -> dict:
    return json.loads((shared_media / "ground_truth" / "shots.json").read_text())
