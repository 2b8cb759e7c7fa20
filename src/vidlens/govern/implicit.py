"""Read and write the implicit (metadata) label of any supported file.

Writing is all-or-nothing: the new file is written to a temporary file in the
destination's directory, read back and checked, then moved over the destination
with ``os.replace``. Anything that can be checked before writing (readable source,
supported format, writable destination) is checked first, so a failed write never
touches the original.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlens.errors import MediaError, NotFoundError, PermissionDeniedError, UnsupportedMediaError, UsageError
from vidlens.govern.codecs import codecs
from vidlens.govern.codecs.base import SNIFF_BYTES, LabelCodec
from vidlens.govern.label import AigcLabel, Problem, parse_label


@dataclass(slots=True)
class LabelReport:
    """What a file says about itself: the label (if one parsed) and every problem found."""

    path: str
    format: str
    label: AigcLabel | None
    problems: list[Problem] = field(default_factory=list)
    count: int = 0
    locations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        fields = self.label.to_dict() if self.label else {k: None for k in AigcLabel.__slots__}
        return {**fields, "problems": [p.to_dict() for p in self.problems], "found": self.label is not None,
                "format": self.format, "count": self.count, "locations": self.locations, "path": self.path}


def codec_for(path: Path) -> LabelCodec:
    """The codec whose ``sniff`` accepts the file's first bytes."""
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}")
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    for codec in codecs():
        if codec.sniff(head):
            return codec
    raise UnsupportedMediaError(f"{path.name}: no implicit-label support for this file type", path=str(path))


def read_label(path: str | Path) -> LabelReport:
    """Parse every AIGC value in ``path``; defects are problems, never exceptions."""
    p = Path(path)
    codec = codec_for(p)
    with open(p, "rb") as f:
        result = codec.read(f, p.stat().st_size)
    problems = list(result.problems)
    label: AigcLabel | None = None
    if len(result.found) > 1:
        problems.append(Problem("multiple_labels", f"{len(result.found)} AIGC labels found; only one is allowed "
                                "(reporting the first)"))
    for found in result.found[:1]:
        parsed = parse_label(found.raw)
        label = parsed.label
        problems.extend(parsed.problems)
    if not result.found:
        problems.append(Problem("no_label", "no AIGC implicit label in the metadata"))
    return LabelReport(str(p), codec.name, label, problems, len(result.found), [f.where for f in result.found])


def _writable(path: Path) -> bool:
    """Writable for this user and not marked read-only: a file or folder without write bits is left alone
    even by a user (such as root) whom the system would let through."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def write_label(src: str | Path, dst: str | Path, label: AigcLabel) -> LabelReport:
    """Write ``label`` as the only implicit label of ``src`` into ``dst`` (which may equal ``src``)."""
    report = write_value(src, dst, label.to_json())
    if report.label != label:
        raise MediaError(f"{Path(src).name}: the label did not read back as written", path=str(src))
    return report


def write_value(src: str | Path, dst: str | Path, value: str) -> LabelReport:
    """Store ``value`` byte for byte as the only implicit label of ``src`` in ``dst`` (which may equal ``src``).

    This is how a label is carried unchanged from one file to another (transcode, package). A new ``dst``
    gets ``src``'s permission bits, an existing one keeps its own. Raises ``UsageError`` when the format
    cannot hold ``value`` (non-ASCII text in a carrier without a declared character set).
    """
    s, d = Path(src), Path(dst)
    codec = codec_for(s)
    if not os.access(s, os.R_OK):
        raise PermissionDeniedError(f"cannot read {s}")
    if not codec.text_utf8 and not value.isascii():
        value = _ascii_json(value, s, codec.name)
    directory = d.resolve().parent
    if not directory.is_dir():
        raise NotFoundError(f"output directory does not exist: {directory}")
    if (d.exists() and not _writable(d)) or not _writable(directory):
        raise PermissionDeniedError(f"cannot write {d}: read-only file or directory")
    mode = (d if d.exists() else s).stat().st_mode & 0o7777
    fd, tmp_name = tempfile.mkstemp(prefix=f".{d.name}.", suffix=".tmp" + d.suffix, dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        codec.write(s, tmp, value)
        with open(tmp, "rb") as f:
            stored = codec.read(f, tmp.stat().st_size).found
        if [found.raw for found in stored] != [value.encode("utf-8")]:
            raise MediaError(f"{s.name}: the label did not read back after writing ({len(stored)} found)",
                             path=str(s))
        os.chmod(tmp, mode)
        os.replace(tmp, d)
    finally:
        tmp.unlink(missing_ok=True)
    return read_label(d)


def _ascii_json(value: str, path: Path, carrier: str) -> str:
    """The same JSON with every non-ASCII character \\u-escaped, for a carrier without a declared character set."""
    try:
        return json.dumps(json.loads(value), ensure_ascii=True, separators=(",", ":"))
    except ValueError:
        raise UsageError(f"{path.name}: {carrier} text has no declared character set, and this label is neither "
                         "ASCII nor JSON that could be escaped to ASCII") from None


def stored_value(path: str | Path) -> str | None:
    """The first stored label value of ``path`` exactly as stored (decoded as UTF-8), or None."""
    p = Path(path)
    codec = codec_for(p)
    with open(p, "rb") as f:
        found = codec.read(f, p.stat().st_size).found
    return found[0].raw.decode("utf-8", errors="replace") if found else None
