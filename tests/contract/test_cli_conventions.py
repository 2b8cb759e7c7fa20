"""The conventions every command follows (docs/architecture.md, "CLI conventions for capabilities").

The commands are walked from the installed capabilities' CLI modules, so a new capability's commands
are held to the same rules without an edit here:

- every command takes ``--data-dir`` (and ``VIDLENS_DATA_DIR``);
- ``--help`` renders as plain text: no raw docstring markup (````x````, ``:func:``, rich tags);
- a command's result goes to stdout and nothing else does: run on an empty data directory, every
  command that needs no argument either succeeds with an empty stderr (its ``--json`` output parsing
  as one JSON object from stdout alone), or fails with stdout empty and the error on stderr.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from vidlens.cli.app import build_app, inner_main


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group under ``cmd`` with its path of names, the root first."""
    found = [(path, cmd)]
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        found += _walk(sub, (*path, name))
    return found


ALL = _walk(typer.main.get_command(build_app()))
LEAVES = [(p, c) for p, c in ALL if not hasattr(c, "commands")]
# the commands a script runs bare: every parameter optional, and a --json form
QUERIES = [p for p, c in LEAVES if not any(x.required for x in c.params)
           and any("--json" in getattr(x, "opts", ()) for x in c.params)]
MARKUP = re.compile(r"``|:(?:func|class|meth|mod|attr|ref):`|\[/?(?:bold|red|green|dim|italic)\]")


def _name(path: tuple[str, ...]) -> str:
    return " ".join(path) or "vidlens"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = inner_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_walk_finds_every_capability() -> None:
    names = {p[0] for p, _ in LEAVES}
    assert {"ingest", "analyze", "transcode", "register", "label", "serve"} <= names
    assert len(LEAVES) >= 50 and len(QUERIES) >= 10


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=_name)
def test_every_command_takes_data_dir(path: tuple[str, ...]) -> None:
    cmd = dict(LEAVES)[path]
    option = next((x for x in cmd.params if "--data-dir" in getattr(x, "opts", ())), None)
    assert option is not None, f"`vidlens {_name(path)}` has no --data-dir (use cli.common.DataDirOption)"
    assert option.envvar == "VIDLENS_DATA_DIR"


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=_name)
def test_help_is_plain_text(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> None:
    code, out, err = _run(capsys, *path, "--help")
    assert code == 0 and err == "" and "Usage:" in out
    assert not MARKUP.search(out), f"raw markup in `vidlens {_name(path)} --help`: {MARKUP.search(out)}"


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
@pytest.mark.parametrize("path", QUERIES, ids=_name)
def test_results_go_to_stdout_and_only_there(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             path: tuple[str, ...], as_json: bool) -> None:
    code, out, err = _run(capsys, *path, *(["--json"] if as_json else []), "--data-dir", str(tmp_path / "data"))
    if code == 0:
        assert err == "", f"`vidlens {_name(path)}` succeeded but wrote to stderr: {err!r}"
        if as_json:
            assert isinstance(json.loads(out), dict)  # one object, from stdout alone
    else:  # e.g. `live stop` with no stream: the error alone, on stderr
        assert out == "", f"`vidlens {_name(path)}` failed ({code}) but wrote to stdout: {out!r}"
        assert err.startswith(("error: ", "Usage: ")), err
