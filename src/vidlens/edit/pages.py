"""The edit page: an edit job's decision list drawn as a timeline (kept and dropped, with reasons) and the
output in a player; the form on /edit queues a new edit through the API."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from vidlens.api.deps import services
from vidlens.capability import NavItem
from vidlens.ui.pages import _page_user, _render

nav = [NavItem("Edit", "/edit")]


def install(app: FastAPI) -> None:
    @app.get("/edit", include_in_schema=False)
    def edit_index(request: Request) -> HTMLResponse:
        user = _page_user(request)
        svc = services(request)
        jobs = [j for j in svc.platform.jobs.list(limit=500) if j.kind == "edit"][:50]
        videos = svc.platform.catalog.list_videos(limit=200)
        return _render(request, "edit.html", user, jobs=jobs, videos=videos, job=None, result=None)

    @app.get("/edit/{job_id}", include_in_schema=False)
    def edit_job_page(job_id: int, request: Request) -> HTMLResponse:
        from vidlens.edit.api import edit_job

        user = _page_user(request)
        job = edit_job(services(request), job_id)
        return _render(request, "edit.html", user, jobs=[], videos=[], job=job, result=job.result)
