"""Protect over HTTP: registered works with their signed certificates, and stored match results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from vidlens.api.auth import Principal
from vidlens.api.bounds import INT64_MAX
from vidlens.api.deps import Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.protect import results

router = APIRouter(prefix="/api/protect", tags=["protect"])
NOT_FOUND = errors(s404="No such work or match")


class WorkOut(BaseModel):
    work_id: str
    content_sha256: str
    owner: str
    title: str
    licence: str | None
    policy: str = Field(description="What a match means: track, block, allow ...")
    status: str = Field(description="active | removed")
    duration_s: float
    source_name: str
    fingerprint_digest: str
    ledger_seq: int
    registered_at: str
    has_audio_fingerprint: bool
    has_visual_fingerprint: bool


class CertificateCheck(BaseModel):
    valid: bool
    message: str


class WorkDetail(WorkOut):
    certificate: dict[str, Any] = Field(description="The signed certificate (verify offline: vidlens certificate verify)")
    certificate_check: CertificateCheck


class WorkList(BaseModel):
    works: list[WorkOut]


class MatchOut(BaseModel):
    id: int
    work_id: str
    work_title: str | None
    work_owner: str | None
    work_duration_s: float | None
    work_sha256: str | None
    query_sha256: str = Field(description="Content hash of the file matched (its video id, when in the library)")
    query_name: str
    query_title: str | None
    query_video_id: str | None = Field(description="The library video that was matched, when the library holds it")
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    score: float
    kind: str = Field(description="visual | audio | visual+audio")
    decision: str
    hints: dict[str, Any]
    created_at: float


class MatchList(BaseModel):
    matches: list[MatchOut]


def _registry(svc: Services) -> Any:
    from vidlens.protect.registry import Registry

    return Registry(svc.platform)


@router.get("/works", response_model=WorkList, summary="Registered works, newest first")
def list_works(include_removed: bool = Query(False), _: Principal = Viewer,
               svc: Services = Depends(services)) -> WorkList:
    works = _registry(svc).list(include_removed=include_removed)
    return WorkList(works=[results.public_work(w) for w in works])


@router.get("/works/{work_id}", response_model=WorkDetail, responses=NOT_FOUND,
            summary="One work with its signed certificate, checked against this registry's key")
def get_work(work_id: str = Path(..., min_length=1, max_length=64), _: Principal = Viewer,
             svc: Services = Depends(services)) -> WorkDetail:
    return WorkDetail(**results.work_with_certificate(_registry(svc), work_id))


@router.get("/matches", response_model=MatchList, summary="Stored match results (vidlens match), newest first")
def list_matches(
    work_id: str | None = Query(None, max_length=64),
    video_id: str | None = Query(None, max_length=64, description="Matches found in this library video"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=INT64_MAX),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> MatchList:
    found = results.list_matches(_registry(svc), work_id=work_id, query_sha256=video_id, limit=limit, offset=offset)
    return MatchList(matches=found)


@router.get("/matches/{match_id}", response_model=MatchOut, responses=NOT_FOUND,
            summary="One match: score, the copied span in the query and where it comes from in the work")
def get_match(match_id: int = Path(..., ge=1, le=INT64_MAX), _: Principal = Viewer,
              svc: Services = Depends(services)) -> MatchOut:
    return MatchOut(**results.get_match(_registry(svc), match_id))
