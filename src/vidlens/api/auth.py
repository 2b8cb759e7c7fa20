"""Users, roles, API keys and login sessions: the part of auth that needs no web framework.

The CLI (``vidlens users`` / ``vidlens keys``) and the HTTP layer both use ``Accounts``.
Passwords are scrypt-hashed; API keys (``vl_...``) and session tokens are random and
only their sha256 is stored, so a leaked database yields no usable credential.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.api.tables import api_keys, users, web_sessions
from vidlens.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UsageError,
)
from vidlens.hashing import sha256_bytes

if TYPE_CHECKING:
    from vidlens.store.db import Store

ROLES: dict[str, int] = {"viewer": 1, "reviewer": 2, "admin": 3}
KEY_PREFIX = "vl_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, through an API key or a login session."""

    user_id: int
    name: str
    role: str
    via: str  # "key" | "session"
    key_id: int | None = None
    session_id: str | None = None
    csrf_token: str | None = None

    def has(self, role: str) -> bool:
        return ROLES[self.role] >= ROLES[role]

    def require(self, role: str) -> Principal:
        if not self.has(role):
            raise PermissionDeniedError(
                f"this needs the '{role}' role; {self.name} is a {self.role}",
                details={"required": role, "role": self.role},
            )
        return self

    @property
    def bucket_id(self) -> str:
        return f"key:{self.key_id}" if self.via == "key" else f"session:{self.session_id}"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role '{role}': expected one of {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        **_SCRYPT, salt=base64.b64encode(salt).decode(), digest=base64.b64encode(digest).decode()
    )


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def sha256_hex(token: str) -> str:
    return sha256_bytes(token.encode())


def parse_duration(text: str) -> float:
    """``30d``, ``12h``, ``45m``, ``90s`` → seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text or "")
    if not m:
        raise UsageError(
            f"invalid duration '{text}': expected a number and a unit, like 30d, 12h, 45m or 90s"
        )
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


class Accounts:
    """User, key and session records in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- users -------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str | None = None) -> dict[str, Any]:
        if not _NAME.match(name):
            raise UsageError(f"invalid user name '{name}': 1-64 letters, digits, '.', '_', '@' or '-'")
        check_role(role)
        if password is not None and len(password) < 8:
            raise UsageError("password too short: use at least 8 characters")
        with self.store.tx() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None:
                raise ConflictError(f"user '{name}' already exists")
            conn.execute(
                users.insert().values(
                    name=name,
                    role=role,
                    created_at=time.time(),
                    disabled=False,
                    password_hash=hash_password(password) if password else None,
                )
            )
        return self.get_user(name)

    def get_user(self, name: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(users.c.id, users.c.name, users.c.role, users.c.disabled, users.c.created_at).where(
                    users.c.name == name
                )
            ).first()
        if row is None:
            raise NotFoundError(f"no user '{name}'")
        return dict(row._mapping)

    def list_users(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(
                    users.c.id, users.c.name, users.c.role, users.c.disabled, users.c.created_at
                ).order_by(users.c.name)
            ).all()
        return [dict(r._mapping) for r in rows]

    def count_users(self) -> int:
        with self.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise UsageError("password too short: use at least 8 characters")
        with self.store.tx() as conn:
            res = conn.execute(
                users.update().where(users.c.name == name).values(password_hash=hash_password(password))
            )
            if res.rowcount != 1:
                raise NotFoundError(f"no user '{name}'")

    def authenticate(self, name: str, password: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        # hash even for unknown users so the answer time does not reveal which names exist
        ok = verify_password(password, row.password_hash if row is not None else _dummy_hash())
        if row is None or not ok or row.disabled:
            raise AuthError("wrong user name or password")
        return {"id": row.id, "name": row.name, "role": row.role}

    # -- API keys ----------------------------------------------------------------
    def create_key(
        self,
        user: str,
        *,
        expires_in_s: float | None = None,
        name: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Make a key for ``user``; returns the key (shown once) and its record."""
        u = self.get_user(user)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with self.store.tx() as conn:
            conn.execute(
                api_keys.insert().values(
                    user_id=u["id"],
                    prefix=key[:11],
                    key_hash=sha256_hex(key),
                    name=name,
                    created_at=now,
                    expires_at=now + expires_in_s if expires_in_s else None,
                )
            )
            row = conn.execute(sa.select(api_keys).where(api_keys.c.key_hash == sha256_hex(key))).one()
        return key, self._key_record(row, u["name"])

    def list_keys(self, user: str | None = None) -> list[dict[str, Any]]:
        q = (
            sa.select(api_keys, users.c.name.label("user"))
            .join(users, users.c.id == api_keys.c.user_id)
            .order_by(api_keys.c.id)
        )
        if user:
            q = q.where(users.c.name == user)
        with self.store.read() as conn:
            return [self._key_record(r, r.user) for r in conn.execute(q)]

    def revoke_key(self, ref: str) -> dict[str, Any]:
        """Revoke by numeric id or by the key's shown prefix."""
        cond = api_keys.c.id == int(ref) if ref.isdigit() else api_keys.c.prefix == ref[:11]
        with self.store.tx() as conn:
            rows = conn.execute(sa.select(api_keys.c.id).where(cond)).all()
            if not rows:
                raise NotFoundError(f"no API key '{ref}'")
            if len(rows) > 1:
                raise UsageError(f"API key prefix '{ref}' is ambiguous; give the numeric id")
            conn.execute(api_keys.update().where(api_keys.c.id == rows[0].id).values(revoked_at=time.time()))
        return next(k for k in self.list_keys() if k["id"] == rows[0].id)

    def resolve_key(self, key: str) -> Principal:
        now = time.time()
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(
                    api_keys.c.id,
                    api_keys.c.expires_at,
                    api_keys.c.revoked_at,
                    users.c.id.label("uid"),
                    users.c.name,
                    users.c.role,
                    users.c.disabled,
                )
                .join(users, users.c.id == api_keys.c.user_id)
                .where(api_keys.c.key_hash == sha256_hex(key))
            ).first()
        if row is None:
            raise AuthError("invalid API key")
        if row.revoked_at is not None:
            raise AuthError("this API key was revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise AuthError("this API key has expired; create a new one with `vidlens keys create`")
        if row.disabled:
            raise AuthError(f"user '{row.name}' is disabled")
        return Principal(row.uid, row.name, row.role, "key", key_id=row.id)

    @staticmethod
    def _key_record(row: Any, user: str) -> dict[str, Any]:
        m = row._mapping
        now = time.time()
        state = (
            "revoked"
            if m["revoked_at"]
            else "expired"
            if m["expires_at"] is not None and m["expires_at"] <= now
            else "active"
        )
        return {
            "id": m["id"],
            "user": user,
            "prefix": m["prefix"],
            "name": m["name"],
            "created_at": m["created_at"],
            "expires_at": m["expires_at"],
            "revoked_at": m["revoked_at"],
            "state": state,
        }

    # -- login sessions ----------------------------------------------------------
    def create_session(self, user_id: int, max_age_s: float) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.store.tx() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
            conn.execute(
                web_sessions.insert().values(
                    id=sha256_hex(token),
                    user_id=user_id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + max_age_s,
                )
            )
        return token

    def resolve_session(self, token: str) -> Principal | None:
        sid = sha256_hex(token)
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(
                    web_sessions.c.csrf_token,
                    web_sessions.c.expires_at,
                    users.c.id,
                    users.c.name,
                    users.c.role,
                    users.c.disabled,
                )
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.id == sid)
            ).first()
        if row is None or row.expires_at <= time.time() or row.disabled:
            return None
        return Principal(row.id, row.name, row.role, "session", session_id=sid, csrf_token=row.csrf_token)

    def end_session(self, session_id: str) -> None:
        with self.store.tx() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.id == session_id))


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(12))


class RateLimiter:
    """Token buckets per principal: ``rate`` tokens a second, up to ``burst``; thread-safe."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, bucket: str) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(bucket, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[bucket] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimitedError(
                    f"rate limit exceeded: {self.rate:g} requests/s (burst {self.burst:.0f}); "
                    f"retry in {wait:.2f} s",
                    details={"retry_after_s": round(wait, 3)},
                )
            self._buckets[bucket] = (tokens - 1.0, now)


class LoginThrottle:
    """Failed logins counted per account and per client address over a sliding window; past either
    limit a login waits (429) until the oldest failure leaves the window. Guessing passwords for one
    account from many addresses, or for many accounts from one, are both slowed. Thread-safe; kept
    in the server's memory."""

    def __init__(self, per_account: int, per_address: int, window_s: float) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, account: str, address: str) -> None:
        """Raise ``RateLimitedError`` when the account or the address is over its limit."""
        now = time.monotonic()
        with self._lock:
            for kind, key in (("account", account.lower()), ("address", address)):
                times = self._recent((kind, key), now)
                if len(times) >= self.limits[kind]:
                    wait = times[0] + self.window_s - now
                    raise RateLimitedError(
                        f"too many failed logins for this {kind}; try again in {wait:.0f} s",
                        details={"retry_after_s": round(wait, 3), "scope": kind})

    def failed(self, account: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (("account", account.lower()), ("address", address)):
                self._recent(key, now).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account.lower()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(self._failures) > 100_000:  # bounded memory under a spray of names
            self._failures = {k: v for k, v in self._failures.items() if v}
        return times
