"""The review queue over HTTP: other domains create items; reviewers decide them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from vidlens.api import audit
from vidlens.api.auth import Principal
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.api.openapi import errors

router = APIRouter(prefix="/api/review", tags=["review"])


_TEXT = r"\S"  # at least one character that is not white space


class ReviewCreate(BaseModel):
    model_config = ConfigDict(strict=True, json_schema_extra={"anyOf": [
        {"required": ["subject"], "properties": {"subject": {"type": "string"}}},
        {"required": ["video_id"], "properties": {"video_id": {"type": "string"}}}]})

    kind: str = Field(
        ..., min_length=1, max_length=64, pattern=_TEXT, description="e.g. aigc_label, copyright_match, moderation"
    )
    reason: str = Field(..., min_length=1, max_length=4000, pattern=_TEXT,
                        description="Why a person should look at it.")
    subject: str | None = Field(
        None, max_length=255, description="What is reviewed; default video:<video_id>. A subject or a video_id "
        "is required."
    )
    video_id: str | None = Field(None, max_length=64, description="A video in the library (404 if unknown).")
    source: str = Field("api", max_length=64, description="Domain raising the item (protect, govern, ...).")
    label: str | None = Field(None, max_length=128, description="Label proposed by the source.")
    start_s: float | None = Field(None, ge=0)
    end_s: float | None = Field(None, ge=0, description="Not before start_s (400).")
    payload: dict[str, Any] | None = None


class Verdict(BaseModel):
    model_config = ConfigDict(strict=True)
    decision: Literal["approve", "reject"]
    reason: str = Field(..., min_length=1, max_length=4000, pattern=_TEXT)


class Relabel(BaseModel):
    model_config = ConfigDict(strict=True)
    decision: Literal["relabel"]
    reason: str = Field(..., min_length=1, max_length=4000, pattern=_TEXT)
    label: str = Field(..., min_length=1, max_length=128, pattern=_TEXT, description="The new label.")


Decision = Annotated[Verdict | Relabel, Field(discriminator="decision")]


@router.get("", summary="Review items (open by default)")
def list_items(
    status: Literal["open", "approved", "rejected", "relabelled", "all"] = Query("open"),
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


@router.post("", status_code=201, summary="Raise an item for review",
             responses=errors(s400="end_s before start_s", s404="No such video"))
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


@router.post("/{item_id}/decision", summary="Approve, reject or relabel, with a reason (audited)",
             responses=errors(s409="Already decided"))
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
        label=getattr(body, "label", None),
        method=request.method,
        path=request.url.path,
    )
    audit.mark_recorded(request)
    return item
