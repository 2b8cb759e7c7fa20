"""Carry the implicit AIGC label from a source into every delivered output, or refuse to lose it.

The label is read from the source and written into each output by the govern label
codecs, so a transcoded MP4, an fMP4 init segment and ``vidlens label write`` hold one
identical layout (the ``mdta`` key ``AIGC``), and a TS file or segment holds it as ID3
timed metadata. FFmpeg copies every other global tag (``-map_metadata 0``); its own copy
of the AIGC tag is suppressed so that exactly one writer stores the label. The value is
carried byte for byte. Packages also announce it in their manifests: an HLS master
playlist gets ``EXT-X-SESSION-DATA`` pointing at ``aigc.json``, every DASH
AdaptationSet a ``SupplementalProperty``. An output that cannot hold the label is an
error unless the caller asked to drop it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

from vidlens.errors import MediaError, UnsupportedMediaError, UsageError
from vidlens.media.probe import picture_facts

LABEL_KEY = "AIGC"
MP4_FAMILY = {"mp4", "mov", "ipod", "ismv", "fmp4"}
HLS_DATA_ID = "com.vidlens.aigc"
HLS_LABEL_FILE = "aigc.json"
DASH_SCHEME = "urn:vidlens:aigc:2025"
DROP_HINT = "pass --drop-label to deliver it without the label"


def read_label(path: str | Path) -> str | None:
    """The source's label exactly as stored: through the label codecs, else FFmpeg's global ``AIGC`` tag."""
    from vidlens.govern.implicit import stored_value

    try:
        return stored_value(path)
    except UnsupportedMediaError:
        for key, value in picture_facts(path).tags.items():
            if key.upper() == LABEL_KEY:
                return value
    return None


def metadata_args(muxer: str, *, faststart: bool = False) -> list[str]:
    """Flags that copy the source's global tags, except the label, into an output of ``muxer``."""
    args = ["-map_metadata", "0", "-metadata", f"{LABEL_KEY}="]
    if muxer in MP4_FAMILY:
        args += ["-movflags", "+use_metadata_tags" + ("+faststart" if faststart else "")]
    return args


def carry(paths: list[Path], label: str | None, *, drop: bool = False) -> str:
    """Write ``label`` into each of ``paths`` (in place) and say how it fared.

    Raises ``UsageError`` when a file cannot hold it and ``drop`` is not set: a label is
    never lost silently. ``MediaError`` when it was written but did not read back.
    """
    from vidlens.govern.implicit import write_value

    if label is None:
        return "absent in source"
    if drop:
        return "dropped on request (--drop-label)"
    for path in paths:
        try:
            write_value(path, path, label)
        except (UnsupportedMediaError, UsageError) as exc:
            raise UsageError(f"the AIGC label cannot be carried into {path.name}: {exc.message}; {DROP_HINT}",
                             details={"path": str(path)}) from exc
    if not paths:
        raise MediaError("no output file to carry the AIGC label into")
    return "carried"


def announce_hls(master: Path, label: str) -> None:
    """Point the master playlist at ``aigc.json`` (the label as JSON) with ``EXT-X-SESSION-DATA``."""
    (master.parent / HLS_LABEL_FILE).write_text(_as_json(label) + "\n", encoding="utf-8")
    lines = master.read_text(encoding="utf-8").splitlines()
    tag = f'#EXT-X-SESSION-DATA:DATA-ID="{HLS_DATA_ID}",URI="{HLS_LABEL_FILE}"'
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("#EXT-X-VERSION")), 1)
    master.write_text("\n".join([*lines[:at], tag, *lines[at:]]) + "\n", encoding="utf-8")


def announce_dash(mpd: Path, label: str) -> None:
    """Add a ``SupplementalProperty`` with the label to every AdaptationSet (first child, as the schema orders)."""
    prop = f"<SupplementalProperty schemeIdUri={quoteattr(DASH_SCHEME)} value={quoteattr(label)}/>"
    text, count = re.subn(r"(<AdaptationSet\b[^>]*[^/]>)", lambda m: m.group(1) + "\n\t\t\t" + prop,
                          mpd.read_text(encoding="utf-8"))
    if not count:
        raise MediaError(f"{mpd.name} has no AdaptationSet to announce the AIGC label in")
    mpd.write_text(text, encoding="utf-8")


def _as_json(label: str) -> str:
    """The label itself when it is JSON (as it should be), else the stored text as a JSON string."""
    try:
        json.loads(label)
        return label
    except ValueError:
        return json.dumps(label, ensure_ascii=False)
