"""Govern's pages: each library video's AIGC label (read and verified) and triage verdicts with their
evidence, over the same reads as ``/api/govern``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.deps import check_csrf, services
from vidlens.capability import NavItem
from vidlens.govern import results
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Govern", "/govern", order=60)]


def install(app: FastAPI) -> None:
    @app.get("/govern", include_in_schema=False)
    def govern_page(request: Request) -> Response:
        user = page_user(request)
        platform = services(request).platform
        rows = []
        for v in platform.catalog.list_videos(limit=200):
            rows.append({**v, "label": results.label_summary(platform.catalog.get_video(v["id"]))})
        return render(request, "govern.html", user, using=templates, videos=rows,
                      verdicts=results.verdicts(platform.store, limit=200))

    @app.get("/govern/labels/{video_id}", include_in_schema=False)
    def label_page(request: Request, video_id: str) -> Response:
        user = page_user(request)
        platform = services(request).platform
        video = platform.catalog.get_video(video_id)
        return render(request, "label.html", user, using=templates, video=platform.catalog.summary(video.id),
                      result=results.label_result(video, platform.data_dir),
                      verdicts=results.verdicts(platform.store, video_id=video.id, limit=20))

    @app.get("/govern/triage/{seq}", include_in_schema=False)
    def verdict_page(request: Request, seq: int) -> Response:
        user = page_user(request)
        return render(request, "verdict.html", user, using=templates,
                      v=results.verdict(services(request).platform.store, seq))

    @app.post("/govern/labels/{video_id}/triage", include_in_schema=False)
    async def triage_page(request: Request, video_id: str) -> Response:
        from vidlens.govern.triage import triage

        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        platform = services(request).platform
        video = platform.catalog.get_video(video_id)
        found = await run_in_threadpool(triage, Path(video.uri), declared_ai=form.get("declared_ai") == "1")
        entry = await run_in_threadpool(audit.decide, platform.store, request, user, results.TRIAGE,
                                        f"video:{video.id}", found, 303)
        return RedirectResponse(f"/govern/triage/{entry['seq']}", status_code=303)
