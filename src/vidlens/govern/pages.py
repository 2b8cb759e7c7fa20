"""Govern's pages: each library video's AIGC label (read and verified), triage verdicts with their
evidence and the face watch-list, over the same reads as ``/api/govern``."""

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
        watch = platform.service("watchlist")
        seen: dict[str, list[tuple[str, object]]] = {}
        for vid, matches in watch.library().items():
            for m in matches:
                seen.setdefault(m.entry.id, []).append((vid, m))
        return render(request, "govern.html", user, using=templates, videos=rows,
                      verdicts=results.verdicts(platform.store, limit=200), watch=watch.list(), watch_seen=seen)

    @app.post("/govern/watchlist", include_in_schema=False)
    async def watch_add_page(request: Request) -> Response:
        from starlette.datastructures import UploadFile

        from vidlens.api.parts import saved_parts
        from vidlens.errors import UsageError

        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise UsageError("choose an image or a video of the face")
        platform = services(request).platform
        with saved_parts([upload], services(request).uploads.limit) as paths:
            await run_in_threadpool(platform.service("watchlist").add, paths[0], name=str(form.get("name", "")),
                                    reason=str(form.get("reason", "")), **audit.author(request, user, 303))
        audit.mark_recorded(request)
        return RedirectResponse("/govern#watchlist", status_code=303)

    @app.post("/govern/watchlist/{entry_id}/remove", include_in_schema=False)
    async def watch_remove_page(request: Request, entry_id: str) -> Response:
        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        await run_in_threadpool(services(request).platform.service("watchlist").remove, entry_id,
                                reason=str(form.get("reason", "")), **audit.author(request, user, 303))
        audit.mark_recorded(request)
        return RedirectResponse("/govern#watchlist", status_code=303)

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
