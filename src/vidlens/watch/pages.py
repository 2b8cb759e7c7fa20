"""Watch's pages: each camera's latest picture (refreshed by watch.js) and, for a camera restreamed
with ``live``, its low-latency HLS video; the event timeline with snapshots, clip playback, and review
(acknowledge / false positive), over the reads of ``/api/watch``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.deps import check_csrf, services
from vidlens.api.routes.watch import linked, recent
from vidlens.capability import NavItem
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Watch", "/watch", order=40)]


def install(app: FastAPI) -> None:
    @app.get("/watch", include_in_schema=False)
    def watch_page(request: Request, camera: str | None = None, type: str | None = None) -> Response:  # noqa: A002
        user = page_user(request)
        events = services(request).platform.service("watch_events")
        found = recent(events, camera or None, type or None, limit=200)
        cameras = events.cameras()
        live = [c for c in cameras if events.latest(c) is not None]
        stream = f"/api/watch/cameras/{camera}/live/master.m3u8" \
            if camera and events.live_file(camera, "master.m3u8") is not None else None
        return render(request, "watch.html", user, using=templates, events=found, cameras=cameras, live=live,
                      camera=camera or "", type=type or "", stream=stream)

    @app.get("/watch/events/{event_id}", include_in_schema=False)
    def event_page(request: Request, event_id: str) -> Response:
        user = page_user(request)
        ev = linked(services(request).platform.service("watch_events").get(event_id))
        return render(request, "watch_event.html", user, using=templates, ev=ev)

    @app.post("/watch/events/{event_id}/review", include_in_schema=False)
    async def review(request: Request, event_id: str) -> Response:
        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        verdict = str(form.get("review", "")) or None
        events = services(request).platform.service("watch_events")
        await run_in_threadpool(events.review, event_id, None if verdict == "none" else verdict)
        audit.note(request, "watch.review", f"watch_event:{event_id}", review=verdict)
        return RedirectResponse(f"/watch/events/{event_id}", status_code=303)

