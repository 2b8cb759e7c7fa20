"""Search over transcripts, on-screen text, tags, people and object labels, with time spans."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from vidlens.api.auth import Principal
from vidlens.api.deps import Services, Viewer, services

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("", summary="Find words in stored analysis results; each hit has a video and a time span")
def search(
    q: str = Query(..., min_length=1, max_length=500),
    video_id: str | None = None,
    analyzer: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    return svc.search.search(q, video_id=video_id, analyzer=analyzer, limit=limit)
