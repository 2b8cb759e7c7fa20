"""Protect commands: register, match, registry, certificate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, console, open_platform, print_json
from vidlens.timebase import format_timecode

if TYPE_CHECKING:
    from vidlens.protect.registry import Registry

registry_app = typer.Typer(help="Registered works: list, show, remove, verify the ledger.", no_args_is_help=True)
certificate_app = typer.Typer(help="Registration certificates: show, verify offline, export the public key.",
                              no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("register")(register_work)
    app.command("match")(match)
    app.add_typer(registry_app, name="registry")
    app.add_typer(certificate_app, name="certificate")


def _registry(data_dir: Path | None, config: Path | None) -> Registry:
    from vidlens.protect.registry import Registry

    return Registry(open_platform(data_dir, config))


def register_work(
    video: Path = typer.Argument(..., help="The video to protect."),
    owner: str = typer.Option(..., "--owner", help="Rights holder."),
    title: str = typer.Option(..., "--title", help="Title of the work."),
    policy: str = typer.Option("track", "--policy", help="What to do with copies: block, monetise or track."),
    licence: str | None = typer.Option(None, "--licence", help="Licence terms, free text or an SPDX id."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Register a work: fingerprint it, append it to the ledger and sign its certificate."""
    work = _registry(data_dir, config).register(video, owner=owner, title=title, policy=policy, licence=licence)
    if json_out:
        print_json({"work_id": work.id})
    else:
        console.print(f"registered [bold]{work.title}[/bold] as work {work.id} (policy {work.policy}, "
                      f"ledger entry {work.ledger_seq})", highlight=False)


def match(
    video: Path = typer.Argument(..., help="The upload to check."),
    html_out: Path | None = typer.Option(None, "--html", help="Also write an HTML report with the copied "
                                                               "stretches on the upload's timeline."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Find registered works copied in VIDEO, with timecodes; matches are stored."""
    from vidlens.protect.matcher import Matcher

    registry = _registry(data_dir, config)
    found = Matcher(registry).match_file(video)
    if html_out is not None:
        from vidlens.media.probe import probe
        from vidlens.protect.matcher import report_document
        from vidlens.report.analysis import write_analysis_report

        write_analysis_report(report_document(probe(video, require_video=False), found), html_out,
                              blobs=registry.blobs)
    if json_out:
        print_json({"matches": [m.to_dict() for m in found]})
        return
    if not found:
        console.print(f"no match: {video.name} copies no registered work")
        return
    console.print(f"{len(found)} match(es) in {video.name}:", highlight=False)
    for m in found:
        s = m.segment
        how = ", ".join(k if v is True else f"{k} {v}" for k, v in s.hints.items() if v and k != "audio")
        if s.placement == "ambiguous":
            how += (", " if how else "") + f"place in the work uncertain (confidence {s.confidence:.2f})"
        console.print(f"  upload {_tc(s.query_start_s)}–{_tc(s.query_end_s)} copies [bold]{m.work.title}[/bold] "
                      f"{_tc(s.reference_start_s)}–{_tc(s.reference_end_s)} (work {m.work.id[:8]}, score "
                      f"{s.score:.2f}, {m.kind}{', ' + how if how else ''}) → {m.decision}", highlight=False)


def _tc(seconds: float) -> str:
    """Timecode without the hours when there are none, so a match fits one terminal line."""
    tc = format_timecode(seconds)
    return tc.removeprefix("00:")


@registry_app.command("list")
def registry_list(
    all_: bool = typer.Option(False, "--all", help="Include removed works."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """List registered works."""
    from rich.table import Table

    works = _registry(data_dir, config).list(include_removed=all_)
    if json_out:
        print_json({"works": [w.to_dict() for w in works]})
        return
    t = Table()
    for col in ("work", "title", "owner", "policy", "duration", "registered", "status"):
        t.add_column(col)
    for w in works:
        d = w.to_dict()
        t.add_row(w.id[:12], w.title, w.owner, w.policy, f"{w.duration_s:.1f}s", d["registered_at"], w.status)
    console.print(t)


@registry_app.command("show")
def registry_show(work_id: str, json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                  config: Path | None = ConfigOption) -> None:
    """Show one work."""
    doc = _registry(data_dir, config).get(work_id).to_dict()
    print_json(doc) if json_out else console.print_json(json.dumps(doc))


@registry_app.command("remove")
def registry_remove(work_id: str, reason: str = typer.Option("", "--reason", help="Why, kept in the ledger."),
                    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                    config: Path | None = ConfigOption) -> None:
    """Stop protecting a work (appended to the ledger; nothing is erased)."""
    work = _registry(data_dir, config).remove(work_id, reason=reason)
    print_json({"work_id": work.id, "status": work.status}) if json_out else \
        console.print(f"work {work.id} removed")


@registry_app.command("verify")
def registry_verify(json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                    config: Path | None = ConfigOption) -> None:
    """Recompute the ledger's hash chain and check every work against it."""
    from vidlens.protect.certificate import CertificateError

    problems = _registry(data_dir, config).verify()
    if json_out:
        print_json({"ok": not problems, "problems": problems})
    else:
        for p in problems:
            console.print(f"[red]problem[/red] {p}", highlight=False)
        if not problems:
            console.print("ledger intact: every work matches its chained entry")
    if problems:
        raise CertificateError(f"registry ledger check failed: {len(problems)} problem(s)")


@certificate_app.command("show")
def certificate_show(
    work_id: str,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the certificate to this file."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Print (or save) a work's signed certificate."""
    from vidlens.protect.registry import dumps_certificate

    work = _registry(data_dir, config).get(work_id)
    if output is not None:
        output.write_text(dumps_certificate(work) + "\n")
        if not json_out:
            console.print(f"certificate of work {work.id} written to {output}")
    if json_out:
        print_json(work.certificate)
    elif output is None:
        typer.echo(dumps_certificate(work))


@certificate_app.command("verify")
def certificate_verify(
    file: Path = typer.Argument(..., help="A certificate JSON file."),
    public_key: Path | None = typer.Option(None, "--public-key",
                                           help="The registry's public key (PEM). Without it only integrity "
                                                "is checked, against the key embedded in the certificate."),
    video: Path | None = typer.Option(None, "--video", help="Also check that this file is the certified content."),
    json_out: bool = JsonOption,
) -> None:
    """Verify a certificate offline: needs no database, only the file and the public key."""
    from vidlens.errors import UsageError
    from vidlens.hashing import sha256_file
    from vidlens.identity import load_public_key
    from vidlens.protect.certificate import CertificateError, verify

    try:
        cert = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CertificateError(f"{file}: not a readable JSON certificate ({exc})") from None
    if public_key is not None:
        try:
            key = load_public_key(public_key.read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read public key {public_key}: {exc}") from None
    else:
        key = None
    body = verify(cert, key)
    if video is not None and sha256_file(video) != body["content_sha256"]:
        raise CertificateError(f"{video.name} is not the certified content (content sha256 differs)")
    trust = "registry key" if key is not None else "embedded key only (pass --public-key to check the signer)"
    if json_out:
        print_json({"valid": True, "trusted_key": key is not None, "key_id": cert.get("key_id"),
                    "payload": body})
    else:
        console.print(f"valid: work {body['work_id']} '{body['title']}' owned by {body['owner']}, registered "
                      f"{body['registered_at']}; signature checked with the {trust}", highlight=False)


@certificate_app.command("public-key")
def certificate_public_key(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the PEM to this file."),
    data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Export this install's public key (PEM): its identity, which signs certificates and AIGC labels."""
    pem = _registry(data_dir, config).public_key_pem()
    if output is not None:
        output.write_text(pem)
        console.print(f"public key written to {output}")
    else:
        typer.echo(pem, nl=False)
