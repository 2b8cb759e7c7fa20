"""Find over HTTP: moments by words, meaning, picture and face; similar videos (the ``search`` capability)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api.auth import Principal
from vidlens.api.deps import Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.errors import UsageError

router = APIRouter(tags=["search"])
MAX_IMAGE_UPLOAD = 50 * 1024 * 1024


class Evidence(BaseModel):
    ranker: str = Field(description="words | meaning | picture | face: what found the moment")
    kind: str = Field(description="the moment's kind: speech, translation, text, object, person, tag, shot, frame, "
                                  "event (a camera event)")
    text: str = Field(description="the moment's text (transcript, on-screen text, label, tag ...)")
    rank: int = Field(description="its rank in that ranker's list (1 = best)")
    matched: list[str] | None = Field(None, description="query words it contains (words)")
    similarity: float | None = Field(None, description="cosine similarity (meaning, picture, face)")


class EventMoment(BaseModel):
    id: str = Field(description="the Watch event (GET /api/watch/events/{id})")
    camera: str
    at: float | None = Field(description="epoch seconds when the event was stored")
    type: str | None = Field(description="object, zone_enter, zone_exit, loiter, line_cross, watchlist, camera_offline")
    label: str | None
    track_id: int | None
    zone: str | None
    line: str | None
    direction: str | None
    snapshot: str | None = Field(description="URL of the event's snapshot (JPEG), if kept")
    clip: str | None = Field(description="URL of the event's clip (MP4), or of its track's clip; null before it is cut")


class SearchHit(BaseModel):
    video_id: str | None = Field(description="the library video; null for a camera event")
    path: str | None = Field(description="the file name the video was added under; null for a camera event")
    start: float = Field(description="seconds (of the video, or of the camera's stream for an event)")
    end: float = Field(description="seconds")
    score: float = Field(description="reciprocal rank fusion over the rankers that found it")
    evidence: list[Evidence]
    moment_id: int
    thumbnail_blob: str | None = Field(None, description="blob key of the shot's thumbnail (GET /api/blobs/{key})")
    duration: float | None = Field(description="the whole video's length, seconds (to place the moment on a "
                                               "timeline); null for a camera event")
    source: Literal["video", "event"] = Field("video", description="a moment of a library video or a camera event")
    event: EventMoment | None = Field(None, description="the camera event, for source event")


class SearchResult(BaseModel):
    hits: list[SearchHit]
    total: int = Field(description="candidates after filters (before paging)")
    next_offset: int | None = Field(None, description="offset of the next page; null on the last page")


class SharedMoment(BaseModel):
    start: float = Field(description="seconds in the query video")
    other_start: float
    other_end: float
    evidence: str = Field(description="picture | face")
    similarity: float


class SimilarVideo(BaseModel):
    video_id: str
    path: str | None
    score: float = Field(description="0..1: share of the query's frames and people found in it")
    shared: list[SharedMoment]


class SimilarResult(BaseModel):
    video_id: str
    videos: list[SimilarVideo]


class _FilterParams:
    """The filters of both search endpoints, as query parameters."""

    def __init__(self, person: str | None = Query(None, max_length=200), label: str | None = Query(None, max_length=128),
                 language: str | None = Query(None, max_length=16), added_after: float | None = None,
                 added_before: float | None = None, min_duration_s: float | None = Query(None, ge=0),
                 max_duration_s: float | None = Query(None, ge=0), video_id: str | None = Query(None, max_length=64),
                 source: Literal["video", "event"] | None = Query(
                     None, description="only moments of library videos, or only camera events"),
                 camera: str | None = Query(None, max_length=64, description="only events of this camera")):
        from vidlens.search.service import Filters

        self.value = Filters(person=person, label=label, language=language, added_after=added_after,
                             added_before=added_before, min_duration_s=min_duration_s,
                             max_duration_s=max_duration_s, video_id=video_id, source=source, camera=camera)


@router.get("/api/search", response_model=SearchResult, responses=errors(400),
            summary="Find moments by words and meaning (Chinese, English, mixed), with filters and pages")
def search(
    q: str = Query(..., min_length=1, max_length=1000, pattern=r"\S", description="words to find"),
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000),
    rankers: str | None = Query(None, max_length=100, pattern=r"^(words|meaning)(,(words|meaning))*$",
                                description="only these rankers: words, meaning (comma list)"),
    f: _FilterParams = Depends(),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    only = [r.strip() for r in rankers.split(",") if r.strip()] if rankers else None
    return svc.platform.service("search").search(q, filters=f.value, limit=limit, offset=offset, rankers=only)


@router.post("/api/search", response_model=SearchResult, responses=errors(400, 413, 415),
             summary="Find moments by a picture (keyframes and faces), optionally with words; body: the image")
async def search_image(
    request: Request,
    q: str = Query("", max_length=1000, description="optional words"),
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000),
    f: _FilterParams = Depends(),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_IMAGE_UPLOAD:
            raise UsageError(f"the query image is larger than {MAX_IMAGE_UPLOAD} bytes")
    return await run_in_threadpool(svc.platform.service("search").search, q, image=bytes(data), filters=f.value,
                                   limit=limit, offset=offset)


@router.get("/api/videos/{video_id}/similar", response_model=SimilarResult,
            summary="Library videos sharing pictures or people with this one, ranked, with the shared moments")
def similar(video_id: str, limit: int = Query(10, ge=1, le=200), _: Principal = Viewer,
            svc: Services = Depends(services)) -> dict[str, Any]:
    return svc.platform.service("search").similar(video_id, limit=limit)


class EventIn(BaseModel):
    user: str = Field(pattern=r"^[A-Za-z0-9._:@-]{1,128}$",
                      description="the viewer, as your application names them (not a VidLens account)")
    video_id: str = Field(max_length=64)
    kind: Literal["play", "like", "skip"] = Field(description="play (weight 1), like (3) or skip (-2)")
    at: float | None = Field(None, ge=0, strict=True, description="epoch seconds; default now")


class EventOut(BaseModel):
    id: int
    user: str
    video_id: str
    kind: str
    at: float


class Because(BaseModel):
    signal: str = Field(description="behaviour (co-occurrence) | content | popularity")
    value: float = Field(description="the signal, scaled 0..1 over the candidates")
    video_id: str | None = Field(None, description="the viewer's video it comes from (behaviour, content)")


class RecommendedVideo(BaseModel):
    video_id: str
    path: str | None
    score: float = Field(description="blend of the signals")
    because: list[Because]


class Recommendations(BaseModel):
    user: str
    cold_start: bool = Field(description="true when the viewer has no events yet (popularity only)")
    videos: list[RecommendedVideo]


@router.post("/api/events", response_model=EventOut, status_code=201, responses=errors(400, 404),
             summary="Record that a viewer played, liked or skipped a video (the behaviour of recommendations)")
def record_event(body: EventIn, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return svc.platform.service("recommend").record(body.user, body.video_id, body.kind, body.at)


@router.get("/api/recommendations", response_model=Recommendations, responses=errors(400),
            summary="Videos to watch next for a viewer: co-occurrence, content and popularity, no near duplicates")
def recommendations(user: str = Query(..., pattern=r"^[A-Za-z0-9._:@-]{1,128}$"),
                    limit: int = Query(10, ge=1, le=200), _: Principal = Viewer,
                    svc: Services = Depends(services)) -> dict[str, Any]:
    return svc.platform.service("recommend").recommend(user, limit=limit)
