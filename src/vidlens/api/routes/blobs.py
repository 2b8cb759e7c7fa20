"""Blobs (keyframes, thumbnails): content-addressed, so they are cached for good."""

from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from vidlens.api.auth import Principal
from vidlens.api.deps import Services, Viewer, services
from vidlens.errors import NotFoundError

router = APIRouter(prefix="/api/blobs", tags=["blobs"])

CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".json": "application/json",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".npy": "application/octet-stream",
}


@router.get("/{key:path}", summary="A stored blob with its content type", response_class=FileResponse)
def get_blob(
    key: str = Path(..., pattern=r"^[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z0-9]{1,10})?$", description="xx/<sha256>[.ext]"),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> FileResponse:
    blobs = svc.platform.blobs
    path = blobs.local_path(key)  # validates the key: 'xx/<sha256>[.ext]', nothing else
    media_type = CONTENT_TYPES.get(PurePath(key).suffix.lower(), "application/octet-stream")
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    if path is None:  # an S3-compatible store: streamed through
        f = blobs.open(key)  # NotFoundError before any byte is sent
        return StreamingResponse(iter(lambda: f.read(1 << 16), b""), media_type=media_type,  # type: ignore[return-value]
                                 headers=headers, background=BackgroundTask(f.close))
    if not path.is_file():
        raise NotFoundError(f"blob '{key}' not found")
    return FileResponse(path, media_type=media_type, headers=headers)
