"""What the browser tests share: the Chromium they drive, its JavaScript errors, and signing in."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("VIDLENS_CHROMIUM", "/usr/bin/chromium"))


def chromium() -> str:
    """The Chromium binary to launch; a browser test fails, saying how to get one, when it is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' or set VIDLENS_CHROMIUM")
    return str(CHROMIUM)


def page_errors(pg: Any) -> list[str]:  # noqa: ANN401 - a playwright Page
    """A list the page's uncaught JavaScript errors are appended to as they happen."""
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def login(pg: Any, password: str, user: str = "admin") -> None:  # noqa: ANN401 - a playwright Page
    """Sign in through the login form, where a fresh browser context is sent from ``/``."""
    pg.goto("/")
    assert "/login" in pg.url
    pg.fill("input[name=username]", user)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_url(re.compile(r"/$"))
