"""Claims pages: every claim with the disputes waiting for an answer, and one claim with the step its
viewer may take (dispute as the uploader, uphold or release as a reviewer), over the same service as
``/api/claims``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.deps import check_csrf, services
from vidlens.capability import NavItem
from vidlens.errors import PermissionDeniedError, UsageError
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Claims", "/claims", order=55)]
STEPS = ("dispute", "uphold", "release")


def install(app: FastAPI) -> None:
    @app.get("/claims", include_in_schema=False)
    def claims_page(request: Request, status: str | None = None, subject_id: str | None = None) -> Response:
        user = page_user(request)
        book = services(request).platform.service("claims")
        status = status if status in ("active", "disputed", "upheld", "released") else None
        return render(request, "claims.html", user, using=templates, status=status, subject_id=subject_id,
                      claims=book.list(status=status, subject_id=subject_id),
                      disputes=book.list(status="disputed", subject_id=subject_id))

    @app.get("/claims/{claim_id}", include_in_schema=False)
    def claim_page(request: Request, claim_id: str) -> Response:
        user = page_user(request)
        return render(request, "claim.html", user, using=templates,
                      c=services(request).platform.service("claims").get(claim_id))

    @app.post("/claims/{claim_id}/{step}", include_in_schema=False)
    async def claim_step(request: Request, claim_id: str, step: str) -> Response:
        if step not in STEPS:
            raise UsageError(f"a claim step is one of {', '.join(STEPS)}")
        form = await request.form()
        user = page_user(request)
        check_csrf(user, str(form.get("csrf_token", "")))
        book = services(request).platform.service("claims")
        if not user.has("reviewer") and (step != "dispute" or book.get(claim_id)["uploader"] != user.name):
            raise PermissionDeniedError("only the uploader may dispute; upholding and releasing are a reviewer's")
        claim = await run_in_threadpool(getattr(book, step), claim_id, str(form.get("reason", "")),
                                        **audit.author(request, user, 303))
        audit.mark_recorded(request)
        return RedirectResponse(f"/claims/{claim['claim_id']}", status_code=303)
