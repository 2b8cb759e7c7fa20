"""Read packaged output back: segments, their first pts, and where the keyframes sit.

Players switch renditions at segment boundaries; that only works when every
rendition starts each segment with a keyframe at the same presentation time.
This module measures that from the bytes on disk, for tests and for ``--verify``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vidlens.deliver.ladder import hls_playlist_entries
from vidlens.media.decode import iter_packets
from vidlens.media.source import open_bytes


@dataclass(frozen=True)
class SegmentInfo:
    uri: str
    duration: float
    first_pts_s: float
    starts_with_keyframe: bool
    keyframes_s: tuple[float, ...]


def master_variants(master: Path) -> list[Path]:
    """Media playlists of the video variants listed in an HLS master playlist."""
    lines = master.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF") and i + 1 < len(lines):
            out.append(master.parent / lines[i + 1].strip())
    return out


def _init_uri(playlist: Path) -> str | None:
    m = re.search(r'#EXT-X-MAP:URI="([^"]+)"', playlist.read_text())
    return m.group(1) if m else None


def video_segments(playlist: Path) -> list[SegmentInfo]:
    """Per segment of a media playlist: first video pts, whether it is a keyframe, all keyframe times."""
    init = _init_uri(playlist)
    head = (playlist.parent / init).read_bytes() if init else b""
    out = []
    for duration, uri in hls_playlist_entries(playlist):
        data = head + (playlist.parent / uri).read_bytes()
        first: tuple[float, bool] | None = None
        keys: list[float] = []
        for pkt in iter_packets(open_bytes(data, uri)):  # the video stream's packets: nothing is decoded
            if pkt.t is None:
                continue
            if first is None:
                first = (pkt.t, pkt.keyframe)
            if pkt.keyframe:
                keys.append(round(pkt.t, 4))
        if first is None:
            first = (float("nan"), False)
        out.append(SegmentInfo(uri, duration, round(first[0], 4), first[1], tuple(keys)))
    return out
