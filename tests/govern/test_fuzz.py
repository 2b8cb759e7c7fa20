"""Every label reader survives a bounded atheris run (``fuzz/run_all.py``), seeded with valid labelled files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vidlens.govern.codecs import codecs

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_fuzz_targets_find_no_crash(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "fuzz" / "run_all.py"), "--seconds", "2",
                           "--artifacts", str(tmp_path)], capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    expected = len(codecs()) + 1  # every codec reader and the label JSON parser
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"{expected} passed, 0 failed", proc.stdout
    # each target really ran: libFuzzer's final "Done N runs" with N > 0
    done = [line for line in lines[:-1] if " ok " in line and "Done " in line]
    assert len(done) == expected and all(int(line.split("Done ")[1].split()[0]) > 0 for line in done), proc.stdout
