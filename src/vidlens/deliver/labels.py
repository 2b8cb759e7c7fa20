"""Carry the implicit AIGC label (MP4 ``udta/meta`` key ``AIGC``) into every output.

FFmpeg writes global tags as ``mdta`` keys with ``-movflags use_metadata_tags``;
its HLS muxer passes them to fMP4 init segments, but its DASH muxer drops them,
so DASH init segments get the tag box spliced in after the run. MPEG-TS has no
place for global tags: the result says so instead of pretending.
"""

from __future__ import annotations

import struct
from pathlib import Path

from vidlens.errors import CorruptMediaError
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import open_container

LABEL_KEY = "AIGC"
MP4_FAMILY = {"mp4", "mov", "ipod", "ismv", "fmp4"}
TAGGED_CONTAINERS = MP4_FAMILY | {"matroska", "webm"}


def read_label(path: str | Path) -> str | None:
    """The ``AIGC`` global tag of a media file (any case), or None."""
    with open_container(path) as c:
        for key, value in (c.metadata or {}).items():
            if str(key).upper() == LABEL_KEY:
                return str(value)
    return None


def metadata_args(muxer: str, *, faststart: bool = False) -> list[str]:
    """Flags that copy the source's global tags into an output of ``muxer``."""
    args = ["-map_metadata", "0"]
    if muxer in MP4_FAMILY:
        args += ["-movflags", "+use_metadata_tags" + ("+faststart" if faststart else "")]
    return args


def carry_status(muxer: str, label: str | None, written: str | None = None) -> str:
    """How the label fared; ``written`` is what was read back from the output (when it can hold tags)."""
    if label is None:
        return "absent in source"
    if muxer not in TAGGED_CONTAINERS:
        return f"not carried: {muxer} has no container-level tags"
    return "carried" if written == label else "not carried: lost while writing"


def _boxes(data: bytes, start: int, end: int) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of the ISO-BMFF boxes in ``data[start:end]``."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = end - pos
        if size < 8 or pos + size > end:
            raise CorruptMediaError(f"malformed MP4 box '{kind!r}' at byte {pos}")
        out.append((pos, size, kind))
        pos += size
    return out


def _moov_udta(path: Path) -> bytes | None:
    data = path.read_bytes()
    for pos, size, kind in _boxes(data, 0, len(data)):
        if kind == b"moov":
            for cpos, csize, ckind in _boxes(data, pos + 8, pos + size):
                if ckind == b"udta":
                    return data[cpos : cpos + csize]
    return None


def tag_box_from(source: str | Path, scratch: Path) -> bytes:
    """Let FFmpeg write the source's global tags into a one-frame MP4 and return its ``udta`` box."""
    tiny = scratch / "tags.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=16x16:r=1:d=1",
            "-i",
            str(source),
            "-map",
            "0:v",
            "-map_metadata",
            "1",
            "-c:v",
            "png",
            "-movflags",
            "+use_metadata_tags",
            str(tiny),
        ],
        path=str(source),
    )
    try:
        box = _moov_udta(tiny)
    finally:
        tiny.unlink(missing_ok=True)
    if box is None:
        raise CorruptMediaError("FFmpeg wrote no tag box for the label")
    return box


def splice_udta(init_segment: Path, udta: bytes) -> None:
    """Replace (or add) the ``moov/udta`` box of a fragmented-MP4 init segment.

    Init segments hold only ``ftyp`` + ``moov``; media fragments address their data
    relative to their own ``moof``, so resizing ``moov`` moves nothing they point at.
    """
    data = init_segment.read_bytes()
    parts: list[bytes] = []
    for pos, size, kind in _boxes(data, 0, len(data)):
        if kind != b"moov":
            parts.append(data[pos : pos + size])
            continue
        children = [data[c : c + s] for c, s, k in _boxes(data, pos + 8, pos + size) if k != b"udta"]
        body = b"".join(children) + udta
        parts.append(struct.pack(">I4s", 8 + len(body), b"moov") + body)
    tmp = init_segment.with_suffix(init_segment.suffix + ".tmp")
    tmp.write_bytes(b"".join(parts))
    tmp.replace(init_segment)
