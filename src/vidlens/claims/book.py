"""Claims like Content ID's: a policy per work or digital human, a claim per match, disputes with deadlines.

A **policy** says what a match of a subject (a registered work or digital human) leads to:
``block``, ``monetise`` or ``track``, and which uploaders are allowed (never claimed). Without one
set here a work's registered policy applies, and ``track`` for a digital human.

A **claim** is filed for each subject found in a piece of media, once per (subject, media,
uploader): it carries the matched segments and the policy's action at filing time. Its life:

- ``active``: the uploader may ``dispute`` it, with a reason, until ``dispute_by``
  (``[claims] dispute_days`` after filing); a second dispute, or one after the deadline, is refused.
- ``disputed``: the owner ``uphold``s (the claim stands: ``upheld``) or ``release``s it
  (``released``), until ``respond_by`` (``response_days`` after the dispute). When that passes
  unanswered the claim **expires to released**: the dispute wins, as on Content ID.
- The owner may ``release`` an active claim at any time; ``upheld`` and ``released`` are final.

Every step (policy set, claim filed, dispute, uphold, release, expiry) is an entry of govern's audit
chain written in the same transaction as the row, so a refused step stores nothing and a stored one
is always in the chain. Expired disputes are resolved at the start of every operation (and by
``expire``), so no reader ever sees a claim past its deadline.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vidlens.claims.settings import ClaimsSettings
from vidlens.claims.tables import claims, policies
from vidlens.errors import ConflictError, NotFoundError, UsageError
from vidlens.govern import audit
from vidlens.services import ServiceContext
from vidlens.store.db import Store

ACTIONS = ("block", "monetise", "track")
KINDS = ("work", "human")
DAY = 86400.0
MAX_REASON = 4000
MAX_UPLOADERS = 1000
SYSTEM = {"actor": "system", "via": "claims"}


class ClaimStateError(ConflictError):
    """The claim is not in a state that allows this step (already disputed, final, past a deadline)."""

    code = "claim_state"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a claim is made for: a registered work or digital human, with its owner and default action."""

    kind: str
    id: str
    name: str
    owner: str
    default_action: str


@dataclass(frozen=True, slots=True)
class Policy:
    kind: str
    subject_id: str
    action: str
    allow_uploaders: tuple[str, ...]
    set_at: float | None  # None: the default, never set here
    set_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"subject_kind": self.kind, "subject_id": self.subject_id, "action": self.action,
                "allow_uploaders": list(self.allow_uploaders), "set_at": self.set_at, "set_by": self.set_by}


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # visual | audio | visual+audio (a work), face | voice (a digital human)
    start: float
    end: float
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": round(self.start, 3), "end": round(self.end, 3),
                "score": round(self.score, 4)}


def _reason(text: str) -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_REASON or not text.isprintable():
        raise UsageError(f"give a reason: printable text of 1 to {MAX_REASON} characters")
    return text


class ClaimBook:
    """Policies and claims of one install. ``who``: the keywords of ``vidlens.govern.audit.record``."""

    def __init__(self, store: Store, settings: ClaimsSettings | None = None) -> None:
        self.store = store
        self.settings = settings or ClaimsSettings()

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> ClaimBook:
        return cls(ctx.store, ctx.section(ClaimsSettings))

    # -- policies -----------------------------------------------------------------------------
    def set_policy(self, subject: Subject, action: str, allow_uploaders: Sequence[str] = (), **who: Any) -> Policy:
        if action not in ACTIONS:
            raise UsageError(f"policy action must be one of {', '.join(ACTIONS)}, got {action!r}")
        allowed = tuple(sorted({u.strip() for u in allow_uploaders if u.strip()}))
        if len(allowed) > MAX_UPLOADERS or any(len(u) > 200 or not u.isprintable() for u in allowed):
            raise UsageError(f"at most {MAX_UPLOADERS} allowed uploaders, each printable and at most 200 characters")
        now = round(time.time(), 6)
        row = {"subject_kind": subject.kind, "subject_id": subject.id, "action": action,
               "allow_uploaders": list(allowed), "set_at": now, "set_by": who.get("actor")}
        with self.store.tx() as conn:
            conn.execute(policies.delete().where(policies.c.subject_kind == subject.kind,
                                                 policies.c.subject_id == subject.id))
            conn.execute(policies.insert().values(**row))
            audit.record(conn, "claims.policy", f"{subject.kind}:{subject.id}",
                         {"action": action, "allow_uploaders": list(allowed)}, **who)
        return self.policy(subject)

    def policy(self, subject: Subject) -> Policy:
        with self.store.read() as conn:
            r = conn.execute(sa.select(policies).where(policies.c.subject_kind == subject.kind,
                                                       policies.c.subject_id == subject.id)).first()
        if r is None:
            return Policy(subject.kind, subject.id, subject.default_action, (), None, None)
        return Policy(r.subject_kind, r.subject_id, r.action, tuple(r.allow_uploaders), r.set_at, r.set_by)

    # -- claims -------------------------------------------------------------------------------
    def file(self, subject: Subject, segments: Sequence[Segment], *, media_sha256: str, media_name: str,
             uploader: str, video_id: str | None = None, now: float | None = None,
             **who: Any) -> dict[str, Any] | None:
        """Claim ``media`` for ``subject`` under its policy: the new claim, the existing one for this
        (subject, media, uploader), or None when the policy allows this uploader."""
        uploader = uploader.strip()
        if not uploader or len(uploader) > 200 or not uploader.isprintable():
            raise UsageError("a claim needs the uploader's name (printable, at most 200 characters)")
        if not segments:
            raise UsageError("a claim needs at least one matched segment")
        policy = self.policy(subject)
        if uploader in policy.allow_uploaders:
            return None
        now = round(time.time() if now is None else now, 6)
        key = (claims.c.subject_kind == subject.kind, claims.c.subject_id == subject.id,
               claims.c.media_sha256 == media_sha256, claims.c.uploader == uploader)
        self.expire(now)
        with self.store.tx() as conn:
            existing = conn.execute(sa.select(claims.c.id).where(*key)).first()
            if existing is not None:
                claim_id = existing.id
            else:
                claim_id = uuid.uuid4().hex
                row = {"id": claim_id, "subject_kind": subject.kind, "subject_id": subject.id,
                       "subject_name": subject.name, "owner": subject.owner, "media_sha256": media_sha256,
                       "media_name": media_name, "video_id": video_id, "uploader": uploader,
                       "segments": [s.to_dict() for s in segments], "action": policy.action, "status": "active",
                       "created_at": now, "dispute_by": now + self.settings.dispute_days * DAY}
                conn.execute(claims.insert().values(**row))
                audit.record(conn, "claims.file", f"claim:{claim_id}", {
                    k: row[k] for k in ("subject_kind", "subject_id", "owner", "media_sha256", "uploader",
                                        "segments", "action", "dispute_by")}, **who)
        return self.get(claim_id, now=now)

    def dispute(self, claim_id: str, reason: str, *, now: float | None = None, **who: Any) -> dict[str, Any]:
        """The uploader contests an active claim before its ``dispute_by``."""
        reason = _reason(reason)

        def step(claim: dict[str, Any], at: float) -> dict[str, Any]:
            if claim["status"] != "active":
                raise ClaimStateError(f"{_state(claim)}: only an active claim can be disputed, once")
            if at > claim["dispute_by"]:
                raise ClaimStateError(f"claim {claim['id']}: the time to dispute it ended at "
                                      f"{_iso(claim['dispute_by'])}")
            return {"status": "disputed", "dispute_reason": reason, "disputed_at": at,
                    "respond_by": at + self.settings.response_days * DAY}
        return self._step(claim_id, "claims.dispute", step, {"reason": reason}, now, who)

    def uphold(self, claim_id: str, reason: str, *, now: float | None = None, **who: Any) -> dict[str, Any]:
        """The owner keeps a disputed claim, before its ``respond_by``."""
        reason = _reason(reason)

        def step(claim: dict[str, Any], at: float) -> dict[str, Any]:
            if claim["status"] != "disputed":
                raise ClaimStateError(f"{_state(claim)}: only a disputed claim can be upheld")
            return {"status": "upheld", "resolution": reason, "resolved_at": at, "resolved_by": who.get("actor")}
        return self._step(claim_id, "claims.uphold", step, {"reason": reason}, now, who)

    def release(self, claim_id: str, reason: str, *, now: float | None = None, **who: Any) -> dict[str, Any]:
        """The owner lets the media go: an active or disputed claim ends."""
        reason = _reason(reason)

        def step(claim: dict[str, Any], at: float) -> dict[str, Any]:
            if claim["status"] not in ("active", "disputed"):
                raise ClaimStateError(f"{_state(claim)}: it can no longer be released")
            return {"status": "released", "resolution": reason, "resolved_at": at, "resolved_by": who.get("actor")}
        return self._step(claim_id, "claims.release", step, {"reason": reason}, now, who)

    def _step(self, claim_id: str, action: str, step: Any, detail: dict[str, Any], now: float | None,
              who: dict[str, Any]) -> dict[str, Any]:
        at = round(time.time() if now is None else now, 6)
        self.expire(at)  # committed on its own: a refused step still leaves expired disputes resolved
        with self.store.tx() as conn:
            claim = self._row(conn, claim_id)
            change = step(claim, at)  # raises before anything is written
            conn.execute(claims.update().where(claims.c.id == claim["id"]).values(**change))
            audit.record(conn, action, f"claim:{claim['id']}", {**detail, "status": change["status"]}, **who)
        return self.get(claim["id"], now=at)

    def expire(self, now: float | None = None) -> list[str]:
        """Release every disputed claim whose owner did not answer by ``respond_by``; the ids released."""
        with self.store.tx() as conn:
            return self._expire(conn, round(time.time() if now is None else now, 6))

    def _expire(self, conn: sa.Connection, now: float) -> list[str]:
        due = conn.execute(sa.select(claims.c.id, claims.c.respond_by).where(
            claims.c.status == "disputed", claims.c.respond_by < now).order_by(claims.c.respond_by)).all()
        for r in due:
            why = f"the owner did not answer the dispute by {_iso(r.respond_by)}"
            conn.execute(claims.update().where(claims.c.id == r.id).values(
                status="released", resolution=why, resolved_at=r.respond_by, resolved_by="system"))
            audit.record(conn, "claims.expire", f"claim:{r.id}", {"status": "released", "reason": why}, **SYSTEM)
        return [r.id for r in due]

    # -- read ---------------------------------------------------------------------------------
    @staticmethod
    def _row(conn: sa.Connection, ref: str) -> dict[str, Any]:
        rows = conn.execute(sa.select(claims).where(claims.c.id == ref)).mappings().all()
        if not rows and len(ref) >= 6 and all(c in "0123456789abcdef" for c in ref):
            rows = conn.execute(sa.select(claims).where(claims.c.id.like(ref + "%")).limit(2)).mappings().all()
        if len(rows) > 1:
            raise UsageError(f"claim id prefix '{ref}' is ambiguous; give more characters")
        if not rows:
            raise NotFoundError(f"no claim '{ref}' (see: vidlens claims list)")
        return dict(rows[0])

    def get(self, ref: str, *, now: float | None = None) -> dict[str, Any]:
        self.expire(now)
        with self.store.read() as conn:
            return _public(self._row(conn, ref))

    def list(self, *, status: str | None = None, uploader: str | None = None, subject_id: str | None = None,
             limit: int = 200, now: float | None = None) -> list[dict[str, Any]]:
        self.expire(now)
        q = sa.select(claims).order_by(claims.c.created_at.desc(), claims.c.id).limit(limit)
        for column, value in ((claims.c.status, status), (claims.c.uploader, uploader),
                              (claims.c.subject_id, subject_id)):
            if value is not None:
                q = q.where(column == value)
        with self.store.read() as conn:
            return [_public(dict(r)) for r in conn.execute(q).mappings()]


def _state(claim: dict[str, Any]) -> str:
    """``claim ID is STATUS`` and why, for a refusal."""
    why = f" ({claim['resolution']})" if claim.get("resolution") else ""
    return f"claim {claim['id']} is {claim['status']}{why}"


def _iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A claim as the CLI and API show it: ``claim_id``, times in ISO 8601 UTC."""
    out = {"claim_id": row.pop("id"), **row}
    for k in ("created_at", "dispute_by", "disputed_at", "respond_by", "resolved_at"):
        out[k] = None if out[k] is None else _iso(out[k])
    return out
