"""Govern over HTTP: AIGC label read/verify results of library videos, and triage verdicts with evidence."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.bounds import INT64_MAX
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.govern import results

router = APIRouter(prefix="/api/govern", tags=["govern"])
NOT_FOUND = errors(s404="No such video or verdict")


class LabelCheck(BaseModel):
    role: str = Field(description="producer | propagator")
    status: str = Field(description="valid, absent, invalid, unknown_key ...")
    key_id: str | None


class LabelResult(BaseModel):
    video_id: str
    supported: bool = Field(description="False when no label codec reads this container (see message)")
    message: str | None
    found: bool
    format: str | None
    label: dict[str, str | None] | None = Field(description="The seven GB 45438-2025 Annex E fields")
    problems: list[dict[str, Any]]
    verified: bool = Field(description="Every signature present is valid for this content")
    checks: list[LabelCheck]
    content_hash: str | None


class LabelSummary(BaseModel):
    video_id: str
    title: str
    supported: bool
    found: bool
    value: str | None = Field(description="Label: 1 AI-generated, 2 possibly, 3 suspected")
    message: str | None


class LabelList(BaseModel):
    labels: list[LabelSummary]


class Verdict(BaseModel):
    seq: int = Field(description="Audit-log entry")
    at: float
    subject_name: str
    video_id: str | None
    verdict: str | None = Field(description="confirmed | possibly | suspected | none")
    label: str | None
    evidence: list[dict[str, Any]]
    hash: str


class VerdictList(BaseModel):
    verdicts: list[Verdict]


class TriageRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    declared_ai: bool = Field(False, description="The uploader declared the content AI-generated")


@router.get("/labels", response_model=LabelList, summary="Library videos and the implicit AIGC label each carries")
def list_labels(limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=INT64_MAX),
                _: Principal = Viewer, svc: Services = Depends(services)) -> LabelList:
    catalog = svc.platform.catalog
    out = []
    for v in catalog.list_videos(limit=limit, offset=offset):
        out.append(LabelSummary(video_id=v["id"], title=v["title"], **results.label_summary(catalog.get_video(v["id"]))))
    return LabelList(labels=out)


@router.get("/labels/{video_id}", response_model=LabelResult, responses=NOT_FOUND,
            summary="Read a video's implicit AIGC label and verify its signatures")
def get_label(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> LabelResult:
    video = svc.platform.catalog.get_video(video_id)
    return LabelResult(**results.label_result(video, svc.platform.data_dir))


@router.get("/triage", response_model=VerdictList, summary="Triage verdicts, newest first, with their evidence")
def list_verdicts(video_id: str | None = Query(None, max_length=64), limit: int = Query(100, ge=1, le=500),
                  _: Principal = Viewer, svc: Services = Depends(services)) -> VerdictList:
    return VerdictList(verdicts=results.verdicts(svc.platform.store, video_id=video_id, limit=limit))


@router.get("/triage/{seq}", response_model=Verdict, responses=NOT_FOUND, summary="One triage verdict")
def get_verdict(seq: int = Path(..., ge=1, le=INT64_MAX), _: Principal = Viewer,
                svc: Services = Depends(services)) -> Verdict:
    return Verdict(**results.verdict(svc.platform.store, seq))


@router.post("/videos/{video_id}/triage", response_model=Verdict, status_code=201, responses=NOT_FOUND,
             summary="Triage a library video (label, declaration, C2PA and watermark traces; no OCR); "
                     "the verdict is kept in the audit log")
async def triage_video(video_id: str, request: Request, body: TriageRequest | None = None,
                       who: Principal = Reviewer, svc: Services = Depends(services)) -> Verdict:
    from pathlib import Path as FsPath

    from vidlens.govern.triage import triage

    video = svc.platform.catalog.get_video(video_id)
    declared = bool(body and body.declared_ai)
    found = await run_in_threadpool(triage, FsPath(video.uri), declared_ai=declared)
    entry = await run_in_threadpool(audit.decide, svc.platform.store, request, who, results.TRIAGE,
                                    f"video:{video.id}", found, 201)
    return Verdict(**results.verdict(svc.platform.store, entry["seq"]))
