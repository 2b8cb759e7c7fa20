"""Govern settings (``[govern]`` in vidlens.toml, ``VIDLENS_GOVERN__*`` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SIX_MONTHS_DAYS = 183


class GovernSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audit_retention_days: int = Field(
        400, ge=SIX_MONTHS_DAYS,
        description="Days audit-log entries are kept before `vidlens audit prune` may drop them "
                    "(at least 183: the labelling Measures ask for six months of logs).")
    propagator_code: str | None = Field(
        None, description="This platform's 27-character TC260 code, written by `vidlens triage --write`.")
