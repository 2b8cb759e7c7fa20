"""The search page: moments as thumbnails on a timeline per video, camera events per camera with their
snapshot; a click plays the moment (or the event's clip) in the player.

It calls the same ``search`` service as ``GET /api/search``; grouping the hits by video is presentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from vidlens.api.deps import services
from vidlens.capability import NavItem
from vidlens.errors import VidLensError
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Search", "/search", order=20)]
PAGE_HITS = 60


def by_video(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hits grouped per video (camera events per camera), groups in the order of their best hit, moments in
    time order."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for rank, h in enumerate(hits, 1):
        camera = h["event"]["camera"] if h.get("event") else None
        key = ("camera", camera) if camera is not None else ("video", h["video_id"])
        g = groups.setdefault(key, {"video_id": h["video_id"], "camera": camera, "path": h["path"],
                                    "duration": h["duration"], "best": rank, "moments": []})
        g["moments"].append({**h, "rank": rank})
    for g in groups.values():
        g["moments"].sort(key=lambda m: (m["start"], m["rank"]))
    return list(groups.values())


def install(app: FastAPI) -> None:
    @app.get("/search", include_in_schema=False)
    def search_page(request: Request, q: str = "") -> HTMLResponse:
        user = page_user(request)
        result, error = None, None
        try:
            if q.strip():
                result = services(request).platform.service("search").search(q, limit=PAGE_HITS)
        except VidLensError as exc:
            error = str(exc)
        videos = by_video(result["hits"]) if result else []
        return render(request, "search.html", user, using=templates, q=q, result=result, videos=videos,
                      error=error)
