"""``vidlens label|watermark|triage|audit``: AI-generated content labels (GB 45438-2025)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from vidlens.cli.common import DataDirOption, JsonOption, print_json
from vidlens.errors import NotFoundError, UsageError

label_app = typer.Typer(help="Read, write, verify and burn AI-generated content labels (GB 45438-2025).",
                        no_args_is_help=True)
watermark_app = typer.Typer(help="Invisible video watermark: embed and detect a 64-bit payload.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log: API writes, account changes, labelling and triage "
                        "decisions.", no_args_is_help=True)


def _data_dir(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return data_dir
    from vidlens.settings import load_settings

    return load_settings().data_dir


def _audit(data_dir: Path | None, action: str, subject: Path | str, detail: dict[str, Any]) -> None:
    """Record a labelling decision in the data directory's audit log (actor: the OS user)."""
    import getpass

    from vidlens.cli.common import open_platform
    from vidlens.govern import audit

    platform = open_platform(data_dir)
    try:
        audit.append(platform.store, action, str(subject), detail, actor=getpass.getuser(), via="cli")
    finally:
        platform.close()


def _show(obj: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print_json(obj)
    else:
        for line in lines:
            typer.echo(line)


@label_app.command("write")
def label_write(
    src: Path = typer.Argument(..., help="Input file (video, audio or image)."),
    dst: Path = typer.Argument(..., help="Output file (may equal the input: replaced atomically)."),
    label: str = typer.Option(..., "--label", help="1 = AI-generated, 2 = possibly, 3 = suspected."),
    producer: str = typer.Option(..., "--producer", help="The producer's name in any script (e.g. VidLens) or its "
                                                       "TC260 provider code (e.g. 001191110102MAD55U9H0F10002)."),
    produce_id: str = typer.Option(..., "--produce-id", help="The producer's unique id for this content."),
    propagator: str = typer.Option(None, "--propagator", help="Propagator name or code (default: the producer's)."),
    propagate_id: str = typer.Option(None, "--propagate-id", help="Propagation id (default: the produce id)."),
    sign: bool = typer.Option(True, "--sign/--no-sign", help="Put an Ed25519 signature in ReservedCode1."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Write the implicit AIGC label into the file's metadata without re-encoding."""
    from vidlens.govern.label import new_label
    from vidlens.govern.service import label_file

    new = new_label(label, producer, produce_id, propagator=propagator, propagate_id=propagate_id)
    report = label_file(src, dst, new, data_dir=_data_dir(data_dir) if sign else None, sign=sign)
    _audit(data_dir, "label.write", dst, {"source": str(src), "label": report.label.to_dict() if report.label else None})
    _show(report.to_dict(), as_json, [f"wrote label {report.label.Label if report.label else '?'} "
                                      f"({report.format}) to {dst}"])


@label_app.command("read")
def label_read(file: Path = typer.Argument(..., help="File to inspect."), as_json: bool = JsonOption,
               data_dir: Path | None = DataDirOption) -> None:  # taken by every command; unused here
    """Print the seven label fields and every problem found."""
    from vidlens.govern.implicit import read_label

    report = read_label(file)
    d = report.to_dict()
    lines = [f"{k}: {d[k]}" for k in ("Label", "ContentProducer", "ProduceID", "ReservedCode1",
                                      "ContentPropagator", "PropagateID", "ReservedCode2")]
    lines += [f"problem [{p['code']}]: {p['message']}" for p in d["problems"]]
    _show(d, as_json, lines)


@label_app.command("verify")
def label_verify(file: Path = typer.Argument(...), data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Check ReservedCode1/2 signatures against the file's content; exit 1 unless valid."""
    from vidlens.govern.service import verify_file

    out = verify_file(file, _data_dir(data_dir))
    lines = [f"{c['role']}: {c['status']} (key {c['key_id']})" for c in out["checks"]]
    lines.append("verified" if out["verified"] else "NOT verified")
    _show(out, as_json, lines)
    if not out["verified"]:
        raise typer.Exit(1)


@label_app.command("c2pa")
def label_c2pa(file: Path = typer.Argument(..., help="File to inspect."), as_json: bool = JsonOption,
               data_dir: Path | None = DataDirOption) -> None:  # taken by every command; unused here
    """Read the C2PA manifest store: digitalSourceType values and AI-generation assertions."""
    from vidlens.govern.provenance import read_c2pa

    out = read_c2pa(file)
    lines = [f"C2PA manifest: {'found' if out['found'] else 'none'}"]
    lines += [f"digitalSourceType: {t}" for t in out["digital_source_types"]]
    if out["found"]:
        lines.append(f"AI-generated per C2PA: {'yes' if out['ai'] else 'no'}")
        lines += [f"validation failure: {code}" for code in out["validation_failures"]]
    if out["problem"]:
        lines.append(f"problem: {out['problem']}")
    _show(out, as_json, lines)


@label_app.command("explicit")
def label_explicit(file: Path = typer.Argument(..., help="Video to inspect."),
                   seconds: float = typer.Option(3.0, "--seconds", help="How much of the opening to read."),
                   as_json: bool = JsonOption,
                   data_dir: Path | None = DataDirOption) -> None:  # taken by every command; unused here
    """Find a visible AI-generated label in the opening frames with OCR and check its duration and height."""
    from vidlens.govern.explicit import default_ocr, detect_explicit_label

    if not file.is_file():
        raise NotFoundError(f"no such file: {file}")
    report = detect_explicit_label(file, default_ocr(), window_s=seconds)
    lines = [f"explicit label: {repr(report.text) + ' found' if report.found else 'not found'}"]
    if report.found:
        lines.append(f"seen {report.first_t:.2f}-{report.last_t:.2f} s, text height {report.height_ratio:.1%} "
                     f"of the short side: {'compliant' if report.compliant else 'NOT compliant'}")
    lines += [f"problem: {p}" for p in report.problems if report.found]
    _show(report.to_dict(), as_json, lines)


@label_app.command("burn")
def label_burn(
    src: Path = typer.Argument(..., help="Input video."),
    dst: Path = typer.Argument(..., help="Output video (H.264; audio and tags copied)."),
    text: str = typer.Option(None, "--text", help="Label text (default by --lang)."),
    lang: str = typer.Option("zh", "--lang", help="zh: 「AI生成」, en: 'AI-generated'."),
    seconds: float = typer.Option(3.0, "--seconds", help="How long each label shows (at least 2)."),
    position: str = typer.Option("top-left", "--position", help="top-left, top-right, top-center or bottom-left."),
    end: bool = typer.Option(False, "--end", help="Also label the last seconds."),
    middle: bool = typer.Option(False, "--middle", help="Also label the middle."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Burn a visible AI-generated label into the opening frames (ink height >= 5 % of the short side)."""
    from vidlens.govern.service import burn_file

    out = burn_file(src, dst, data_dir=_data_dir(data_dir), text=text, lang=lang, seconds=seconds,
                    position=position, end=end, middle=middle)
    _audit(data_dir, "label.burn", dst, {"source": str(src), "text": out["text"], "windows": out["windows"],
                                         "ink_ratio": out["ink_ratio"]})
    _show(out, as_json, [f"burned '{out['text']}' (ink {out['ink_ratio']:.1%} of the short side) "
                         f"for {out['windows']} -> {dst}"])


@watermark_app.command("embed")
def watermark_embed(
    src: Path = typer.Argument(..., help="Input video."),
    dst: Path = typer.Argument(..., help="Output video (H.264; audio copied)."),
    payload: str = typer.Option(..., "--payload", help="64-bit payload as 16 hex digits."),
    crf: int = typer.Option(17, "--crf", help="x264 quality of the re-encode."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Re-encode the video with the invisible watermark in every frame (the implicit label is carried over)."""
    from vidlens.govern.service import watermark_file
    from vidlens.govern.watermark import parse_payload

    bits = parse_payload(payload)
    info = watermark_file(src, dst, bits, data_dir=_data_dir(data_dir), crf=crf)
    _audit(data_dir, "watermark.embed", dst, {"source": str(src), "payload": payload.lower()})
    _show({"path": str(dst), "payload": payload.lower(), **info}, as_json,
          [f"embedded {payload.lower()} into {info['frames']} frames -> {dst}"])


@watermark_app.command("detect")
def watermark_detect(
    file: Path = typer.Argument(..., help="Video to examine."),
    seconds: float = typer.Option(30.0, "--seconds", help="How much of the start to read."),
    imwatermark: bool = typer.Option(True, "--imwatermark/--no-imwatermark",
                                     help="Also look for the public imwatermark dwtDct marks."),
    as_json: bool = JsonOption,
    data_dir: Path | None = DataDirOption,  # taken by every command; unused here
) -> None:
    """Look for the VidLens 64-bit watermark (and imwatermark's); the payload found is 16 hex digits, or null."""
    from vidlens.govern.service import detect_watermarks

    if not file.is_file():
        raise NotFoundError(f"no such file: {file}")
    out = detect_watermarks(file, max_seconds=seconds, imwatermark=imwatermark)
    lines = [f"watermark: {'found ' + out['payload'] if out['found'] else 'not found'} (sync z={out['z']})"]
    if "imwatermark" in out:
        lines.append(f"imwatermark dwtDct: {', '.join(out['imwatermark'].get('marks') or []) or 'none'}")
    _show(out, as_json, lines)


def triage_command(
    video: Path = typer.Argument(..., help="Uploaded file to classify."),
    declared_ai: bool = typer.Option(False, "--declared-ai", help="The uploader declared the content AI-generated."),
    traces: bool = typer.Option(True, "--traces/--no-traces",
                                help="Look for C2PA, watermarks and a visible label when there is no label."),
    ocr: bool = typer.Option(True, "--ocr/--no-ocr", help="Look for a visible AI label with OCR (needs rapidocr)."),
    cues: bool = typer.Option(False, "--cues", help="Also measure face-swap and synthetic-speech cues (docs/humans.md); "
                                                    "a flagged cue is evidence."),
    write: Path = typer.Option(None, "--write", help="Write the propagation elements into this output file."),
    propagator: str = typer.Option(None, "--propagator", help="This platform's name or TC260 code (default: settings)."),
    propagate_id: str = typer.Option(None, "--propagate-id", help="This platform's id for the content."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Classify an upload as confirmed / possibly / suspected / none (Art. 6) with its evidence."""
    import uuid

    from vidlens.govern.service import propagate_file
    from vidlens.govern.triage import triage
    from vidlens.settings import load_settings

    if not video.is_file():
        raise NotFoundError(f"no such file: {video}")
    engine = None
    if traces and ocr:
        from vidlens.govern.explicit import default_ocr

        engine = default_ocr()
    measure = None
    if cues:
        from vidlens.cli.common import open_platform
        from vidlens.humans.synthesis import SynthesisCues

        humans = open_platform(data_dir).service("humans")
        measure = SynthesisCues(humans.embedders, humans.settings.deepfake_model)
    result = triage(video, declared_ai=declared_ai, traces=traces, ocr=engine, cues=measure)
    if write is not None:
        if result["label"] is None:
            raise UsageError("verdict is 'none': there is nothing to write (no --write for unlabelled content)")
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        code = propagator or settings.govern.propagator_code
        if not code:
            raise UsageError("--write needs --propagator or govern.propagator_code in the settings")
        pid = propagate_id or uuid.uuid4().hex[:20]
        report = propagate_file(video, write, label=result["label"], propagator=code, propagate_id=pid,
                                data_dir=settings.data_dir)
        result["written"] = {"path": str(write), "label": report.label.to_dict() if report.label else None}
    _audit(data_dir, "triage", video, result)
    lines = [f"verdict: {result['verdict']}"] + [f"evidence: {e['kind']}" for e in result["evidence"]]
    _show(result, as_json, lines)


@audit_app.command("list")
def audit_list(limit: int = typer.Option(20, "--limit"), action: str = typer.Option(None, "--action"),
               data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Show the newest audit-log entries."""
    from vidlens.cli.common import open_platform
    from vidlens.govern import audit

    platform = open_platform(data_dir)
    try:
        with platform.store.read() as conn:
            rows = audit.entries(conn, limit=limit, action=action)
    finally:
        platform.close()
    _show({"entries": rows}, as_json, [f"{r['seq']:>6} {_iso(r['at'])} {r['action']:16} {r['actor'] or '-':12} "
                                       f"{r['subject'] or ''}" for r in rows])


def _iso(at: float) -> str:
    """A stored Unix time as ISO 8601 in UTC, to the second: 2025-09-01T08:30:00Z."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@audit_app.command("verify")
def audit_verify(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Recompute the audit log's hash chain; exit 1 if any entry was edited, removed or reordered (the first
    broken link is named)."""
    from vidlens.cli.common import open_platform
    from vidlens.govern import audit

    platform = open_platform(data_dir)
    try:
        report = audit.verify(platform.store)
    finally:
        platform.close()
    _show(report.to_dict(), as_json, [f"{report.checked} entries, chain {'intact' if report.ok else 'BROKEN'}",
                                      *report.problems])
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("prune")
def audit_prune(data_dir: Path = DataDirOption, as_json: bool = JsonOption) -> None:
    """Drop entries older than govern.audit_retention_days (at least 183); the prune is logged."""
    from vidlens.cli.common import open_platform
    from vidlens.govern import audit

    platform = open_platform(data_dir)
    try:
        dropped = audit.prune(platform.store, platform.settings.govern.audit_retention_days)
    finally:
        platform.close()
    _show({"dropped": dropped}, as_json, [f"dropped {dropped} entries"])


def register(app: typer.Typer) -> None:
    app.add_typer(label_app, name="label")
    app.add_typer(watermark_app, name="watermark")
    app.add_typer(audit_app, name="audit")
    app.command("triage")(triage_command)
    from vidlens.cli import watchlist

    watchlist.register(app)

