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
    login_failures_per_account: int = Field(
        5, ge=1, description="Failed logins to one account within login_window_s before it must wait.")
    login_failures_per_address: int = Field(
        20, ge=1, description="Failed logins from one client address within login_window_s before it must wait.")
    login_window_s: float = Field(900.0, gt=0, description="Window over which failed logins are counted, in seconds.")
    upload_ttl_s: float = Field(
        24 * 3600.0, gt=0,
        description="A resumable upload that receives no chunk for this long expires and its bytes are deleted.")
    max_open_uploads_per_user: int = Field(
        10, ge=1, description="Resumable uploads one user may have open at once.")
    worker: bool = Field(True, description="Run a background job worker thread inside `vidlens serve`.")
