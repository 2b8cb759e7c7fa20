"""Resumable uploads for large files: create, send chunks with Content-Range, complete.

A client that loses its connection asks ``GET /api/uploads/{id}`` for ``offset`` and
continues from there; a chunk that does not start at ``offset`` is refused (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, services
from vidlens.api.openapi import errors

router = APIRouter(prefix="/api/uploads", tags=["uploads"])


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer: 100 and 100.0, never true or "100"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class UploadCreate(BaseModel):
    model_config = ConfigDict(strict=True)
    filename: str = Field(..., min_length=1, max_length=1024, description="Client file name (display only).")
    size: JsonInt = Field(..., gt=0, description="Total size in bytes.")


@router.post(
    "",
    status_code=201,
    summary="Start a resumable upload",
    responses=errors(s409="Too many open uploads (serve.max_open_uploads_per_user)",
                     s413="Larger than serve.max_upload_bytes"),
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
    responses=errors(s400="Missing or malformed Content-Range", s409="Chunk does not start at the current offset, "
                     "or the upload is not open"),
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


@router.post("/{upload_id}/complete", status_code=201, summary="Finish: verify, ingest and queue analysis",
             responses=errors(s409="Not all bytes received, or not open", s413="Exceeds a media limit",
                              s415="Not a video", s422="Damaged media"))
async def complete_upload(
    upload_id: str, request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    up, res = await run_in_threadpool(svc.uploads.complete, upload_id, principal)
    assert res.video is not None
    audit.note(request, "upload.complete", f"video:{res.video.id}", upload=upload_id, status=res.status)
    return {"upload": up, "video_id": res.video.id, "status": res.status, "job_id": res.job_id}


@router.delete("/{upload_id}", summary="Abandon an upload and delete its bytes",
             responses=errors(s409="The upload is not open"))
def abort_upload(
    upload_id: str, request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    up = svc.uploads.abort(upload_id, principal)
    audit.note(request, "upload.abort", f"upload:{upload_id}")
    return up
