"""The presenter pages: pick a registered human or upload a portrait, type a script, watch the labelled,
watermarked result and download it with its signed certificate (the same service as ``humans speak``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.deps import check_csrf, services
from vidlens.capability import NavItem
from vidlens.errors import MediaLimitError, UsageError, VidLensError
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Presenter", "/humans/presenter", role="reviewer", order=70)]
MAX_PORTRAIT_BYTES = 20 * 1024 * 1024
SIZES = ("720x1280", "1280x720", "720x720")


def _folder(request: Request) -> Path:
    d = Path(services(request).platform.settings.data_dir) / "presenters"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def _form_page(request: Request, user: Any, status: int = 200, error: str | None = None,
               form: dict[str, str] | None = None) -> Response:
    registry = services(request).platform.service("humans")
    humans = [h for h in registry.list() if h.status == "active" and h.faces]
    return render(request, "presenter.html", user, status_code=status, using=templates, humans=humans,
                  sizes=SIZES, error=error, form=form or {})


def install(app: FastAPI) -> None:
    @app.get("/humans/presenter", include_in_schema=False)
    def presenter_form(request: Request) -> Response:
        return _form_page(request, page_user(request, "reviewer"))

    @app.post("/humans/presenter", include_in_schema=False)
    async def make_presenter(request: Request) -> Response:
        from vidlens.humans.presenter.service import SpeakRequest, parse_size, speak

        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        upload = form.get("portrait")
        tmp = Path(tempfile.mkdtemp(prefix="vidlens-presenter-"))
        try:
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise UsageError("upload a portrait (with a registered human too: it is checked against their face)")
            portrait = tmp / ("portrait" + (Path(upload.filename).suffix[:8] if upload.filename.isprintable() else ""))
            with portrait.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            if portrait.stat().st_size > MAX_PORTRAIT_BYTES:
                raise MediaLimitError(f"the portrait is larger than {MAX_PORTRAIT_BYTES} bytes")
            req = SpeakRequest(
                portrait=portrait, text=fields.get("text", ""), lang=fields.get("lang", "en"),
                size=parse_size(fields.get("size", SIZES[0])), subtitles=fields.get("subtitles") == "1",
                human=fields.get("human") or None, use=fields.get("use", "presenter").strip().lower() or "presenter",
                territory=(fields.get("territory") or "").strip().upper() or None)
            platform = services(request).platform
            staged = tmp / f"{uuid.uuid4().hex}.mp4"
            made = await run_in_threadpool(speak, req, staged, platform.service("humans"),
                                           Path(platform.settings.data_dir))
        except VidLensError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            return _form_page(request, user, exc.http_status, exc.message, fields)
        os.replace(staged, _folder(request) / f"{made['ledger_seq']}.mp4")
        shutil.rmtree(tmp, ignore_errors=True)
        audit.note(request, "humans.speak", f"humans-ledger:{made['ledger_seq']}")
        return RedirectResponse(f"/humans/presenter/{made['ledger_seq']}", status_code=303)

    @app.get("/humans/presenter/{seq}", include_in_schema=False)
    def presenter_result(request: Request, seq: int) -> Response:
        user = page_user(request, "reviewer")
        entry = services(request).platform.service("humans").use(seq)
        return render(request, "presenter_result.html", user, using=templates, entry=entry, p=entry["payload"])

    @app.get("/humans/presenter/{seq}/video", include_in_schema=False)
    def presenter_video(request: Request, seq: int, download: bool = False) -> Response:
        page_user(request, "reviewer")
        services(request).platform.service("humans").use(seq)  # a use of the ledger, or 404
        path = _folder(request) / f"{seq}.mp4"
        if not path.is_file():
            raise UsageError(f"the video of ledger entry {seq} is not kept on this server")
        return FileResponse(path, media_type="video/mp4",
                            filename=f"presenter-{seq}.mp4" if download else None)

    @app.get("/humans/presenter/{seq}/certificate", include_in_schema=False)
    def presenter_certificate(request: Request, seq: int) -> Response:
        page_user(request, "reviewer")
        registry = services(request).platform.service("humans")
        cert = registry.use_certificate(registry.use(seq))
        return Response(json.dumps(cert, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                        media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="presenter-{seq}.cert.json"'})
