"""Deliver's HTTP API: how a library video plays in a browser, and its browser-playable proxy."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from vidlens.api.auth import Principal
from vidlens.api.deps import Services, Viewer, services
from vidlens.api.openapi import errors
from vidlens.errors import NotFoundError

router = APIRouter(prefix="/api/videos", tags=["deliver"])
NOT_FOUND = errors(s404="No such video, or (proxy) no proxy made yet")


class PlaybackOut(BaseModel):
    video_id: str
    needs_proxy: bool = Field(description="The browser cannot play the original (container or codec)")
    status: Literal["original", "ready", "queued", "making", "failed", "unavailable"] = Field(
        description="original: play the file itself; ready: play the proxy; queued/making: the proxy is being "
        "made (see job_id, progress); failed: its job failed (error); unavailable: no proxy can be made")
    url: str | None = Field(description="What the player loads, when it can load anything")
    job_id: int | None = None
    progress: float | None = None
    error: str | None = None


@router.get("/{video_id}/playback", response_model=PlaybackOut, responses=NOT_FOUND,
            summary="How the video plays in a browser; queues its proxy when it needs one")
def playback(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> PlaybackOut:
    video = svc.platform.catalog.get_video(video_id)
    return PlaybackOut(**svc.platform.service("proxies").state(video).to_dict())


@router.get("/{video_id}/proxy", response_class=FileResponse,
            responses=errors(s404="No such video, or no proxy made yet", s400="Malformed Range header",
                             s416="Range not satisfiable"),
            summary="The browser-playable proxy (H.264/AAC MP4, index first); supports HTTP Range")
def proxy_file(video_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> FileResponse:
    video = svc.platform.catalog.get_video(video_id)
    path = svc.platform.service("proxies").path(video.id)
    if not path.is_file():
        raise NotFoundError(f"video {video.id[:12]} has no proxy yet (GET /api/videos/{video.id[:12]}/playback)")
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})
