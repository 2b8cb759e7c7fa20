"""One exception tree for all of VidLens.

Each class carries the CLI exit code and the HTTP status it maps to, and a stable
machine-readable ``code``. Only the edges (CLI, API, job rows) translate errors;
library code raises and never exits the process.
"""

from __future__ import annotations

from typing import Any, ClassVar


class VidLensError(Exception):
    """Base of every error VidLens raises on purpose."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The error body: ``{"error": {"code", "message", "details"}}``, with every detail."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def public_dict(self) -> dict[str, Any]:
        """The error body a client of the API sees: no server paths, commands or libav log lines."""
        return {"error": {"code": self.code, "message": self.message, "details": public_details(self.details)}}


# details that belong in the server's log, never in an answer to a client
PRIVATE_DETAILS = frozenset({"path", "log_tail", "command", "traceback", "uri"})


def public_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """``details`` without the keys of ``PRIVATE_DETAILS``."""
    return {k: v for k, v in (details or {}).items() if k not in PRIVATE_DETAILS}


class UsageError(VidLensError):
    """The caller asked for something malformed (bad flag, bad time string, ...)."""

    exit_code = 2
    http_status = 400
    code = "bad_request"


class ConfigError(VidLensError):
    """Settings or plugin configuration failed validation."""

    exit_code = 3
    http_status = 500
    code = "config_invalid"


class NotFoundError(VidLensError):
    exit_code = 4
    http_status = 404
    code = "not_found"


class ConflictError(VidLensError):
    exit_code = 5
    http_status = 409
    code = "conflict"


class AuthError(VidLensError):
    exit_code = 6
    http_status = 401
    code = "unauthenticated"


class PermissionDeniedError(VidLensError):
    exit_code = 6
    http_status = 403
    code = "forbidden"


class RateLimitedError(VidLensError):
    exit_code = 7
    http_status = 429
    code = "rate_limited"


class PluginError(VidLensError):
    """A plugin failed to load, declared a duplicate name, or broke its contract."""

    exit_code = 8
    http_status = 500
    code = "plugin_error"


class ModelError(VidLensError):
    """A model slot points at a missing or unreadable model file."""

    exit_code = 9
    http_status = 500
    code = "model_error"


class StoreError(VidLensError):
    exit_code = 11
    http_status = 503
    code = "store_error"


class CancelledError(VidLensError):
    """Work stopped on request before it finished; nothing partial was stored."""

    exit_code = 130
    http_status = 409
    code = "cancelled"


class JobError(VidLensError):
    exit_code = 12
    http_status = 500
    code = "job_failed"


class AnalysisFailedError(JobError):
    """An analysis stored its document but every analyzer failed; ``details["failed"]`` names them."""

    code = "analysis_failed"


class AnalysisPartialError(JobError):
    """An analysis stored its document but some analyzers failed: the job ends ``partial``, with the
    rest's results kept; ``details["failed"]`` names the ones that failed."""

    code = "analysis_partial"


class MediaError(VidLensError):
    """A media file could not be read or written.

    ``log_tail`` keeps the last lines FFmpeg/libav printed: usually the only clue.
    """

    exit_code = 10
    http_status = 422
    code = "media_error"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        log_tail: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        d = dict(details or {})
        if path is not None:
            d.setdefault("path", path)
        if log_tail:
            d.setdefault("log_tail", log_tail)
        super().__init__(message, details=d)
        self.path = path
        self.log_tail = log_tail

    def __str__(self) -> str:
        return self.message


class UnsupportedMediaError(MediaError):
    """The file is readable but not something we can process (no video stream, not media at all)."""

    http_status = 415
    code = "unsupported_media"


class CorruptMediaError(MediaError):
    """The container or stream is damaged (truncated, garbage packets, zero bytes)."""

    code = "corrupt_media"


class MediaLimitError(MediaError):
    """The file exceeds a configured safety limit (dimensions, duration, size)."""

    http_status = 413
    code = "media_limit"


class SourceError(MediaError):
    """A live source (camera, stream) could not be opened, stalled past its timeout or disconnected.

    Raised, never retried here: whoever watches the source (a camera supervisor) decides whether
    and when to reconnect.
    """

    http_status = 502
    code = "source_unavailable"


class FFmpegError(MediaError):
    """An FFmpeg subprocess failed; ``command`` is the exact argv that ran."""

    code = "ffmpeg_failed"

    def __init__(self, message: str, *, command: list[str], returncode: int, log_tail: str = "",
                 path: str | None = None) -> None:
        super().__init__(message, path=path, log_tail=log_tail,
                         details={"command": command, "returncode": returncode})
        self.command = command
        self.returncode = returncode
