"""Digital-human commands: register, scan, live, list, show, revoke, remove, verify, certificates (``speak``
and ``trace`` come from the presenters capability, ``cli/presenters.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vidlens.cli.common import (ConfigOption, DataDirOption, JsonOption, echo, open_platform, out, print_json,
                                print_pretty_json)

if TYPE_CHECKING:
    from vidlens.humans.registry import Human, HumanRegistry

humans_app = typer.Typer(help="Digital humans: register a person's likeness and voice with their consent, "
                              "find them in media.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(humans_app, name="humans")


def _registry(data_dir: Path | None, config: Path | None) -> HumanRegistry:
    return open_platform(data_dir, config).service("humans")  # type: ignore[no-any-return]


def _summary(h: Human) -> str:
    consent = "no consent record" if h.consent is None else (
        f"consent by {h.consent.grantor} for {', '.join(h.consent.allowed_uses)} in "
        f"{', '.join(h.consent.territories)} until {h.consent.expires.date().isoformat()}")
    return (f"[bold]{h.name}[/bold] ({h.id}, owner {h.owner}): {h.faces} face and {h.voices} voice sample(s), "
            f"{consent}; {h.status}, ledger entry {h.ledger_seq}")


@humans_app.command("register")
def register_human(
    name: str = typer.Argument(..., help="The person's name."),
    face: list[Path] = typer.Option([], "--face", help="An image or a video of the person's face (repeatable)."),
    voice: list[Path] = typer.Option([], "--voice", help="An audio or video file of the person speaking (repeatable)."),
    consent_file: Path | None = typer.Option(None, "--consent", help="Consent record (JSON: grantor, allowed_uses, "
                                                                      "territories, expires); see docs/humans.md."),
    owner: str | None = typer.Option(None, "--owner", help="Rights holder. Default: the consent's grantor, else NAME."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Register a digital human: embed the samples, append to the ledger, sign the certificate."""
    from vidlens.humans import consent as consents

    consent = consents.load(consent_file) if consent_file is not None else None
    owner = owner or (consent.grantor if consent is not None else name)
    human = _registry(data_dir, config).register(name, owner=owner, faces=face, voices=voice, consent=consent)
    if json_out:
        print_json(human.to_dict())
    else:
        out.print("registered " + _summary(human), highlight=False)


@humans_app.command("scan")
def scan(
    media: Path = typer.Argument(..., help="A video, image or audio file to search for registered humans."),
    use: str | None = typer.Option(None, "--use", help="What the media will be used for (checked against consent)."),
    territory: str | None = typer.Option(None, "--territory",
                                         help="Where it will be seen (ISO 3166-1 alpha-2; checked against consent)."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Find where registered humans are seen or heard in MEDIA, and whether their consent covers it."""
    from vidlens.humans.scan import Scanner

    found = Scanner(_registry(data_dir, config)).scan(media, use=use, territory=territory)
    if json_out:
        print_json({"matches": [m.to_dict() for m in found]})
        return
    if not found:
        out.print(f"no registered human in {media.name}", highlight=False)
        return
    for m in found:
        verdict = "authorised" if m.authorised else "[red]NOT authorised[/red]"
        out.print(f"  {m.start:7.2f}–{m.end:7.2f} s  {m.kind:5}  [bold]{m.human.name}[/bold] "
                      f"({m.human.id[:8]}, score {m.score:.2f}) {verdict}", highlight=False)


@humans_app.command("live")
def live(
    url: str = typer.Argument(..., help="The stream: rtmp://, rtsp://, srt:// ... (with --listen, the address a "
                                        "publisher pushes to, e.g. rtmp://0.0.0.0:1935/live/key)."),
    listen: bool = typer.Option(False, "--listen", help="Wait for a publisher to push to URL instead of pulling it."),
    alerts: Path | None = typer.Option(None, "--alerts", help="A Watch YAML file whose mqtt: and webhooks: receive "
                                                              "the alerts (default: the [watch] section of the "
                                                              "config); see docs/watch.md."),
    name: str = typer.Option("live", "--name", help="The stream's name in stored events and alert topics."),
    open_timeout: float = typer.Option(60.0, "--open-timeout", min=1.0,
                                       help="Seconds to wait for the stream (or its publisher) to start."),
    rtsp_transport: str = typer.Option("tcp", "--rtsp-transport",
                                       help="How RTP packets of an rtsp:// stream travel: tcp or udp."),
    json_out: bool = typer.Option(False, "--json", help="Print each match as one JSON object per line."),
    data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Watch a live stream for registered works (picture and sound) and digital humans (face and voice), alert
    each through Watch's MQTT and webhook outbox, print each match; a stream that fails or ends is connected
    again after 1, 2, 4 ... 30 s (a log line each time); runs until SIGINT/SIGTERM."""
    import logging

    from vidlens.cli.live_service import LiveService
    from vidlens.errors import UsageError

    if rtsp_transport not in ("tcp", "udp"):
        raise UsageError(f"--rtsp-transport must be one of tcp, udp, got {rtsp_transport!r}")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    service = LiveService(open_platform(data_dir, config), alerts_file=alerts, stream_name=name)
    try:
        for match in service.run(url, listen=listen, open_timeout_s=open_timeout, rtsp_transport=rtsp_transport):
            if json_out:
                print_json(match)
            else:
                by = f"{match['kind']} {match['name']!r} ({match['ref'][:8]}) by {match['by']}"
                echo(f"{match['stream_t']:8.2f} s  {by}, score {match['score']:.2f}, alerted "
                     f"{match['latency_s']:.1f} s after it arrived")
    finally:
        service.close()


@humans_app.command("library")
def library(
    video_id: str | None = typer.Option(None, "--video", help="Only this video of the library."),
    use: str | None = typer.Option(None, "--use", help="What the videos are used for (checked against consent)."),
    territory: str | None = typer.Option(None, "--territory", help="Where they are seen (ISO 3166-1 alpha-2)."),
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption,
) -> None:
    """Find registered humans in every analysed video of the library (from the stored faces, no decoding)."""
    from vidlens.humans.library import library_matches, to_json

    found = library_matches(_registry(data_dir, config), use=use, territory=territory, video_id=video_id)
    if json_out:
        print_json(to_json(found))
        return
    if not found:
        out.print("no registered human in the analysed library")
    for vid, matches in found.items():
        for m in matches:
            verdict = "authorised" if m.authorised else "[red]NOT authorised[/red]"
            out.print(f"  video {vid[:12]} {m.start:7.2f}–{m.end:7.2f} s  [bold]{m.human.name}[/bold] "
                          f"(score {m.score:.2f}) {verdict}", highlight=False)


@humans_app.command("list")
def list_humans(all_: bool = typer.Option(False, "--all", help="Include removed humans."),
                json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
                config: Path | None = ConfigOption) -> None:
    """List registered digital humans."""
    found = _registry(data_dir, config).list(include_removed=all_)
    if json_out:
        print_json({"humans": [h.to_dict() for h in found]})
        return
    for h in found:
        out.print(_summary(h), highlight=False)


@humans_app.command("show")
def show(human_id: str, json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
         config: Path | None = ConfigOption) -> None:
    """Show one digital human (an id prefix of 6+ characters is enough)."""
    doc = _registry(data_dir, config).get(human_id).to_dict()
    print_json(doc) if json_out else print_pretty_json(doc)


@humans_app.command("revoke")
def revoke(human_id: str, reason: str = typer.Option(..., "--reason", help="Why, kept in the ledger."),
           json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
           config: Path | None = ConfigOption) -> None:
    """Withdraw the consent: the human is still recognised, and no use is authorised any more."""
    h = _registry(data_dir, config).revoke(human_id, reason=reason)
    print_json(h.to_dict()) if json_out else out.print(f"consent of {h.name} ({h.id}) revoked", highlight=False)


@humans_app.command("remove")
def remove(human_id: str, reason: str = typer.Option(..., "--reason", help="Why, kept in the ledger."),
           json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
           config: Path | None = ConfigOption) -> None:
    """Stop protecting a digital human (appended to the ledger; nothing is erased)."""
    h = _registry(data_dir, config).remove(human_id, reason=reason)
    print_json(h.to_dict()) if json_out else out.print(f"{h.name} ({h.id}) removed", highlight=False)


@humans_app.command("verify")
def verify(json_out: bool = JsonOption, data_dir: Path | None = DataDirOption,
           config: Path | None = ConfigOption) -> None:
    """Recompute the humans ledger and check every human, sample and certificate against it."""
    from vidlens.identity import CertificateError

    problems = _registry(data_dir, config).verify()
    if json_out:
        print_json({"ok": not problems, "problems": problems})
    else:
        for p in problems:
            out.print(f"[red]problem[/red] {p}", highlight=False)
        if not problems:
            out.print("humans ledger intact: every human matches its chained entries")
    if problems:
        raise CertificateError(f"humans ledger check failed: {len(problems)} problem(s)")


@humans_app.command("export")
def export(human_id: str,
           output: Path | None = typer.Option(None, "-o", "--output", help="Write the certificate to this file."),
           data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption) -> None:
    """Export a human's latest signed certificate (JSON), to check offline with `humans check`."""
    text = json.dumps(_registry(data_dir, config).get(human_id).certificate, indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        out.print(f"certificate written to {output}", highlight=False)


@humans_app.command("check")
def check(file: Path = typer.Argument(..., help="A digital-human certificate (JSON)."),
          public_key: Path | None = typer.Option(None, "--public-key",
                                                 help="The registry's public key (PEM or base64; `vidlens "
                                                      "certificate public-key`). Without it only integrity is "
                                                      "checked, against the key in the certificate."),
          json_out: bool = JsonOption,
          data_dir: Path | None = DataDirOption) -> None:  # taken by every command; unused: no database is read
    """Verify a digital-human certificate offline: no database, only the file and the public key."""
    from vidlens.errors import UsageError
    from vidlens.humans.certificate import FORMAT, USE_FORMAT
    from vidlens.humans.certificate import verify as verify_cert
    from vidlens.identity import CertificateError, load_public_key

    try:
        cert = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CertificateError(f"{file.name}: not a readable JSON certificate ({exc})") from None
    try:
        key = load_public_key(public_key.read_bytes()) if public_key is not None else None
    except OSError as exc:
        raise UsageError(f"cannot read public key {public_key}: {exc}") from None
    body = verify_cert(cert, key, formats=(FORMAT, USE_FORMAT))
    if json_out:
        print_json({"valid": True, "trusted_key": key is not None, "key_id": cert.get("key_id"), "payload": body})
        return
    trust = "the registry key" if key is not None else "the embedded key only (pass --public-key)"
    if body["format"] == USE_FORMAT:
        who = body["human"]["name"] if body.get("human") else "an unregistered portrait"
        out.print(f"valid: {body['action']} of {who}, ledger entry {body['ledger_seq']}, watermark "
                  f"{body.get('watermark')}, script sha256 {str(body.get('script_sha256'))[:16]}…; checked with "
                  f"{trust}", highlight=False)
    else:
        out.print(f"valid: {body['name']} ({body['human_id']}), owner {body['owner']}, status {body['status']} "
                      f"at ledger entry {body['ledger_seq']}; checked with {trust}", highlight=False)
