"""The review queue over HTTP: other domains create items; reviewers decide them."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services

router = APIRouter(prefix="/api/review", tags=["review"])


class ReviewCreate(BaseModel):
    kind: str = Field(
        ..., min_length=1, max_length=64, description="e.g. aigc_label, copyright_match, moderation"
    )
    reason: str = Field(..., min_length=1, max_length=4000, description="Why a person should look at it.")
    subject: str | None = Field(
        None, max_length=255, description="What is reviewed; default video:<video_id>."
    )
    video_id: str | None = Field(None, max_length=64)
    source: str = Field("api", max_length=64, description="Domain raising the item (protect, govern, ...).")
    label: str | None = Field(None, max_length=128, description="Label proposed by the source.")
    start_s: float | None = Field(None, ge=0)
    end_s: float | None = Field(None, ge=0)
    payload: dict[str, Any] | None = None


class Decision(BaseModel):
    decision: Literal["approve", "reject", "relabel"]
    reason: str = Field(..., min_length=1, max_length=4000)
    label: str | None = Field(None, max_length=128, description="New label (relabel only).")


@router.get("", summary="Review items (open by default)")
def list_items(
    status: str | None = Query("open", description="open | approved | rejected | relabelled | all"),
    video_id: str | None = None,
    kind: str | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    return {
        "items": svc.review.list(
            None if status == "all" else status, video_id=video_id, kind=kind, limit=limit, offset=offset
        )
    }


@router.post("", status_code=201, summary="Raise an item for review")
def create_item(
    body: ReviewCreate, request: Request, principal: Principal = Reviewer, svc: Services = Depends(services)
) -> dict[str, Any]:
    item = svc.review.create(**body.model_dump(), created_by=principal.name)
    audit.note(
        request, "review.create", f"review:{item['id']}", kind=item["kind"], item_subject=item["subject"]
    )
    return item


@router.get("/{item_id}", summary="One review item")
def get_item(item_id: int, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return svc.review.get(item_id)


@router.post("/{item_id}/decision", summary="Approve, reject or relabel, with a reason (audited)")
def decide(
    item_id: int,
    body: Decision,
    request: Request,
    principal: Principal = Reviewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    item = svc.review.decide(
        item_id,
        body.decision,
        principal=principal,
        reason=body.reason,
        label=body.label,
        method=request.method,
        path=request.url.path,
    )
    audit.mark_recorded(request)
    return item
