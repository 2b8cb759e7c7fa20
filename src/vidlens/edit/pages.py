"""The edit page: an edit job's decision list drawn as a timeline (kept and dropped, with reasons) and the
output in a player; the form on /edit queues a new edit through the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from vidlens.api.deps import services
from vidlens.capability import NavItem
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Edit", "/edit", order=45)]


def install(app: FastAPI) -> None:
    @app.get("/edit", include_in_schema=False)
    def edit_index(request: Request) -> HTMLResponse:
        user = page_user(request)
        svc = services(request)
        jobs = [j for j in svc.platform.jobs.list(limit=500) if j.kind == "edit"][:50]
        videos = svc.platform.catalog.list_videos(limit=200)
        return render(request, "edit.html", user, using=templates, jobs=jobs, videos=videos, job=None, result=None)

    @app.get("/edit/{job_id}", include_in_schema=False)
    def edit_job_page(job_id: int, request: Request) -> HTMLResponse:
        from vidlens.edit.api import edit_job

        user = page_user(request)
        job = edit_job(services(request), job_id)
        return render(request, "edit.html", user, using=templates, jobs=[], videos=[], job=job, result=job.result)
