"""Shared by the benchmarks: where the corpus is, what machine this is, and writing figures to docs."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = REPO / "docs" / "benchmarks.md"
CACHE = REPO / "bench" / ".cache"


def media_dir() -> Path:
    d = Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))
    if not (d / "MANIFEST.md").is_file():
        raise SystemExit(f"media corpus not found at {d}; set VIDLENS_MEDIA_DIR")
    return d


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def stamp() -> str:
    return f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}."


def load_note() -> str:
    """The 1-minute load average against the cores, so a reader knows whether wall times waited for a CPU."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    state = "a quiet machine" if load < cores else "under load: wall times include waiting for a CPU"
    return f"Load average {load:.1f} on {cores} cores ({state})."


def write_section(name: str, body: str) -> None:
    """Replace (or append) the ``<!-- bench:NAME:start -->`` section of docs/benchmarks.md."""
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n\nFigures written by `bench/*.py`.\n"
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)
