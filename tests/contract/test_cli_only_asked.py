"""Only the command group a command line names is built into click commands; everything else keeps the tree."""

from __future__ import annotations

import pytest
import typer

from vidlens.cli.app import build_app, inner_main, only_asked


def _top(argv: list[str]) -> set[str]:
    return set(typer.main.get_command(only_asked(build_app(), argv)).commands)  # type: ignore[attr-defined]


def test_a_named_group_or_command_is_built_alone() -> None:
    everything = _top([])
    assert {"humans", "ingest", "label", "serve"} <= everything
    assert _top(["humans", "speak", "--help"]) == {"humans"}
    assert _top(["--debug", "ingest", "x.mp4"]) == {"ingest"}


@pytest.mark.parametrize("argv", [["--help"], ["--help", "humans"], ["no-such-command"], ["--version"]])
def test_help_versions_and_unknown_names_keep_every_command(argv: list[str]) -> None:
    assert _top(argv) == _top([])


def test_a_pruned_command_line_still_runs_and_the_next_one_sees_every_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert inner_main(["humans", "speak", "--help"]) == 0
    assert "--portrait" in capsys.readouterr().out
    assert inner_main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err
    assert len(_top([])) >= 20
