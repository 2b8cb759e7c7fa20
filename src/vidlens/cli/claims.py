"""``vidlens claims``: policies per work or digital human, claims from matches, disputes and their answers."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, echo, open_platform, print_json

if TYPE_CHECKING:
    from vidlens.platform import Platform

claims_app = typer.Typer(help="Claims like Content ID: a policy per work or digital human (block, monetise, "
                              "track, allowed uploaders), claims from matches, disputes with deadlines.",
                         no_args_is_help=True)
KIND_HELP = "work or human"


def register(app: typer.Typer) -> None:
    app.add_typer(claims_app, name="claims")


@contextmanager
def _platform(data_dir: Path | None, config: Path | None) -> Iterator[Platform]:
    platform = open_platform(data_dir, config)
    try:
        yield platform
    finally:
        platform.close()


def _who(command: str) -> dict[str, str]:
    """The audit entry's author: the OS user, through the CLI."""
    return {"actor": getpass.getuser(), "via": "cli", "method": "CLI", "path": f"claims {command}"}


def _line(c: dict[str, Any]) -> str:
    deadline = {"active": f"dispute by {c['dispute_by']}", "disputed": f"owner answers by {c['respond_by']}"}
    return (f"{c['claim_id']}  {c['status']:8} {c['action']:8} {c['subject_kind']} {c['subject_name']} "
            f"(owner {c['owner']}) in {c['media_name']} by {c['uploader']}; "
            f"{deadline.get(c['status'], c['resolution'] or '')}")


def _show(claim: dict[str, Any], json_out: bool) -> None:
    print_json(claim) if json_out else echo(_line(claim))


@claims_app.command("policy")
def policy(kind: str = typer.Argument(..., help=KIND_HELP),
           subject_id: str = typer.Argument(..., help="The work's or human's id (or a unique prefix)."),
           action: str | None = typer.Option(None, "--action", help="Set it: block, monetise or track."),
           allow: list[str] = typer.Option([], "--allow", help="An uploader never claimed (repeatable; with --action)."),
           json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
           config: Path | None = ConfigOption) -> None:
    """Show a subject's policy, or set it with --action (kept in the audit log)."""
    from vidlens.claims.scan import subject
    from vidlens.errors import UsageError
    from vidlens.protect.registry import Registry

    with _platform(data_dir, config) as p:
        book = p.service("claims")
        subj = subject(kind, subject_id, Registry(p), p.service("humans"))
        if action is None:
            if allow:
                raise UsageError("--allow sets the policy: give --action too")
            found = book.policy(subj)
        else:
            found = book.set_policy(subj, action, allow, **_who("policy"))
    if json_out:
        print_json(found.to_dict())
    else:
        allowed = ", ".join(found.allow_uploaders) or "nobody"
        echo(f"{kind} {subj.name} ({subj.id}): {found.action}; allowed uploaders: {allowed}"
             + ("" if found.set_at else " (default)"))


@claims_app.command("scan")
def scan(media: Path = typer.Argument(..., help="The uploaded video, image or audio file."),
         uploader: str = typer.Option(..., "--uploader", help="Who uploaded it (the party who may dispute)."),
         video_id: str | None = typer.Option(None, "--video", help="The library video it is, if any."),
         use: str | None = typer.Option(None, "--use", help="Its use, checked against digital humans' consent."),
         territory: str | None = typer.Option(None, "--territory", help="Where it is seen (ISO 3166-1 alpha-2)."),
         json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
         config: Path | None = ConfigOption) -> None:
    """Match MEDIA against registered works and digital humans, and claim it for each one found."""
    from vidlens.claims.scan import claim_media
    from vidlens.humans.scan import Scanner
    from vidlens.protect.matcher import Matcher
    from vidlens.protect.registry import Registry

    with _platform(data_dir, config) as p:
        found = claim_media(p.service("claims"), Matcher(Registry(p)), Scanner(p.service("humans")), media,
                            uploader=uploader, video_id=video_id, use=use, territory=territory, **_who("scan"))
    if json_out:
        print_json({"claims": found})
        return
    if not found:
        echo(f"no claim: {media.name} matches no registered work or digital human (or the uploader is allowed)")
    for c in found:
        echo(_line(c))


@claims_app.command("list")
def list_claims(status: str | None = typer.Option(None, "--status", help="active, disputed, upheld or released."),
                uploader: str | None = typer.Option(None, "--uploader", help="Only this uploader's."),
                json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                config: Path | None = ConfigOption) -> None:
    """Claims, newest first (disputes past their deadline are resolved first)."""
    with _platform(data_dir, config) as p:
        found = p.service("claims").list(status=status, uploader=uploader)
    if json_out:
        print_json({"claims": found})
        return
    for c in found:
        echo(_line(c))


@claims_app.command("show")
def show(claim_id: str, json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
         config: Path | None = ConfigOption) -> None:
    """One claim (an id prefix of 6+ characters is enough)."""
    with _platform(data_dir, config) as p:
        _show(p.service("claims").get(claim_id), json_out)


def _step(name: str, doc: str) -> None:
    def command(claim_id: str = typer.Argument(..., help="The claim's id (or a unique prefix)."),
                reason: str = typer.Option(..., "--reason", help="Why; kept in the audit log."),
                json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                config: Path | None = ConfigOption) -> None:
        with _platform(data_dir, config) as p:
            _show(getattr(p.service("claims"), name)(claim_id, reason, **_who(name)), json_out)

    command.__doc__ = doc
    claims_app.command(name)(command)


_step("dispute", "The uploader contests an active claim, before its dispute deadline.")
_step("uphold", "The owner keeps a disputed claim, before the answer deadline.")
_step("release", "The owner lets the media go: an active or disputed claim ends.")


@claims_app.command("expire")
def expire(json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
           config: Path | None = ConfigOption) -> None:
    """Release every disputed claim its owner did not answer in time (every command does this first)."""
    with _platform(data_dir, config) as p:
        released = p.service("claims").expire()
    print_json({"released": released}) if json_out else echo(f"released {len(released)} expired claim(s)")
