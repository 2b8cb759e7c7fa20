"""HTTP API of the edit capability: queue an edit job, follow it, read its decision list, fetch its output."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.edit.options import EditRequest
from vidlens.errors import ConflictError, NotFoundError
from vidlens.jobs.queue import SUCCEEDED, Job, JobStatus

router = APIRouter(prefix="/api/edits", tags=["edit"])

_ERRORS = errors(s400="Invalid options", s404="No such video, or no edit job with this id")
_NOT_FOUND = errors(s404="No edit job with this id")
_NOT_DONE = errors(s404="No edit job with this id",
                   s409="The job has not succeeded (yet): queued, running, partial, failed or cancelled")


class EditJob(BaseModel):
    """An edit job as the API shows it: where it stands and, once done, where its result is."""

    job_id: int
    video_id: str | None
    status: JobStatus
    progress: float = Field(..., ge=0, le=1)
    stage: str | None = Field(None, description="What the job is doing now (analysis, dub, render...)")
    error: str | None = None
    output_url: str | None = None
    decisions_url: str | None = None
    page_url: str

    @classmethod
    def of(cls, job: Job) -> EditJob:
        done = job.status == SUCCEEDED
        return cls(job_id=job.id, video_id=job.video_id, status=job.status, progress=job.progress,
                   stage=job.progress_message, error=_headline(job.error_message),
                   output_url=f"/api/edits/{job.id}/output" if done else None,
                   decisions_url=f"/api/edits/{job.id}/decisions" if done else None, page_url=f"/edit/{job.id}")


def _headline(message: str | None) -> str | None:
    """A failure's first line: a render error goes on with FFmpeg's log (server paths), kept out of the API."""
    return message.split("\n", 1)[0] if message else message


def edit_job(svc: Services, job_id: int) -> Job:
    job = svc.platform.jobs.get(job_id)
    if job.kind != "edit":
        raise NotFoundError(f"job {job_id} is not an edit job")
    return job


def finished(svc: Services, job_id: int) -> Job:
    job = edit_job(svc, job_id)
    if job.status != SUCCEEDED or not job.result:
        raise ConflictError(f"edit job {job_id} is {job.status}, not finished", details={"status": job.status})
    return job


@router.post("", status_code=202, summary="Queue an edit of a library video", response_model=EditJob,
             responses=_ERRORS)
def create_edit(body: EditRequest, request: Request, principal: Principal = Reviewer,
                svc: Services = Depends(services)) -> EditJob:
    video = svc.platform.catalog.get_video(body.video_id)
    body.options(svc.platform.settings.edit)  # type: ignore[attr-defined]  # settings errors now, not in the worker
    job = svc.platform.jobs.enqueue("edit", {**body.payload(), "video_id": video.id}, video_id=video.id)
    audit.note(request, "edit.create", f"video:{video.id}", job_id=job.id)
    return EditJob.of(job)


@router.get("/{job_id}", summary="An edit job: status, progress, links to its result", response_model=EditJob,
            responses=_NOT_FOUND)
def get_edit(job_id: int, _: Principal = Viewer, svc: Services = Depends(services)) -> EditJob:
    return EditJob.of(edit_job(svc, job_id))


@router.get("/{job_id}/decisions", summary="The decision list and what the edit applied (loudness, labels, dub)",
            responses=_NOT_DONE)
def get_decisions(job_id: int, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return dict(finished(svc, job_id).result or {})


@router.get("/{job_id}/output", summary="The edited video (MP4)", response_class=FileResponse,
            responses={**_NOT_DONE, **errors(s400="Malformed Range header", s416="Range not satisfiable"),
                       200: {"content": {"video/mp4": {}}}})
def get_output(job_id: int, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    from vidlens.edit.steps import output_path

    job = finished(svc, job_id)
    path = output_path(svc.platform, job.id)
    if not path.is_file():
        raise NotFoundError(f"the output of edit job {job_id} is no longer on disk")
    return FileResponse(path, media_type="video/mp4", filename=path.name)
