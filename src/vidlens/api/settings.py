"""Settings of the HTTP server (the ``serve`` section of ``vidlens.toml``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ServeSettings(BaseModel):
    """Upload limits, sessions and per-key rate limits of ``vidlens serve``."""

    model_config = ConfigDict(extra="forbid")

    max_upload_bytes: int = Field(
        4 * 1024**3,
        gt=0,
        description="Largest upload accepted, in bytes (also capped by media.max_file_bytes).",
    )
    upload_chunk_bytes: int = Field(
        8 * 1024**2, ge=64 * 1024, description="Chunk size suggested to clients of the resumable upload API."
    )
    session_secret: SecretStr | None = Field(
        None,
        description="Key that signs session cookies. Default: a random key kept in <data_dir>/serve.secret.",
    )
    session_max_age_s: float = Field(12 * 3600, gt=0, description="Lifetime of a login session, in seconds.")
    cookie_secure: bool = Field(False, description="Mark cookies Secure (set when served over HTTPS).")
    rate_limit_per_s: float = Field(
        20.0, ge=0, description="Sustained requests per second per API key or session; 0 = unlimited."
    )
    rate_limit_burst: int = Field(
        100, ge=1, description="Requests a key may make in a burst above the sustained rate."
    )
    worker: bool = Field(True, description="Run a background job worker thread inside `vidlens serve`.")
