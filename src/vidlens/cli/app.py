"""The ``vidlens`` command line.

Each capability names the module of its commands (``Capability.cli``), which exposes
``register(app)``; those modules are imported at start-up and must keep heavy imports
inside their command functions so ``vidlens --help`` stays fast. A capability whose
commands cannot be imported is reported on stderr (and by ``vidlens plugins list``)
while every other command keeps working; of the commands, only the group or command that the
command line names is turned into a click command (``only_asked``). Errors from the ``VidLensError`` tree become
one line on stderr and the class's exit code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from vidlens import __version__
from vidlens.capability import CapabilityError, installed
from vidlens.cli.common import state
from vidlens.errors import VidLensError

if TYPE_CHECKING:
    from typer.models import CommandInfo, TyperInfo


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vidlens {__version__}")
        raise typer.Exit()


def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    state.debug = debug


def build_app() -> typer.Typer:
    """The command tree: the root options plus every installed capability's commands."""
    app = typer.Typer(
        name="vidlens",
        help="VidLens: self-hosted video AI. Understand, find, deliver, protect and govern video on your own "
             "machines.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for cap in installed():
        if not cap.cli:
            continue
        try:
            module = cap.import_part("cli", cap.cli)
        except CapabilityError as exc:
            typer.echo(f"warning: {exc.message}; its commands are unavailable (see `vidlens plugins list`)",
                       err=True)
            continue
        module.register(app)
    return app


def _name(info: TyperInfo | CommandInfo) -> str | None:
    """The name a registered group or command gets on the command line (Typer's rule: the name given, else the
    function's name with dashes)."""
    name = getattr(info, "name", None)
    if isinstance(name, str):
        return name
    callback = getattr(info, "callback", None)
    return callback.__name__.lower().replace("_", "-") if callback is not None else None


def only_asked(app: typer.Typer, argv: Sequence[str]) -> typer.Typer:
    """``app`` with only the top-level group or command that ``argv`` runs, when it names one: Typer turns every
    registered command into a click command before it runs any, and ``vidlens humans speak`` needs one group of
    the hundred or so commands. Anything else (help, a version, a name that is not a command) keeps them all."""
    asked = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if asked is None or any(a != "--debug" for a in argv[:asked]):
        return app
    groups = [g for g in app.registered_groups if _name(g) == argv[asked]]
    commands = [c for c in app.registered_commands if _name(c) == argv[asked]]
    if groups or commands:
        app.registered_groups, app.registered_commands = groups, commands
    return app


def inner_main(argv: Sequence[str]) -> int:
    """Run the CLI in-process and return its exit code (used by tests)."""
    try:
        rv = only_asked(build_app(), argv)(args=list(argv), prog_name="vidlens", standalone_mode=False)
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
    except typer.TyperException as exc:  # usage errors: bad option, missing argument, ...
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        return int(getattr(exc, "exit_code", 2))
    except Exception as exc:
        if state.debug:
            raise
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        return 1
    return rv if isinstance(rv, int) else 0


def main() -> None:
    sys.exit(inner_main(sys.argv[1:]))
