"""Signed labelling and verification of files: what the CLI and triage call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidlens.errors import UsageError
from vidlens.govern import integrity
from vidlens.govern.implicit import LabelReport, codec_for, read_label, write_label
from vidlens.govern.label import AigcLabel, is_provider_code


def label_file(src: Path, dst: Path, label: AigcLabel, *, data_dir: Path | None, sign: bool = True) -> LabelReport:
    """Write ``label`` (signed as producer when ``sign``) into ``dst``."""
    if sign:
        if data_dir is None:
            raise UsageError("signing needs a data directory for the key (or pass --no-sign)")
        key = integrity.load_or_create_key(data_dir)
        label = integrity.sign(label, codec_for(src).content_hash(src), key, "producer")
    return write_label(src, dst, label)


def propagate_file(src: Path, dst: Path, *, label: str, propagator: str, propagate_id: str,
                   data_dir: Path, sign: bool = True) -> LabelReport:
    """Write the propagation elements (Art. 6) over whatever producer fields the file has."""
    if not is_provider_code(propagator):
        raise UsageError(f"propagator {propagator!r} is not a 27-character TC260 provider code")
    current = read_label(src).label or AigcLabel()
    new = current.replace(Label=label, ContentPropagator=propagator, PropagateID=propagate_id, ReservedCode2="")
    if sign:
        key = integrity.load_or_create_key(data_dir)
        new = integrity.sign(new, codec_for(src).content_hash(src), key, "propagator")
    return write_label(src, dst, new)


def verify_file(path: Path, data_dir: Path) -> dict[str, Any]:
    """The label report plus the status of both signatures against the file's content."""
    report = read_label(path)
    out: dict[str, Any] = report.to_dict()
    if report.label is None:
        out.update(verified=False, checks=[])
        return out
    content_hash = codec_for(path).content_hash(path)
    keys = integrity.trusted_keys(data_dir)
    checks = [integrity.check(report.label, content_hash, keys, role) for role in ("producer", "propagator")]
    signed = [c for c in checks if c.status != "absent"]
    out.update(content_hash=content_hash, checks=[c.to_dict() for c in checks],
               verified=bool(signed) and all(c.status == "valid" for c in signed))
    return out
