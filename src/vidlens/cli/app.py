"""The ``vidlens`` command line.

Each domain keeps its commands in its own module exposing ``register(app)``;
modules listed in ``COMMAND_MODULES`` are imported at start-up and must keep
heavy imports inside their command functions so ``vidlens --help`` stays fast.
Errors from the ``VidLensError`` tree become one line on stderr and the class's
exit code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

from vidlens import __version__
from vidlens.cli.common import state
from vidlens.errors import VidLensError

COMMAND_MODULES = (
    "vidlens.cli.core",
    "vidlens.cli.analyze",
    "vidlens.cli.protect",
    "vidlens.cli.govern",
    "vidlens.cli.deliver",
    "vidlens.cli.serve",
)

app = typer.Typer(
    name="vidlens",
    help="VidLens: self-hosted video AI. Understand, find, deliver, protect and govern video on your own machines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vidlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    state.debug = debug


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that domain is not installed in this build
                continue
            raise
        module.register(app)


_register_all()


def inner_main(argv: Sequence[str]) -> int:
    """Run the CLI in-process and return its exit code (used by tests)."""
    try:
        rv = app(args=list(argv), prog_name="vidlens", standalone_mode=False)
    except VidLensError as exc:
        if state.debug:
            raise
        typer.echo(f"error: {exc.message}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # click usage errors and friends
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if state.debug:
            raise
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        return 1
    return rv if isinstance(rv, int) else 0


def main() -> None:
    sys.exit(inner_main(sys.argv[1:]))
