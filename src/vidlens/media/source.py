"""Where pictures and sound come from: a file, a time range of a file, or a live URL.

Every reader opens its input through a ``Source``, so a camera URL feeds the same decode
(``vidlens.media.decode``) as a file on disk. Files keep the checks ``open_container`` makes
(missing, empty, foreign, damaged: one clear error naming the file). Live sources get open and
read timeouts and fail with ``SourceError``; reconnecting is the caller's decision, not made here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import av

from vidlens.errors import SourceError, UsageError
from vidlens.media.probe import check_file, open_container

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "srt", "http", "https"})
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Source:
    """A file (optionally only ``start``..``end`` seconds of it) or a live stream URL.

    ``start``/``end`` are seconds on the stream's own clock (what ``FrameSample.t`` reports).
    ``timeout_s`` bounds opening a live source and every read from it; ``options`` are extra
    demuxer/protocol options (e.g. ``{"listen": "1"}`` to accept a push).
    """

    uri: str
    live: bool = False
    start: float | None = None
    end: float | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    options: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """How errors and logs name it: the file name, or the URL without credentials and query."""
        if not self.live:
            return Path(self.uri).name
        u = urlsplit(self.uri)
        host = u.hostname or ""
        netloc = f"{host}:{u.port}" if u.port else host
        return urlunsplit((u.scheme, netloc, u.path, "", ""))

    def open(self) -> av.container.InputContainer:
        """The opened container; a live source silent for ``timeout_s`` raises ``SourceError``."""
        if not self.live:
            return open_container(self.uri)
        try:
            return av.open(self.uri, options=self._live_options(), timeout=(self.timeout_s, self.timeout_s),
                           metadata_errors="replace")
        except av.error.FFmpegError as exc:
            raise SourceError(f"{self.name}: cannot open the live source: {exc.strerror or exc}",
                              details={"source": self.name}) from None

    def _live_options(self) -> dict[str, str]:
        opts = {"rw_timeout": str(int(self.timeout_s * 1_000_000))}
        if urlsplit(self.uri).scheme in ("rtsp", "rtsps"):
            opts["rtsp_transport"] = "tcp"  # UDP loses packets silently on busy networks; TCP fails loudly
        return {**opts, **self.options}


def open_source(path_or_url: str | os.PathLike[str], *, start: float | None = None, end: float | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S, options: dict[str, str] | None = None) -> Source:
    """A ``Source`` for a file path or a live URL (rtsp, rtmp, srt, http(s)); files are checked now."""
    text = os.fspath(path_or_url)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if start is not None and (start < 0 or start != start):
        raise UsageError(f"range start must be >= 0 seconds, got {start}")
    if end is not None and (end != end or end <= (start or 0.0)):
        raise UsageError(f"range end must be after its start ({start or 0.0} s), got {end}")
    if timeout_s <= 0:
        raise UsageError(f"timeout_s must be > 0, got {timeout_s}")
    if scheme in LIVE_SCHEMES:
        if start is not None or end is not None:
            raise UsageError("a live source has no seek range: stop its decode instead")
        return Source(text, live=True, timeout_s=timeout_s, options=dict(options or {}))
    if scheme and scheme != "file":
        known = ", ".join(sorted(LIVE_SCHEMES))
        raise UsageError(f"unsupported source scheme '{scheme}://' (files, or {known})")
    path = os.path.abspath(urlsplit(text).path if scheme == "file" else text)
    check_file(path)
    return Source(path, start=start, end=end, timeout_s=timeout_s, options=dict(options or {}))
