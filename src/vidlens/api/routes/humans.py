"""Digital humans over HTTP: register (multipart samples + consent), list, show, revoke, remove,
certificates, and scanning an uploaded file or a library video."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api import convertors  # noqa: F401  (the "hexid" route convertor)
from vidlens.api.auth import Principal
from vidlens.api.openapi import errors
from vidlens.api.parts import saved_parts
from vidlens.api.deps import Reviewer, Services, Viewer, services
from vidlens.errors import UsageError


router = APIRouter(prefix="/api/humans", tags=["humans"])

_MATCH = {"description": "Where registered humans are seen or heard", "content": {"application/json": {"example": {
    "matches": [{"human": "5f0c...", "kind": "face", "start": 1.0, "end": 3.5, "score": 0.71,
                 "authorised": False}]}}}}


class Reason(BaseModel):
    reason: str = Field(..., min_length=1, max_length=4000, description="Why; kept in the ledger.")


def _registry(svc: Services) -> Any:
    return svc.platform.service("humans")


@router.post("", status_code=201, responses=errors(400, 413, 415), summary="Register a digital human: face and voice samples, consent record")
async def register_human(
    request: Request,
    name: str = Form(..., min_length=1, max_length=500),
    owner: str | None = Form(None, max_length=500, description="Default: the consent's grantor, else the name."),
    consent: str | None = Form(None, max_length=65536, description="Consent record as JSON (docs/humans.md)."),
    face: list[UploadFile] = File([], description="Images or videos of the person's face."),
    voice: list[UploadFile] = File([], description="Audio or video files of the person speaking."),
    principal: Principal = Reviewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    from vidlens.humans import consent as consents

    record = None
    if consent:
        try:
            record = consents.parse(json.loads(consent), "consent")
        except json.JSONDecodeError as exc:
            raise consents.ConsentError(f"consent: not JSON ({exc})") from None
        if record.expired():
            raise consents.ConsentError(f"consent: it expired on {record.expires.date().isoformat()}")
    with saved_parts(face + voice, svc.uploads.limit) as paths:
        human = await run_in_threadpool(
            _registry(svc).register, name, owner=owner or (record.grantor if record else name),
            faces=paths[:len(face)], voices=paths[len(face):], consent=record)
    audit.note(request, "humans.register", f"human:{human.id}", faces=human.faces, voices=human.voices)
    return human.to_dict()  # type: ignore[no-any-return]


@router.get("", summary="Registered digital humans")
def list_humans(all: bool = False, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return {"humans": [h.to_dict() for h in _registry(svc).list(include_removed=all)]}


@router.post("/scan", summary="Find registered humans in an uploaded file (field 'file') or a library video",
             responses={200: _MATCH, **errors(400, 404, 413, 415)})
async def scan(
    file: UploadFile | None = File(None, description="A video, image or audio file."),
    video_id: str | None = Form(None, max_length=64, description="Or a video of the library."),
    use: str | None = Form(None, max_length=64, description="The intended use, checked against consent."),
    territory: str | None = Form(None, max_length=2, description="Where it is seen (ISO 3166-1 alpha-2)."),
    _: Principal = Viewer,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    from vidlens.humans.scan import Scanner

    scanner = Scanner(_registry(svc))
    if (file is None) == (video_id is None):
        raise UsageError("send either a file or a video_id")
    if video_id is not None:
        uri = svc.platform.catalog.get_video(video_id).uri
        found = await run_in_threadpool(scanner.scan, uri, use=use, territory=territory)
    else:
        assert file is not None
        with saved_parts([file], svc.uploads.limit) as paths:
            found = await run_in_threadpool(scanner.scan, paths[0], use=use, territory=territory)
    return {"matches": [m.to_dict() for m in found]}


@router.get("/library", summary="Registered humans in the analysed library (from stored faces, no decoding)")
def library(video_id: str | None = None, use: str | None = None, territory: str | None = None,
            _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    from vidlens.humans.library import library_matches, to_json

    return to_json(library_matches(_registry(svc), use=use, territory=territory, video_id=video_id))


@router.get("/{human_id:hexid}", summary="One digital human")
def get_human(human_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return _registry(svc).get(human_id).to_dict()  # type: ignore[no-any-return]


@router.get("/{human_id:hexid}/certificate", summary="The human's latest signed certificate (verify it offline)")
def certificate(human_id: str, _: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return _registry(svc).get(human_id).certificate  # type: ignore[no-any-return]


@router.post("/{human_id:hexid}/revoke", summary="Withdraw the consent (still recognised, no use authorised)")
def revoke(human_id: str, body: Reason, request: Request, _: Principal = Reviewer,
           svc: Services = Depends(services)) -> dict[str, Any]:
    human = _registry(svc).revoke(human_id, reason=body.reason)
    audit.note(request, "humans.revoke", f"human:{human.id}", reason=body.reason)
    return human.to_dict()  # type: ignore[no-any-return]


@router.post("/{human_id:hexid}/remove", summary="Stop protecting a digital human (kept in the ledger)")
def remove(human_id: str, body: Reason, request: Request, _: Principal = Reviewer,
           svc: Services = Depends(services)) -> dict[str, Any]:
    human = _registry(svc).remove(human_id, reason=body.reason)
    audit.note(request, "humans.remove", f"human:{human.id}", reason=body.reason)
    return human.to_dict()  # type: ignore[no-any-return]
