"""Claim deadlines (``[claims]`` in vidlens.toml, ``VIDLENS_CLAIMS__*`` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ClaimsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dispute_days: float = Field(
        30.0, gt=0, le=3650, description="Days after a claim is made during which the uploader may dispute it.")
    response_days: float = Field(
        30.0, gt=0, le=3650,
        description="Days the owner has to uphold or release a disputed claim; when they pass, the claim is "
                    "released (the dispute wins), as Content ID does.")
