"""Resumable uploads for large files: create, send chunks with Content-Range, complete.

A client that loses its connection asks ``GET /api/uploads/{id}`` for ``offset`` and
continues from there; a chunk that does not start at ``offset`` is refused (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, services

router = APIRouter(prefix="/api/uploads", tags=["uploads"])


class UploadCreate(BaseModel):
    filename: str = Field(..., min_length=1, max_length=1024, description="Client file name (display only).")
    size: int = Field(..., gt=0, description="Total size in bytes.")


@router.post(
    "",
    status_code=201,
    summary="Start a resumable upload",
    responses={413: {"description": "Larger than serve.max_upload_bytes"}},
)
def create_upload(
    body: UploadCreate, request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    up = svc.uploads.create(principal, body.filename, body.size)
    audit.note(request, "upload.create", f"upload:{up['id']}", size=body.size)
    return up


@router.get("/{upload_id}", summary="State of an upload; 'offset' is where the next chunk starts")
def get_upload(
    upload_id: str, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    return svc.uploads.get(upload_id, principal)


@router.put(
    "/{upload_id}",
    summary="Send one chunk (raw body) with 'Content-Range: bytes START-END/TOTAL'",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={409: {"description": "Chunk does not start at the current offset"}},
)
async def put_chunk(
    upload_id: str,
    request: Request,
    content_range: str | None = Header(None),
    principal: Principal = Reviewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    up = await svc.uploads.put_chunk(upload_id, principal, content_range, request.stream())
    audit.note(request, "upload.chunk", f"upload:{upload_id}", content_range=content_range)
    return up


@router.post("/{upload_id}/complete", status_code=201, summary="Finish: verify, ingest and queue analysis")
async def complete_upload(
    upload_id: str, request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    up, res = await run_in_threadpool(svc.uploads.complete, upload_id, principal)
    assert res.video is not None
    audit.note(request, "upload.complete", f"video:{res.video.id}", upload=upload_id, status=res.status)
    return {"upload": up, "video_id": res.video.id, "status": res.status, "job_id": res.job_id}


@router.delete("/{upload_id}", summary="Abandon an upload and delete its bytes")
def abort_upload(
    upload_id: str, request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    up = svc.uploads.abort(upload_id, principal)
    audit.note(request, "upload.abort", f"upload:{upload_id}")
    return up
