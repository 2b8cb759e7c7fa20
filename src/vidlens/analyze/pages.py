"""The people gallery pages: every person across the library, one person's appearances, and the forms
that name, merge and split them (the same service as ``/api/people``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.deps import check_csrf, services
from vidlens.capability import NavItem
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("People", "/people", order=30)]


def install(app: FastAPI) -> None:
    @app.get("/people", include_in_schema=False)
    def people_page(request: Request, q: str = "") -> Response:
        user = page_user(request)
        found = services(request).platform.service("identities").list(q=q or None, limit=500)
        return render(request, "people.html", user, using=templates, people=found, q=q)

    @app.get("/people/{identity_id}", include_in_schema=False)
    def person_page(request: Request, identity_id: int) -> Response:
        user = page_user(request)
        gallery = services(request).platform.service("identities")
        person = gallery.get(identity_id)
        others = [p for p in gallery.list(limit=500) if p["id"] != identity_id]
        return render(request, "person.html", user, using=templates, person=person, others=others)

    async def _form(request: Request, action: str, identity_id: int) -> tuple[dict[str, str], Any]:
        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        audit.note(request, action, f"person:{identity_id}")
        return {k: str(v) for k, v in form.items()}, services(request).platform.service("identities")

    @app.post("/people/{identity_id}/name", include_in_schema=False)
    async def name_person(request: Request, identity_id: int) -> Response:
        form, gallery = await _form(request, "people.name", identity_id)
        await run_in_threadpool(gallery.rename, identity_id, form.get("name"))
        return RedirectResponse(f"/people/{identity_id}", status_code=303)

    @app.post("/people/{identity_id}/merge", include_in_schema=False)
    async def merge_person(request: Request, identity_id: int) -> Response:
        form, gallery = await _form(request, "people.merge", identity_id)
        other = form.get("other", "")
        await run_in_threadpool(gallery.merge, identity_id, [int(other)] if other.isdigit() else [])
        return RedirectResponse(f"/people/{identity_id}", status_code=303)

    @app.post("/people/{identity_id}/split", include_in_schema=False)
    async def split_person(request: Request, identity_id: int) -> Response:
        form, gallery = await _form(request, "people.split", identity_id)
        new = await run_in_threadpool(gallery.split, identity_id, form.get("video_id", ""), form.get("person_id", ""))
        return RedirectResponse(f"/people/{new['id']}", status_code=303)
