"""The face watch-list over HTTP: list, add (multipart face file), remove, scan a file or library video,
and the analysed library's listed faces. Each change is written to the audit chain in the same
transaction as the list, with the account that made it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.api.parts import saved_parts
from vidlens.errors import UsageError

router = APIRouter(prefix="/api/govern/watchlist", tags=["govern"])


class WatchEntryOut(BaseModel):
    entry_id: str
    name: str
    reason: str
    source_name: str
    source_sha256: str
    faces: int = Field(description="Face embeddings kept from the file")
    added_at: float
    added_by: str | None
    audit_seq: int = Field(description="The audit-log entry that added it")


class WatchEntries(BaseModel):
    entries: list[WatchEntryOut]


class WatchMatchOut(BaseModel):
    entry: str
    name: str
    start: float = Field(description="Seconds")
    end: float
    score: float = Field(description="SFace cosine similarity of the best listed sample")


class WatchMatches(BaseModel):
    matches: list[WatchMatchOut]


class VideoWatchMatches(BaseModel):
    video_id: str
    matches: list[WatchMatchOut]


class LibraryWatchMatches(BaseModel):
    videos: list[VideoWatchMatches]


class Removal(BaseModel):
    reason: str = Field(..., min_length=1, max_length=4000, description="Why; kept in the audit log.")


@router.get("", response_model=WatchEntries, summary="The listed faces")
def list_entries(_: Principal = Viewer, svc: Services = Depends(services)) -> WatchEntries:
    return WatchEntries(entries=[WatchEntryOut(**e.to_dict()) for e in svc.platform.service("watchlist").list()])


@router.post("", response_model=WatchEntryOut, status_code=201, responses=errors(400, 409, 413, 415),
             summary="Put a face on the watch-list (an image or a video of the one person)")
async def add_entry(request: Request, file: UploadFile = File(..., description="Image or video of the face."),
                    name: str = Form(..., min_length=1, max_length=500),
                    reason: str = Form(..., min_length=1, max_length=4000, description="Kept in the audit log."),
                    who: Principal = Reviewer, svc: Services = Depends(services)) -> WatchEntryOut:
    with saved_parts([file], svc.uploads.limit) as paths:
        entry = await run_in_threadpool(svc.platform.service("watchlist").add, paths[0], name=name, reason=reason,
                                        **audit.author(request, who, 201))
    audit.mark_recorded(request)
    return WatchEntryOut(**entry.to_dict())


@router.post("/{entry_id}/remove", response_model=WatchEntryOut, responses=errors(400, 404),
             summary="Take a face off the watch-list (the audit log keeps its history)")
def remove_entry(entry_id: str, body: Removal, request: Request, who: Principal = Reviewer,
                 svc: Services = Depends(services)) -> WatchEntryOut:
    entry = svc.platform.service("watchlist").remove(entry_id, reason=body.reason, **audit.author(request, who, 200))
    audit.mark_recorded(request)
    return WatchEntryOut(**entry.to_dict())


@router.post("/scan", response_model=WatchMatches, responses=errors(400, 404, 413, 415),
             summary="Where listed faces are seen in an uploaded file (field 'file') or a library video")
async def scan(file: UploadFile | None = File(None, description="A video or image."),
               video_id: str | None = Form(None, max_length=64, description="Or a video of the library."),
               _: Principal = Viewer, svc: Services = Depends(services)) -> WatchMatches:
    watch = svc.platform.service("watchlist")
    if (file is None) == (video_id is None):
        raise UsageError("send either a file or a video_id")
    if video_id is not None:
        found = await run_in_threadpool(watch.scan, svc.platform.catalog.get_video(video_id).uri)
    else:
        assert file is not None
        with saved_parts([file], svc.uploads.limit) as paths:
            found = await run_in_threadpool(watch.scan, paths[0])
    return WatchMatches(matches=[WatchMatchOut(**m.to_dict()) for m in found])


@router.get("/library", response_model=LibraryWatchMatches,
            summary="Listed faces in the analysed library and uploads (from stored faces, no decoding)")
def library(video_id: str | None = None, _: Principal = Viewer,
            svc: Services = Depends(services)) -> LibraryWatchMatches:
    found = svc.platform.service("watchlist").library(video_id)
    return LibraryWatchMatches(videos=[VideoWatchMatches(video_id=v, matches=[WatchMatchOut(**m.to_dict())
                                                                              for m in ms])
                                       for v, ms in found.items()])
