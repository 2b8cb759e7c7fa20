"""Every shell example in README.md and docs/*.md runs as written, so a documented command cannot rot.

Each ```bash (sh, shell, console) block runs as one ``bash -euo pipefail`` script from a fresh
folder that holds the repository's ``samples/`` and ``.venv`` (as the repository root does), with
``vidlens`` on PATH and its own data directory. A block that cannot run here (a server, a live
camera, the whole test suite) carries ``<!-- docs-test: skip (why) -->`` on the line before it:
visible in the markdown, reported as skipped, and counted against ``MAX_SKIPPED``. Skipped or not,
every ``vidlens`` command line in a block must name real commands and options.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
SKIP = re.compile(r"<!-- docs-test: skip \((.+)\) -->")
MAX_SKIPPED = 6  # each one explained in the markdown; raising this is a change a reviewer sees


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def _blocks() -> list[Block]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            skip = SKIP.fullmatch(before.strip())
            out.append(Block(doc, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2),
                             skip.group(1) if skip else None))
    return out


BLOCKS = _blocks()
SHELL_BLOCKS = [b for b in BLOCKS if b.lang in SHELL]


def test_the_docs_have_shell_examples_and_few_skips() -> None:
    skipped = [b.name for b in SHELL_BLOCKS if b.skip]
    assert len(SHELL_BLOCKS) - len(skipped) >= 3
    assert len(skipped) <= MAX_SKIPPED, skipped
    assert all(b.lang in SHELL for b in BLOCKS if b.skip), "a skip note belongs before a shell block"


def test_every_block_names_its_language() -> None:
    """```text for diagrams, ```bash for commands (which are then run): no command hides in an untyped block."""
    assert [b.name for b in BLOCKS if not b.lang] == []


def _commands(code: str) -> list[list[str]]:
    """The argument lists of every ``vidlens`` call in a block (continuation lines joined, comments cut)."""
    calls = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        for i, w in enumerate(words):
            if w == "vidlens" or w.endswith("$(vidlens"):
                args = []
                for a in words[i + 1:]:
                    if a in ("|", ">", "<", "&&", ";", ")") or a.startswith((">", "|")):
                        break
                    args.append(a)
                calls.append(args)
    return calls


def _leaf(args: list[str]) -> tuple[Any, list[str]]:
    from vidlens.cli.app import build_app

    cmd: Any = typer.main.get_command(build_app())
    rest = list(args)
    while hasattr(cmd, "commands") and rest and rest[0] in cmd.commands:
        cmd = cmd.commands[rest.pop(0)]
    return cmd, rest


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.name)
def test_documented_commands_and_options_exist(block: Block) -> None:
    for args in _commands(block.code):
        cmd, rest = _leaf(args)
        assert not hasattr(cmd, "commands"), f"{block.name}: `vidlens {' '.join(args)}` names no command"
        known = {o for p in cmd.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))}
        unknown = [a.split("=")[0] for a in rest if a.startswith("-") and a.split("=")[0] not in known]
        assert not unknown, f"{block.name}: `vidlens {' '.join(args)}`: no option {unknown}"


def _workspace(tmp_path: Path) -> Path:
    """A folder that looks like the repository root to the examples: samples/ and .venv."""
    ws = tmp_path / "repo"
    ws.mkdir()
    (ws / "samples").symlink_to(REPO / "samples")
    (ws / ".venv").symlink_to(Path(sys.prefix))
    return ws


def _env(ws: Path, with_vidlens: bool) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != bindir]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDLENS_") or k == "VIDLENS_FFMPEG"}
    return {**env, "PATH": os.pathsep.join([bindir, *path] if with_vidlens else path), "HOME": str(ws),
            "VIDLENS_DATA_DIR": str(ws / "vidlens-data"), "COLUMNS": "200", "NO_COLOR": "1"}


def test_activating_the_venv_puts_vidlens_on_path(tmp_path: Path) -> None:
    if not (Path(sys.prefix) / "bin" / "activate").is_file():
        pytest.fail(f"tests must run from the virtual environment `make test` creates (not {sys.prefix})")
    ws = _workspace(tmp_path)
    found = subprocess.run(["bash", "-c", ". .venv/bin/activate && command -v vidlens"], cwd=ws,
                           env=_env(ws, with_vidlens=False), capture_output=True, text=True)
    assert found.returncode == 0 and found.stdout.strip().endswith("/bin/vidlens"), found


def test_make_demo_ends_by_saying_how_to_put_vidlens_on_path() -> None:
    dry = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert ". .venv/bin/activate" in dry.stdout.rsplit("vidlens demo", 1)[-1]


@pytest.mark.slow
@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.name)
def test_documented_examples_run(tmp_path: Path, block: Block) -> None:
    if block.skip:
        pytest.skip(f"{block.name}: {block.skip} (noted in the markdown)")
    ws = _workspace(tmp_path)
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=ws, env=_env(ws, with_vidlens=True),
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, f"{block.name} failed ({ran.returncode}):\n{ran.stderr[-3000:]}\n{ran.stdout[-1000:]}"
