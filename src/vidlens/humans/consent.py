"""Consent records: who allowed which uses of a person's likeness and voice, where, and until when.

A consent file is JSON::

    {"grantor": "Jane Doe", "allowed_uses": ["advertising", "dubbing"],
     "territories": ["CN", "DE"], "expires": "2027-12-31", "granted": "2025-01-01"}

``allowed_uses`` are lower-case words (``*``: any use); ``territories`` are ISO 3166-1 alpha-2
codes (``*``: worldwide). A use is authorised when the record is in force (not expired, not
revoked) and names both the use and the territory. A scan that does not say where the media is
seen is authorised only by a worldwide consent: the platform cannot assume a territory.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vidlens.errors import UsageError

_USE = re.compile(r"^(\*|[a-z0-9][a-z0-9_-]{0,63})$")
_TERRITORY = re.compile(r"^(\*|[A-Z]{2})$")
MAX_BYTES = 64 * 1024


class ConsentError(UsageError):
    """A consent record is unreadable, malformed or no longer in force."""

    code = "consent_invalid"


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grantor: str = Field(..., min_length=1, max_length=500, description="Who granted it (the person or their agent).")
    allowed_uses: tuple[str, ...] = Field(..., min_length=1, max_length=100)
    territories: tuple[str, ...] = Field(..., min_length=1, max_length=300)
    expires: datetime = Field(..., description="When it ends (a date means the end of that day, UTC).")
    granted: datetime | None = None

    @field_validator("grantor")
    @classmethod
    def _grantor(cls, v: str) -> str:
        v = v.strip()
        if not v or any(not c.isprintable() for c in v):
            raise ValueError("grantor must be printable text")
        return v

    @field_validator("allowed_uses")
    @classmethod
    def _uses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [u for u in v if not _USE.match(u)]
        if bad:
            raise ValueError(f"uses must be lower-case words or '*', got {bad[:3]}")
        return tuple(sorted(set(v)))

    @field_validator("territories")
    @classmethod
    def _territories(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if not _TERRITORY.match(t)]
        if bad:
            raise ValueError(f"territories must be ISO 3166-1 alpha-2 codes or '*', got {bad[:3]}")
        return tuple(sorted(set(v)))

    @field_validator("expires", "granted", mode="before")
    @classmethod
    def _when(cls, v: Any) -> Any:
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return datetime.combine(date.fromisoformat(v), time.max, UTC)
        return v

    @field_validator("expires", "granted")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        return None if v is None else (v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC))

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires <= (at or datetime.now(UTC))

    def covers(self, use: str | None, territory: str | None, at: datetime | None = None) -> bool:
        """True when ``use`` in ``territory`` is allowed now (None: not stated, so only ``*`` covers it)."""
        if self.expired(at):
            return False
        use_ok = "*" in self.allowed_uses or (use is not None and use in self.allowed_uses)
        where_ok = "*" in self.territories or (territory is not None and territory.upper() in self.territories)
        return use_ok and where_ok

    def to_json(self) -> dict[str, Any]:
        """The stored and signed form (times in UTC ISO 8601)."""
        return json.loads(self.model_dump_json())


def parse(data: Any, source: str = "consent") -> Consent:
    try:
        return Consent.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise ConsentError(f"{source}: {where}: {first['msg']}") from None


def load(path: str | Path) -> Consent:
    """Read and check a consent file; an expired record is refused (it can authorise nothing)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConsentError(f"{p.name}: cannot read the consent file ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise ConsentError(f"{p.name}: consent file is {len(raw)} bytes; at most {MAX_BYTES} are read")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConsentError(f"{p.name}: not a JSON consent record ({exc})") from None
    consent = parse(data, p.name)
    if consent.expired():
        raise ConsentError(f"{p.name}: the consent expired on {consent.expires.date().isoformat()}; "
                           "a lapsed consent cannot be registered")
    return consent
