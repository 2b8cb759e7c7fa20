"""Where pictures and sound come from: a file, a time range of a file, a live URL, or bytes in memory.

Every reader opens its input through a ``Source``, so a camera URL feeds the same decode
(``vidlens.media.decode``) as a file on disk. Files keep the checks ``open_container`` makes
(missing, empty, foreign, damaged: one clear error naming the file). Live sources get open and
read timeouts and fail with ``SourceError``; reconnecting is the caller's decision, not made here.
In-memory bytes (a packaged segment behind its init segment) are read like a file without one.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import av

from vidlens.errors import CorruptMediaError, SourceError, UsageError
from vidlens.media.probe import check_file, open_container

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "srt", "http", "https"})
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Source:
    """A file (optionally only ``start``..``end`` seconds of it), a live stream URL, or bytes in memory.

    ``start``/``end`` are seconds on the stream's own clock (what ``FrameSample.t`` reports).
    ``timeout_s`` bounds every read from a live source, and opening it unless ``open_timeout_s`` is
    given (a listener waits that long for its publisher). ``listen`` accepts a push (rtmp, srt, rtsp,
    http) instead of connecting; ``options`` are extra demuxer/protocol options. ``data`` holds an
    in-memory file, which ``uri`` only names.
    """

    uri: str
    live: bool = False
    start: float | None = None
    end: float | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    options: dict[str, str] = field(default_factory=dict)
    listen: bool = False
    open_timeout_s: float | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """How errors and logs name it: the file name, or the URL without credentials and query."""
        if self.data is not None:
            return self.uri
        if not self.live:
            return Path(self.uri).name
        u = urlsplit(self.uri)
        host = u.hostname or ""
        netloc = f"{host}:{u.port}" if u.port else host
        return urlunsplit((u.scheme, netloc, u.path, "", ""))

    def open(self) -> av.container.InputContainer:
        """The opened container; a live source silent for its timeout raises ``SourceError``."""
        if self.data is not None:
            return _open_bytes(self.data, self.uri)
        if not self.live:
            return open_container(self.uri)
        open_s = self.open_timeout_s or self.timeout_s
        began = time.monotonic()
        try:
            return av.open(self.uri, options=self._live_options(), timeout=(open_s, self.timeout_s),
                           metadata_errors="replace")
        except (av.error.FFmpegError, OSError) as exc:
            waited = time.monotonic() - began
            reason = " ".join(str(getattr(exc, "strerror", None) or exc).split())[:200]
            if waited >= min(open_s, self.timeout_s) - 0.5:  # FFmpeg reports a silent peer in many ways
                message = f"{self.name}: no answer within {waited:.0f} s ({reason})"
            else:
                message = f"{self.name}: cannot open the live source: {reason}"
            raise SourceError(message, details={"source": self.name, "waited_s": round(waited, 1)}) from None

    def _live_options(self) -> dict[str, str]:
        us = str(int(self.timeout_s * 1_000_000))
        opts = {"rw_timeout": us}
        scheme = urlsplit(self.uri).scheme
        if scheme in ("rtsp", "rtsps"):
            # UDP loses packets silently on busy networks; TCP fails loudly. ``timeout``: RTSP's own socket reads
            opts.update(rtsp_transport="tcp", timeout=us)
        elif scheme in ("http", "https"):
            opts["reconnect"] = "0"  # libavformat's own reconnect would hide a dead source from the caller
        if self.listen:
            opts.update(_LISTEN.get(scheme, {"listen": "1"}))
        return {**opts, **self.options}


_LISTEN = {"srt": {"mode": "listener"}, "rtsp": {"rtsp_flags": "listen"}, "rtsps": {"rtsp_flags": "listen"}}


def _open_bytes(data: bytes, name: str) -> av.container.InputContainer:
    if not data:
        raise CorruptMediaError(f"{name}: expected media, got 0 bytes")
    try:
        return av.open(io.BytesIO(data), metadata_errors="replace")
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"{name}: damaged, truncated or not media: {exc.strerror or exc}") from None


def open_source(path_or_url: str | os.PathLike[str], *, start: float | None = None, end: float | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S, options: dict[str, str] | None = None,
                listen: bool = False, open_timeout_s: float | None = None) -> Source:
    """A ``Source`` for a file path or a live URL (rtsp, rtmp, srt, http(s)); files are checked now."""
    text = os.fspath(path_or_url)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if start is not None and (start < 0 or start != start):
        raise UsageError(f"range start must be >= 0 seconds, got {start}")
    if end is not None and (end != end or end <= (start or 0.0)):
        raise UsageError(f"range end must be after its start ({start or 0.0} s), got {end}")
    if timeout_s <= 0 or (open_timeout_s is not None and open_timeout_s <= 0):
        raise UsageError(f"timeouts must be > 0, got {timeout_s} and {open_timeout_s}")
    if scheme in LIVE_SCHEMES:
        if start is not None or end is not None:
            raise UsageError("a live source has no seek range: stop its decode instead")
        return Source(text, live=True, timeout_s=timeout_s, options=dict(options or {}), listen=listen,
                      open_timeout_s=open_timeout_s)
    if listen:
        raise UsageError("only a live URL can listen for a publisher")
    if scheme and scheme != "file":
        known = ", ".join(sorted(LIVE_SCHEMES))
        raise UsageError(f"unsupported source scheme '{scheme}://' (files, or {known})")
    path = os.path.abspath(urlsplit(text).path if scheme == "file" else text)
    check_file(path)
    return Source(path, start=start, end=end, timeout_s=timeout_s, options=dict(options or {}))


def open_bytes(data: bytes, name: str) -> Source:
    """A ``Source`` over an in-memory file (a packaged segment behind its init segment); ``name`` names it in errors."""
    return Source(name, data=bytes(data))
