"""``create_app(platform)``: the FastAPI application serving the JSON API and the web UI.

Every capability's routers (``Capability.api``) are included and its pages (``Capability.ui``)
installed, in capability load order, so a domain extends the surface without touching this
file; the UI's navigation bar is the capabilities' ``nav`` entries. Errors from anywhere become
``{"error": {"code", "message", "details"}}`` with the status of their ``VidLensError`` class.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import TimestampSigner
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidlens import __version__
from vidlens.api import audit, openapi
from vidlens.api.auth import ROLES, Accounts, LoginThrottle, RateLimiter
from vidlens.api.bounds import check_int_bounds
from vidlens.api.deps import SAFE_METHODS, Services
from vidlens.capability import CapabilityError, NavItem
from vidlens.errors import AuthError, RateLimitedError, VidLensError

if TYPE_CHECKING:
    from vidlens.platform import Platform

log = logging.getLogger(__name__)

# media-src blob: lets a player hand the <video> a MediaSource (hls.js, a camera's live view on the Watch page)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        b"script-src 'self'; style-src 'self'; object-src 'none'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


def session_secret(platform: Platform) -> str:
    """``serve.session_secret``, else a random key kept (mode 0600) in the data dir across restarts."""
    configured = platform.settings.serve.session_secret
    if configured is not None:
        return configured.get_secret_value()
    path = platform.data_dir / "serve.secret"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class EdgeMiddleware:
    """Adds security headers to every answer, and records each write in the audit table."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault(audit.SCOPE_KEY, {})
        status = [500]
        started = [False]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0], started[0] = message["status"], True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                message["headers"] = headers
            await send(message)

        api = scope["path"].startswith("/api")
        send_checked = _EnvelopeSender(send_wrapper) if api else None
        try:
            try:
                await self.app(scope, receive, send_checked or send_wrapper)
            except Exception:
                # nothing unexpected reaches a client: a 500 in the error envelope, the traceback in the log
                reference = secrets.token_hex(6)
                log.exception("%s %s failed (reference %s)", scope["method"], scope["path"], reference)
                if started[0] or (send_checked and send_checked.started):
                    raise  # the answer had begun: nothing better can be sent
                await _send_internal_error(scope, receive, send_wrapper, reference)
        finally:
            if (
                scope["method"] not in SAFE_METHODS
                and state.get("principal") is not None
                and not state.get("recorded")
            ):
                await run_in_threadpool(self._record, scope, state, status[0])

    def _record(self, scope: Scope, state: dict[str, Any], status_code: int) -> None:
        try:
            with self.services.platform.store.tx() as conn:
                audit.record(
                    conn,
                    principal=state["principal"],
                    method=scope["method"],
                    path=scope["path"],
                    action=state.get("action") or f"{scope['method'].lower()} {scope['path']}"[:64],
                    subject=state.get("subject"),
                    status_code=status_code,
                    detail=state.get("detail"),
                )
        except Exception:  # an audit failure must be loud in the log but cannot undo the answered request
            log.exception("could not record the audit entry for %s %s", scope["method"], scope["path"])


class _EnvelopeSender:
    """Wraps ``send`` for /api paths: an error answer that is not JSON (Starlette's plain-text 416 for
    an unsatisfiable Range, for one) is sent as the JSON error envelope, its headers kept."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False
        self._held: Message | None = None
        self._body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers = dict((k.lower(), v) for k, v in message.get("headers", []))
            if message["status"] >= 400 and not headers.get(b"content-type", b"").startswith(b"application/json"):
                self._held = message
                return
        elif message["type"] == "http.response.body" and self._held is not None:
            self._body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            status = self._held["status"]
            text = self._body.decode("utf-8", "replace").strip()[:200] or HTTPStatus(status).phrase
            body = json.dumps({"error": {"code": _HTTP_CODES.get(status, "http_error"), "message": text,
                                         "details": {}}}).encode()
            headers = [(k, v) for k, v in self._held.get("headers", [])
                       if k.lower() not in (b"content-type", b"content-length")]
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await self.send({**self._held, "headers": headers})
            await self.send({"type": "http.response.body", "body": body})
            return
        await self.send(message)


_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media",
               416: "range_not_satisfiable", 422: "validation_failed", 429: "rate_limited", 500: "internal"}


async def _send_internal_error(scope: Scope, receive: Receive, send: Send, reference: str) -> None:
    body = {"error": {"code": "internal", "message": f"internal error (reference {reference}); the server's "
                      "log has the details", "details": {"reference": reference}}}
    request = Request(scope, receive)
    try:
        response = _error_response(request, 500, body)
    except Exception:  # the error page itself failed: plain JSON
        response = JSONResponse(body, status_code=500)
    await response(scope, receive, send)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")


def _error_response(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if _wants_html(request):
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        from vidlens.ui.pages import render_error

        return render_error(request, status, body["error"]["message"])
    return JSONResponse(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VidLensError)
    async def vidlens_error(request: Request, exc: VidLensError) -> Response:
        headers = {}
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = str(max(1, round(exc.details.get("retry_after_s", 1))))
        if isinstance(exc, AuthError):
            headers["WWW-Authenticate"] = 'Bearer realm="vidlens"'
        body = exc.public_dict()
        if exc.http_status >= 500:  # its message may name server paths or settings: those go to the log
            reference = secrets.token_hex(6)
            log.error("%s %s failed (reference %s): %s %s", request.method, request.url.path, reference,
                      exc.message, exc.details)
            body["error"].update(message=f"{exc.message.split(':')[0][:80]} (reference {reference}); the "
                                 "server's log has the details", details={"reference": reference})
        return _error_response(request, exc.http_status, body, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path answers, not only those of the first route matched
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _error_response(
            request,
            exc.status_code,
            {"error": {"code": _HTTP_CODES.get(exc.status_code, "http_error"), "message": str(exc.detail),
                       "details": {}}},
            headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        message = f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}"
        return _error_response(
            request,
            422,
            {"error": {"code": "validation_failed", "message": message, "details": {"errors": errors}}},
        )


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at this path (routers may be nested: ask each one per method)."""
    routes = request.app.router.routes
    return [m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)]


def _include_routers(app: FastAPI, platform: Platform) -> None:
    for cap, module in platform.capabilities.import_all("api"):
        routers = getattr(module, "routers", None) or [getattr(module, "router", None)]
        if any(r is None for r in routers):
            raise CapabilityError(f"capability '{cap.name}': API module '{module.__name__}' has no "
                                  "'router' or 'routers'")
        for router in routers:
            app.include_router(router)


def _install_pages(app: FastAPI, platform: Platform) -> list[NavItem]:
    nav: list[NavItem] = []
    for cap, module in platform.capabilities.import_all("ui"):
        install = getattr(module, "install", None)
        if install is None:
            raise CapabilityError(f"capability '{cap.name}': UI module '{module.__name__}' "
                                  "has no install(app)")
        install(app)
        for item in getattr(module, "nav", ()):
            if not isinstance(item, NavItem) or item.role not in ROLES:
                raise CapabilityError(f"capability '{cap.name}': nav entry {item!r} must be a NavItem whose "
                                      f"role is one of {', '.join(ROLES)}")
            nav.append(item)
    return sorted(nav, key=lambda item: item.order)


def create_app(platform: Platform) -> FastAPI:
    """The app for one platform; all state hangs off ``app.state.services``."""
    serve = platform.settings.serve
    svc = Services(
        platform=platform,
        accounts=Accounts(platform.store),
        limiter=RateLimiter(serve.rate_limit_per_s, serve.rate_limit_burst),
        uploads=platform.service("uploads"),
        review=platform.service("review"),
        signer=TimestampSigner(session_secret(platform), salt="vidlens.session"),
        logins=LoginThrottle(serve.login_failures_per_account, serve.login_failures_per_address,
                             serve.login_window_s),
    )
    app = FastAPI(
        title="VidLens",
        version=__version__,
        description="Self-hosted video AI: upload, analyse, search and review video. "
        "Authenticate with `Authorization: Bearer vl_...` (see `vidlens keys create`).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(check_int_bounds)],
    )
    app.state.services = svc
    svc.uploads.expire_abandoned()  # uploads abandoned while the server was down
    _install_error_handlers(app)

    @app.get("/api/health", tags=["meta"], summary="Liveness; no authentication")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    _include_routers(app, platform)
    app.state.nav = _install_pages(app, platform)
    openapi.install(app, {"analyzer": sorted(p.manifest.name for p in platform.plugins.of_kind("analyzer"))})
    app.add_middleware(EdgeMiddleware, services=svc)
    return app
