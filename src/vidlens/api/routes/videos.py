"""Videos: upload, list, details, the original file (with Range), the stored document, shots, results,
timeline. Everything about a video's analysis is read from its stored document (``Catalog.document``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from vidlens.analyze.views import timeline
from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import enum_of, errors
from vidlens.api.routes.jobs import public_job
from vidlens.api.uploads import receive_multipart
from vidlens.errors import NotFoundError, UsageError
from vidlens.media.formats import media_type

router = APIRouter(prefix="/api/videos", tags=["videos"])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The video file."}
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    summary="Upload a video (multipart field 'file'); analysis is queued",
    openapi_extra=_UPLOAD_BODY,
    responses=errors(s413="Larger than serve.max_upload_bytes", s415="Not multipart, or the file is not a video",
                     s422="The file is damaged or exceeds a media limit"),
)
async def upload_video(
    request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > svc.uploads.limit + 64 * 1024:
        from vidlens.api.uploads import UploadTooLargeError

        raise UploadTooLargeError(
            f"upload of {length} bytes exceeds the limit of {svc.uploads.limit} bytes "
            "(serve.max_upload_bytes)",
            details={"limit_bytes": svc.uploads.limit},
        )
    received = await receive_multipart(request.headers.get("content-type", ""), request.stream(), svc.uploads)
    assert received.partial is not None
    t0 = time.perf_counter()
    res = await run_in_threadpool(
        svc.uploads.finish,
        received.partial.path,
        received.partial.sha.hexdigest(),
        received.filename or "upload",
        principal,
    )
    assert res.video is not None
    audit.note(
        request, "video.upload", f"video:{res.video.id}", status=res.status, bytes=received.partial.size
    )
    return {
        "video_id": res.video.id,
        "status": res.status,
        "job_id": res.job_id,
        "title": (await run_in_threadpool(svc.platform.catalog.summary, res.video.id))["title"],
        "bytes": received.partial.size,
        "ingest_s": round(time.perf_counter() - t0, 3),
    }


@router.get("", summary="List videos, newest first, with title, thumbnail and analysis status")
def list_videos(
    q: str | None = Query(None, max_length=200, description="Substring of the title or file name"),
    min_duration_s: float | None = Query(None, ge=0),
    max_duration_s: float | None = Query(None, ge=0),
    status: Literal["none", "queued", "analysing", "analysed", "partial", "failed"] | None = Query(
        None, description="Analysis status; partial: some analyzers failed (see `failed`)"
    ),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    return {
        "videos": svc.platform.catalog.list_videos(
            q=q,
            min_duration_s=min_duration_s,
            max_duration_s=max_duration_s,
            status=status,
            limit=limit,
            offset=offset,
        )
    }


@router.get("/{video_id}", summary="One video: probe, title, analysis status, analyzers, jobs")
def get_video(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    detail = svc.platform.catalog.detail(video_id)
    detail["uploaded_by"] = svc.uploads.uploaded_by(detail["id"])
    detail["jobs"] = [public_job(j) for j in detail["jobs"]]
    return detail


@router.get("/{video_id}/document", summary="The stored analysis document (docs/formats.md)")
def get_document(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    video = svc.platform.catalog.get_video(video_id)
    doc = svc.platform.catalog.document(video.id)
    if doc is None:
        raise NotFoundError(f"video {video.id[:12]} has not been analysed yet")
    return {**doc, "video": {k: v for k, v in doc.get("video", {}).items() if k != "uri"}}  # no server path


@router.get(
    "/{video_id}/file",
    summary="The original file; supports HTTP Range so players can seek",
    response_class=FileResponse,
    responses=errors(s400="Malformed Range header", s416="Range not satisfiable"),
)
def video_file(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    video = svc.platform.catalog.get_video(video_id)
    path = Path(video.uri)
    if not path.is_file():
        raise NotFoundError(f"the file of video {video.id[:12]} is no longer on disk")
    return FileResponse(path, media_type=media_type(video)[1], headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{video_id}/shots", summary="Shots with times, keyframe and thumbnail blob keys")
def get_shots(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    video = svc.platform.catalog.get_video(video_id)
    return {"video_id": video.id, "shots": (svc.platform.catalog.document(video.id) or {}).get("shots", [])}


@router.get("/{video_id}/results", summary="Analyzers with a stored result for this video")
def list_results(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    video = svc.platform.catalog.get_video(video_id)
    rows = svc.platform.catalog.results(video.id)
    return {
        "video_id": video.id,
        "results": [
            {k: r[k] for k in ("analyzer", "version", "status", "created_at", "error")} for r in rows.values()
        ],
    }


@router.get("/{video_id}/results/{analyzer}", summary="The newest result document of one analyzer")
def get_result(
    video_id: str, analyzer: str, _: Principal = Viewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    video = svc.platform.catalog.get_video(video_id)
    row = svc.platform.catalog.result(video.id, analyzer)
    if row is None:
        raise NotFoundError(f"no '{analyzer}' result for video {video.id[:12]}")
    return {
        k: row[k]
        for k in ("video_id", "analyzer", "version", "config_hash", "status", "created_at", "error", "data")
    }


@router.get("/{video_id}/timeline", summary="Shots and a lane of time-stamped items per analyzer and section")
def get_timeline(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    video = svc.platform.catalog.get_video(video_id)
    doc = svc.platform.catalog.document(video.id)
    if doc is None:
        return {"video_id": video.id, "duration_s": video.duration_s, "shots": [], "tracks": []}
    return timeline(doc)


@router.post("/{video_id}/analyze", status_code=202, responses=errors(s400="Unknown analyzer"),
             summary="Queue analysis again (all or named analyzers); merged into the video's queued analysis")
def reanalyze(
    video_id: str,
    request: Request,
    analyzers: list[str] | None = Query(None, json_schema_extra=enum_of("analyzer")),
    principal: Principal = Reviewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    video = svc.platform.catalog.get_video(video_id)
    known = {p.manifest.name for p in svc.platform.plugins.of_kind("analyzer")}
    unknown = sorted(set(analyzers or []) - known)
    if unknown:
        raise UsageError(f"unknown analyzer(s) {', '.join(unknown)}; installed: {', '.join(sorted(known))}")
    job = svc.platform.catalog.queue_analysis(video.id, analyzers or None)
    audit.note(request, "video.analyze", f"video:{video.id}", job_id=job.id, analyzers=analyzers)
    return public_job(job)
