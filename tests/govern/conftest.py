from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The shared real-clip corpus (``VIDLENS_MEDIA_DIR``, default ``<repo>/../shared/media``)."""
    path = Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))
    if not (path / "MANIFEST.md").is_file():
        pytest.skip(f"shared media corpus not found at {path} (set VIDLENS_MEDIA_DIR)")
    return path
