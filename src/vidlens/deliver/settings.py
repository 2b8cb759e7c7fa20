"""Delivery settings: encoding profiles declared in configuration, checked when settings load.

In ``vidlens.toml``::

    [deliver.profiles.archive-h265]
    codec = "h265"
    crf = 20
    speed = "slow"
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class DeliverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Extra encoding profiles by name (fields as `vidlens profiles --json`).",
    )

    @field_validator("profiles")
    @classmethod
    def _valid(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from vidlens.deliver.profiles import Profile

        for name, fields in v.items():
            try:
                Profile(name=name, **fields)
            except (ValidationError, TypeError) as exc:
                msg = (
                    exc.errors()[0]["msg"].removeprefix("Value error, ")
                    if isinstance(exc, ValidationError)
                    else str(exc)
                )
                raise ValueError(f"profile '{name}': {msg}") from None
        return v
