"""Fixtures for the govern tests: the third-party readers labels are checked with."""

from __future__ import annotations

import pytest

from .readers import tool


@pytest.fixture(scope="session")
def exiftool() -> str:
    return tool("exiftool", "libimage-exiftool-perl")


@pytest.fixture(scope="session")
def ffprobe() -> str:
    return tool("ffprobe", "ffmpeg")
