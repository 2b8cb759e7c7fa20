"""Watch over HTTP: events (with their snapshot and clip), review, each camera's latest picture and its
low-latency HLS restream."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.errors import NotFoundError
from vidlens.watch.events import links

router = APIRouter(prefix="/api/watch", tags=["watch"])
EventType = Literal["object", "zone_enter", "zone_exit", "loiter", "line_cross", "watchlist", "camera_offline"]


class WatchEvent(BaseModel):
    id: str
    camera: str
    type: str
    label: str | None
    track_id: int | None
    start: float = Field(description="Seconds from the camera's stream start.")
    end: float | None
    zone: str | None
    line: str | None
    direction: str | None
    snapshot: str | None = Field(description="URL of the snapshot (JPEG, box drawn), if kept.")
    clip: str | None = Field(description="URL of the event clip (MP4), once cut.")
    review: str | None = None
    match: dict[str, Any] | None = Field(None, description="A watchlist event's match: source (humans or "
                                                           "watchlist), ref, score and the entry's reason.")


class WatchEvents(BaseModel):
    events: list[WatchEvent]


class Review(BaseModel):
    review: Literal["acknowledged", "false_positive"] | None = Field(description="None clears the review.")


def _events(svc: Services) -> Any:
    return svc.platform.service("watch_events")


def linked(ev: dict[str, Any]) -> dict[str, Any]:
    """The event with URLs in place of server paths."""
    return {**ev, **links(ev),
            "match": (ev.get("data") or {}).get("match") if ev["type"] == "watchlist" else None}


def recent(events: Any, camera: str | None = None, type_: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest events first, with URLs: what the API and the Watch page show."""
    return [linked(e) for e in events.list(camera=camera, type_=type_, limit=limit, newest_first=True, full=True)]


@router.get("/events", response_model=WatchEvents, summary="Stored events, newest first")
def list_events(camera: str | None = Query(None, max_length=64), type: EventType | None = None,  # noqa: A002
                limit: int = Query(200, ge=1, le=5000), _: Principal = Viewer,
                svc: Services = Depends(services)) -> dict[str, Any]:
    return {"events": recent(_events(svc), camera, type, limit)}


@router.get("/events/{event_id}", response_model=WatchEvent, responses=errors(404), summary="One event")
def get_event(event_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return linked(_events(svc).get(event_id))


@router.get("/events/{event_id}/snapshot.jpg", response_class=FileResponse, responses=errors(404),
            summary="The event's snapshot: the frame with the object's box drawn")
def snapshot(event_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    ev = _events(svc).get(event_id)
    if not ev["snapshot"]:
        raise NotFoundError(f"event {event_id} has no snapshot (none taken, or deleted by retention)")
    return FileResponse(ev["snapshot"], media_type="image/jpeg")


@router.get("/events/{event_id}/clip.mp4", response_class=FileResponse, responses=errors(404),
            summary="The event's clip with its pre- and post-roll (MP4, HTTP Range)")
def clip(event_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    ev = _events(svc).get(event_id)
    if not ev["clip"]:
        raise NotFoundError(f"event {event_id} has no clip (not cut yet, no recording, or deleted by retention)")
    return FileResponse(ev["clip"], media_type="video/mp4")


@router.post("/events/{event_id}/review", response_model=WatchEvent, responses=errors(400, 404),
             summary="Acknowledge an event or mark it a false positive")
def review(event_id: str, body: Review, request: Request, _: Principal = Reviewer,
           svc: Services = Depends(services)) -> dict[str, Any]:
    ev = _events(svc).review(event_id, body.review)
    audit.note(request, "watch.review", f"watch_event:{event_id}", review=body.review)
    return linked(ev)


@router.get("/cameras/{camera}/latest.jpg", response_class=FileResponse, responses=errors(404),
            summary="The camera's latest picture (refreshed about once a second while it is watched)")
def latest(camera: str, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    path = _events(svc).latest(camera)
    if path is None:
        raise NotFoundError(f"no picture of camera {camera!r} yet")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


LIVE_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".m4s": "video/iso.segment", ".mp4": "video/mp4",
              ".js": "text/javascript"}


@router.get("/cameras/{camera}/live/{name:path}", response_class=FileResponse, responses=errors(404),
            summary="The camera's low-latency HLS restream: master.m3u8, then its playlists and segments")
def live(camera: str, name: str, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    path = _events(svc).live_file(camera, name)
    if path is None:
        raise NotFoundError(f"camera {camera!r} has no live file {name!r} (live: true in its config, "
                            "while vidlens watch run runs)")
    cache = "no-store" if path.suffix == ".m3u8" else "max-age=60"
    return FileResponse(path, media_type=LIVE_TYPES[path.suffix], headers={"Cache-Control": cache})
