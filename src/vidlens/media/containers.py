"""A container's name as people know it, from FFmpeg's demuxer name.

FFmpeg names a demuxer by every format it reads (``mov,mp4,m4a,3gp,3g2,mj2``,
``matroska,webm``); the file itself says which one it is: the ISO-BMFF major brand, the
Matroska EBML DocType. ``Video.container`` keeps FFmpeg's name (a stable identifier);
this is only for showing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import av

_BRANDS = {"qt": "QuickTime (MOV)", "M4A": "MPEG-4 audio (M4A)", "M4B": "MPEG-4 audiobook (M4B)",
           "M4V": "MPEG-4 video (M4V)", "mjp2": "Motion JPEG 2000", "mj2s": "Motion JPEG 2000",
           "heic": "HEIF image", "avif": "AVIF image"}
_EXTENSIONS = {".mov": "QuickTime (MOV)", ".m4a": "MPEG-4 audio (M4A)", ".m4v": "MPEG-4 video (M4V)",
               ".3gp": "3GPP", ".3g2": "3GPP2", ".mj2": "Motion JPEG 2000"}
_NAMES = {"mpeg": "MPEG program stream (MPG)", "mpegts": "MPEG transport stream (TS)", "avi": "AVI",
          "gif": "GIF", "flv": "Flash Video (FLV)", "asf": "Windows Media (ASF/WMV)", "wav": "WAVE audio",
          "flac": "FLAC audio", "mp3": "MP3 audio", "ogg": "Ogg", "aac": "AAC audio (ADTS)",
          "mxf": "MXF", "dv": "DV", "h264": "raw H.264", "hevc": "raw H.265", "ivf": "IVF",
          "image2": "image", "png_pipe": "PNG image", "jpeg_pipe": "JPEG image", "webp_pipe": "WebP image"}


def container_name(demuxer: str, tags: Mapping[str, str], path: str | Path | None = None) -> str:
    """``MPEG-4 (MP4)``, ``WebM``, ``QuickTime (MOV)`` ...: what a person calls the file's format."""
    suffix = Path(path).suffix.lower() if path else ""
    if demuxer.startswith("mov,"):
        brand = str(tags.get("major_brand", "")).strip()
        if brand in _BRANDS:
            return _BRANDS[brand]
        if brand.startswith("3g2"):
            return "3GPP2"
        if brand.startswith("3gp"):
            return "3GPP"
        return _EXTENSIONS.get(suffix, "MPEG-4 (MP4)") if not brand else "MPEG-4 (MP4)"
    if demuxer.startswith("matroska"):
        doctype = _ebml_doctype(path) if path else None
        if doctype is None:
            doctype = "webm" if suffix == ".webm" else "matroska"
        return "WebM" if doctype == "webm" else "Matroska (MKV)"
    if demuxer in _NAMES:
        return _NAMES[demuxer]
    try:
        return str(av.ContainerFormat(demuxer.split(",")[0]).long_name) or demuxer
    except (ValueError, av.error.FFmpegError):
        return demuxer


def _ebml_doctype(path: str | Path) -> str | None:
    """The DocType string of a Matroska/WebM file's EBML header, or None when unreadable."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    at = head.find(b"\x42\x82")  # DocType element id
    if at < 0 or at + 3 > len(head):
        return None
    first = head[at + 2]
    length = (first & 0x7F) if first & 0x80 else None  # one-byte size: all DocTypes in practice
    if length is None:
        return None
    return head[at + 3:at + 3 + length].decode("ascii", "replace").rstrip("\x00")
