"""Request-scoped dependencies: the services, who is calling, and what they may do.

A caller is a ``Principal`` from ``Authorization: Bearer vl_...`` or from the signed
session cookie. Writes made with a session cookie must also carry the session's CSRF
token (header ``X-CSRF-Token`` for the API; form field ``csrf_token`` for HTML forms),
so another site cannot make a logged-in browser write. Every identified caller spends
a token of its rate-limit bucket.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from itsdangerous import BadSignature, TimestampSigner

from vidlens.api.audit import SCOPE_KEY
from vidlens.api.auth import Accounts, LoginThrottle, Principal, RateLimiter
from vidlens.errors import AuthError, PermissionDeniedError

if TYPE_CHECKING:
    from vidlens.api.review import ReviewQueue
    from vidlens.api.uploads import UploadStore
    from vidlens.platform import Platform

SESSION_COOKIE = "vidlens_session"
LOGIN_CSRF_COOKIE = "vidlens_login_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Services:
    platform: Platform
    accounts: Accounts
    limiter: RateLimiter
    uploads: UploadStore
    review: ReviewQueue
    signer: TimestampSigner
    logins: LoginThrottle

    def session_token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self.signer.unsign(
                cookie, max_age=int(self.platform.settings.serve.session_max_age_s)
            ).decode()
        except BadSignature:
            return None


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def platform(request: Request) -> Platform:
    return services(request).platform


def identify(request: Request) -> Principal | None:
    """The caller, or None when the request carries no credential (a bad one is an error)."""
    svc = services(request)
    authz = request.headers.get("authorization")
    principal: Principal | None = None
    if authz:
        scheme, _, token = authz.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("malformed Authorization header: expected 'Bearer vl_...'")
        principal = svc.accounts.resolve_key(token.strip())
    else:
        token = svc.session_token(request.cookies.get(SESSION_COOKIE))
        if token is not None:
            principal = svc.accounts.resolve_session(token)
    if principal is not None:
        request.scope.setdefault(SCOPE_KEY, {})["principal"] = principal
        svc.limiter.take(principal.bucket_id)
    return principal


def check_csrf(principal: Principal, token: str | None) -> None:
    if principal.via != "session":
        return
    if not token or not principal.csrf_token or not hmac.compare_digest(token, principal.csrf_token):
        raise PermissionDeniedError("missing or wrong CSRF token; reload the page and try again")


def require(role: str) -> Callable[..., Principal]:
    """Dependency: an identified caller holding at least ``role`` (401 anonymous, 403 too low)."""

    def dep(request: Request, principal: Principal | None = Depends(identify)) -> Principal:
        if principal is None:
            raise AuthError("authentication required: send 'Authorization: Bearer <API key>' or log in")
        principal.require(role)
        if request.method not in SAFE_METHODS:
            check_csrf(principal, request.headers.get(CSRF_HEADER))
        return principal

    dep.__name__ = f"require_{role}"
    return dep


Viewer = Depends(require("viewer"))
Reviewer = Depends(require("reviewer"))
Admin = Depends(require("admin"))
