"""Server-rendered pages over the same read models as the JSON API.

Jinja2 autoescaping is on for every template, so titles, OCR and transcript text are
shown as text, never markup; scripts are static files (the CSP forbids inline script).
Form posts carry the session's CSRF token; the login form uses a double-submit cookie.
The navigation bar lists every capability's ``nav`` entries (``app.state.nav``); these are
the serve capability's. Another capability's pages module renders its own templates on the same
``base.html`` with ``templates_for(folder)``, ``page_user`` and ``render`` (docs/ui.md).
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from vidlens import __version__
from vidlens.analyze.views import insights
from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, check_csrf, identify, services
from vidlens.capability import NavItem
from vidlens.catalog import STATUSES
from vidlens.errors import AuthError, PermissionDeniedError, RateLimitedError, VidLensError
from vidlens.timebase import format_timecode

HERE = Path(__file__).resolve().parent


def templates_for(*folders: Path) -> Jinja2Templates:
    """Templates from ``folders`` first, then the shared ones (``base.html``), with the shared filters."""
    t = Jinja2Templates(directory=[str(f) for f in folders] + [str(HERE / "templates")])
    t.env.filters["timecode"] = lambda s: format_timecode(float(s)) if s is not None else ""
    t.env.filters["pretty_json"] = lambda obj: json.dumps(obj, indent=2, ensure_ascii=False, default=str)
    t.env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""
    return t


templates = templates_for()

nav = [
    NavItem("Library", "/", order=10),
    NavItem("Review", "/review", order=70),
    NavItem("Jobs", "/jobs", order=80),
    NavItem("Settings", "/settings", role="admin", order=90),
]


class LoginRequired(Exception):
    """A page was asked for without a session: answer with a redirect to /login."""


def page_user(request: Request, role: str = "viewer") -> Principal:
    """The logged-in caller holding ``role``; without a session the page redirects to /login."""
    principal = identify(request)
    if principal is None:
        raise LoginRequired()
    return principal.require(role)


def render(
    request: Request, name: str, user: Principal | None, status_code: int = 200, *,
    using: Jinja2Templates = templates, **ctx: Any
) -> HTMLResponse:
    """Render ``name`` on ``base.html`` with the navigation bar, the user and the CSRF token."""
    return using.TemplateResponse(
        request,
        name,
        {"user": user, "csrf": user.csrf_token if user else None, "version": __version__,
         "nav": getattr(request.app.state, "nav", ()), **ctx},
        status_code=status_code,
    )


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    try:
        user = identify(request)
    except VidLensError:
        user = None
    return render(request, "error.html", user, status_code=status, status=status, message=message)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: '/x' yes; '//evil', 'https://evil', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _set_session(response: Response, request: Request, token: str) -> None:
    svc = services(request)
    serve = svc.platform.settings.serve
    response.set_cookie(
        SESSION_COOKIE,
        svc.signer.sign(token).decode(),
        max_age=int(serve.session_max_age_s),
        httponly=True,
        samesite="lax",
        secure=serve.cookie_secure,
        path="/",
    )


def _audit_login(request: Request, name: str, address: str, status: int, outcome: str) -> None:
    """Every login attempt is an audit row: who was tried, from where, and what came of it."""
    with services(request).platform.store.tx() as conn:
        audit.record(conn, principal=None, actor=name or "(empty)", via="login", method="POST", path="/login",
                     action="login" if outcome == "ok" else "login.failed", subject=f"user:{name}",
                     status_code=status, detail={"address": address, "outcome": outcome})


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/", error: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html", None, login_csrf=token, next=_safe_next(next), error=error)
        resp.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/login",
            secure=services(request).platform.settings.serve.cookie_secure,
        )
        return resp

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        field, cookie = str(form.get("csrf_token", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not field or not cookie or not secrets.compare_digest(field, cookie):
            raise PermissionDeniedError("missing or wrong CSRF token on the login form; reload the page")
        svc = services(request)
        target = _safe_next(str(form.get("next", "/")))
        name, address = str(form.get("username", ""))[:64], request.client.host if request.client else "unknown"
        try:
            svc.logins.check(name, address)
            user = await run_in_threadpool(svc.accounts.authenticate, name, str(form.get("password", "")))
        except (AuthError, RateLimitedError) as exc:
            if isinstance(exc, AuthError):
                svc.logins.failed(name, address)
            await run_in_threadpool(_audit_login, request, name, address, exc.http_status, exc.code)
            if isinstance(exc, RateLimitedError):
                raise
            return RedirectResponse(
                f"/login?next={quote(target)}&error={quote(exc.message)}", status_code=303
            )
        svc.logins.succeeded(name)
        await run_in_threadpool(_audit_login, request, name, address, 303, "ok")
        token = await run_in_threadpool(
            svc.accounts.create_session, user["id"], svc.platform.settings.serve.session_max_age_s
        )
        resp = RedirectResponse(target, status_code=303)
        _set_session(resp, request, token)
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return resp

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await request.form()
        user = page_user(request)
        check_csrf(user, str(form.get("csrf_token", "")))
        if user.session_id:
            await run_in_threadpool(services(request).accounts.end_session, user.session_id)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.get("/", include_in_schema=False)
    def library(
        request: Request,
        q: str | None = None,
        status: str | None = None,
        min_duration_s: float | None = None,
        max_duration_s: float | None = None,
    ) -> Response:
        user = page_user(request)
        vids = services(request).platform.catalog.list_videos(
            q=q or None,
            status=status or None,
            min_duration_s=min_duration_s,
            max_duration_s=max_duration_s,
            limit=200,
        )
        return render(
            request,
            "library.html",
            user,
            videos=vids,
            statuses=STATUSES,
            filters={
                "q": q or "",
                "status": status or "",
                "min_duration_s": min_duration_s,
                "max_duration_s": max_duration_s,
            },
        )

    @app.get("/videos/{video_id}", include_in_schema=False)
    def video_page(request: Request, video_id: str) -> Response:
        user = page_user(request)
        svc = services(request)
        video = svc.platform.catalog.detail(video_id)
        doc = svc.platform.catalog.document(video["id"])
        shots = (doc or {}).get("shots") or []
        people = svc.platform.service("identities").of_video(video["id"])
        panel = insights(doc or {"video": {"duration_s": video["duration_s"]}},
                         {k: v["name"] for k, v in people.items()})
        playback = svc.platform.service("proxies").state(svc.platform.catalog.get_video(video["id"]))
        items = svc.review.list(None, video_id=video["id"])
        pending = [j for j in video["jobs"] if j["status"] in ("queued", "running") and j["kind"] == "analyze"]
        return render(
            request, "video.html", user, video=video, shots=shots, insights=panel, people=people,
            playback=playback, review_items=items, pending=pending
        )

    @app.get("/review", include_in_schema=False)
    def review_page(request: Request, status: str = "open", kind: str | None = None) -> Response:
        user = page_user(request)
        svc = services(request)
        items = svc.review.list(None if status == "all" else status, kind=kind or None, limit=200)
        return render(request, "review.html", user, items=items, status=status, kind=kind or "")

    @app.post("/review/{item_id}", include_in_schema=False)
    async def review_decide(request: Request, item_id: int) -> Response:
        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        svc = services(request)
        await run_in_threadpool(
            lambda: svc.review.decide(
                item_id,
                str(form.get("decision", "")),
                principal=user,
                reason=str(form.get("reason", "")),
                label=str(form.get("label", "")) or None,
                method="POST",
                path=request.url.path,
            )
        )
        audit.mark_recorded(request)
        return RedirectResponse(_safe_next(str(form.get("back", "/review"))), status_code=303)

    @app.get("/jobs", include_in_schema=False)
    def jobs_page(request: Request) -> Response:
        user = page_user(request)
        jobs = [j.to_dict() for j in services(request).platform.jobs.list(limit=100)]
        return render(request, "jobs.html", user, jobs=jobs)

    @app.get("/settings", include_in_schema=False)
    def settings_page(request: Request) -> Response:
        from vidlens.api.routes.admin import masked_settings

        user = page_user(request, "admin")
        return render(request, "settings.html", user, settings=masked_settings(services(request)))
