"""Jobs: list with progress (the jobs page polls this), one job, cancel, retry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.errors import public_details
from vidlens.jobs.queue import Job, JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def public_job(job: Job | dict[str, Any]) -> dict[str, Any]:
    """A job as API clients see it: its error's libav log, command and paths stay in the job table."""
    d = job.to_dict() if isinstance(job, Job) else dict(job)
    if d.get("error_detail"):
        d["error_detail"] = public_details(d["error_detail"])
    return d


@router.get("", summary="Jobs, newest first, with progress and errors")
def list_jobs(
    status: JobStatus | None = None,
    video_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    return {
        "jobs": [public_job(j) for j in svc.platform.jobs.list(status=status, limit=limit, video_id=video_id)]
    }


@router.get("/{job_id}", summary="One job")
def get_job(job_id: int, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return public_job(svc.platform.jobs.get(job_id))


@router.post("/{job_id}/cancel", summary="Cancel a queued job or ask a running one to stop",
             responses=errors(s409="The job has already ended"))
def cancel_job(
    job_id: int, request: Request, _: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    job = svc.platform.jobs.cancel(job_id)
    audit.note(request, "job.cancel", f"job:{job_id}")
    return public_job(job)


@router.post("/{job_id}/retry", summary="Queue a partial, failed or cancelled job again",
             responses=errors(s409="The job has not ended partial, failed or cancelled"))
def retry_job(
    job_id: int, request: Request, _: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    job = svc.platform.jobs.retry(job_id)
    audit.note(request, "job.retry", f"job:{job_id}")
    return public_job(job)
