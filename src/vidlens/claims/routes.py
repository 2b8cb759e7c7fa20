"""Claims over HTTP: policies per work or digital human, claiming a library video, the claims and their
disputes. A dispute is the uploader's (or a reviewer's); upholding and releasing are a reviewer's,
acting for the owner. Every step is written to the audit chain in the transaction that makes it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api import convertors  # noqa: F401  (the "hexid" route convertor)
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.errors import PermissionDeniedError

router = APIRouter(prefix="/api/claims", tags=["claims"])


def _kind() -> Any:
    return Path(..., pattern="^(work|human)$", description="work or human")


def _id() -> Any:
    """An id or a unique prefix of at least 6 hex digits (each parameter needs its own instance)."""
    return Path(..., pattern="^[0-9a-f]{6,32}$")


class SegmentOut(BaseModel):
    kind: str = Field(description="visual, audio or visual+audio (a work); face or voice (a digital human)")
    start: float = Field(description="Seconds into the claimed media")
    end: float
    score: float


class Claim(BaseModel):
    claim_id: str
    subject_kind: str = Field(description="work | human")
    subject_id: str
    subject_name: str
    owner: str
    media_sha256: str
    media_name: str
    video_id: str | None
    uploader: str
    segments: list[SegmentOut]
    action: str = Field(description="block | monetise | track: the policy when the claim was made")
    status: str = Field(description="active | disputed | upheld | released")
    created_at: str = Field(description="ISO 8601 UTC")
    dispute_by: str = Field(description="The uploader may dispute until then")
    dispute_reason: str | None
    disputed_at: str | None
    respond_by: str | None = Field(description="The owner answers a dispute until then, else it is released")
    resolution: str | None
    resolved_at: str | None
    resolved_by: str | None


class ClaimList(BaseModel):
    claims: list[Claim]


class PolicyOut(BaseModel):
    subject_kind: str
    subject_id: str
    action: str
    allow_uploaders: list[str]
    set_at: float | None = Field(description="None: the default (a work's registered policy; track for a human)")
    set_by: str | None


class PolicyIn(BaseModel):
    model_config = ConfigDict(strict=True)

    action: str = Field(..., pattern="^(block|monetise|track)$")
    allow_uploaders: list[str] = Field(default_factory=list, max_length=1000,
                                       description="Uploaders never claimed for this subject")


class ClaimVideo(BaseModel):
    model_config = ConfigDict(strict=True)

    video_id: str = Field(..., min_length=1, max_length=64)
    uploader: str | None = Field(None, min_length=1, max_length=200, description="Default: the caller")
    use: str | None = Field(None, max_length=64, description="Checked against digital humans' consent")
    territory: str | None = Field(None, min_length=2, max_length=2)


class ClaimReason(BaseModel):
    model_config = ConfigDict(strict=True)

    reason: str = Field(..., min_length=1, max_length=4000, description="Why; kept in the audit log.")


def _book(svc: Services) -> Any:
    return svc.platform.service("claims")


def _subject(svc: Services, kind: str, subject_id: str) -> Any:
    from vidlens.claims.scan import subject
    from vidlens.protect.registry import Registry

    return subject(kind, subject_id, Registry(svc.platform), svc.platform.service("humans"))


@router.get("", response_model=ClaimList, summary="Claims, newest first (expired disputes resolved first)")
def list_claims(status: str | None = Query(None, pattern="^(active|disputed|upheld|released)$"),
                uploader: str | None = Query(None, max_length=200), subject_id: str | None = Query(None, max_length=32),
                limit: int = Query(200, ge=1, le=1000), _: Principal = Viewer,
                svc: Services = Depends(services)) -> ClaimList:
    return ClaimList(claims=_book(svc).list(status=status, uploader=uploader, subject_id=subject_id, limit=limit))


@router.post("/scan", response_model=ClaimList, status_code=201, responses=errors(400, 404, 415),
             summary="Match a library video against registered works and digital humans; claim it for each found")
async def claim_video(body: ClaimVideo, request: Request, who: Principal = Reviewer,
                      svc: Services = Depends(services)) -> ClaimList:
    from vidlens.claims.scan import claim_media
    from vidlens.humans.scan import Scanner
    from vidlens.protect.matcher import Matcher
    from vidlens.protect.registry import Registry

    p = svc.platform
    video = p.catalog.get_video(body.video_id)
    found = await run_in_threadpool(
        lambda: claim_media(_book(svc), Matcher(Registry(p)), Scanner(p.service("humans")), video.uri,
                            uploader=body.uploader or who.name, video_id=video.id, use=body.use,
                            territory=body.territory, **audit.author(request, who, 201)))
    audit.mark_recorded(request)
    return ClaimList(claims=found)


@router.get("/policies/{kind}/{subject_id}", response_model=PolicyOut, responses=errors(404),
            summary="A work's or digital human's claim policy")
def get_policy(kind: str = _kind(), subject_id: str = _id(), _: Principal = Viewer,
               svc: Services = Depends(services)) -> PolicyOut:
    return PolicyOut(**_book(svc).policy(_subject(svc, kind, subject_id)).to_dict())


@router.put("/policies/{kind}/{subject_id}", response_model=PolicyOut, responses=errors(400, 404),
            summary="Set a work's or digital human's claim policy (applies to claims made from now on)")
def set_policy(body: PolicyIn, request: Request, kind: str = _kind(), subject_id: str = _id(),
               who: Principal = Reviewer, svc: Services = Depends(services)) -> PolicyOut:
    found = _book(svc).set_policy(_subject(svc, kind, subject_id), body.action, body.allow_uploaders,
                                  **audit.author(request, who, 200))
    audit.mark_recorded(request)
    return PolicyOut(**found.to_dict())


@router.get("/{claim_id:hexid}", response_model=Claim, responses=errors(404), summary="One claim")
def get_claim(claim_id: str = _id(), _: Principal = Viewer, svc: Services = Depends(services)) -> Claim:
    return Claim(**_book(svc).get(claim_id))


@router.post("/{claim_id:hexid}/dispute", response_model=Claim, responses=errors(400, 404, 409),
             summary="The uploader contests an active claim before its dispute deadline")
def dispute(body: ClaimReason, request: Request, claim_id: str = _id(), who: Principal = Viewer,
            svc: Services = Depends(services)) -> Claim:
    book = _book(svc)
    if not who.has("reviewer") and book.get(claim_id)["uploader"] != who.name:
        raise PermissionDeniedError("only the claimed media's uploader (or a reviewer) may dispute this claim")
    found = book.dispute(claim_id, body.reason, **audit.author(request, who, 200))
    audit.mark_recorded(request)
    return Claim(**found)


@router.post("/{claim_id:hexid}/uphold", response_model=Claim, responses=errors(400, 404, 409),
             summary="The owner keeps a disputed claim (before the answer deadline)")
def uphold(body: ClaimReason, request: Request, claim_id: str = _id(), who: Principal = Reviewer,
           svc: Services = Depends(services)) -> Claim:
    found = _book(svc).uphold(claim_id, body.reason, **audit.author(request, who, 200))
    audit.mark_recorded(request)
    return Claim(**found)


@router.post("/{claim_id:hexid}/release", response_model=Claim, responses=errors(400, 404, 409),
             summary="The owner releases an active or disputed claim")
def release(body: ClaimReason, request: Request, claim_id: str = _id(), who: Principal = Reviewer,
            svc: Services = Depends(services)) -> Claim:
    found = _book(svc).release(claim_id, body.reason, **audit.author(request, who, 200))
    audit.mark_recorded(request)
    return Claim(**found)
