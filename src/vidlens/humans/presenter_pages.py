"""The presenter pages: pick a registered human or upload a portrait, type a script, watch the labelled,
watermarked result and download it with its signed certificate (the same service as ``humans speak``).

The form is checked in the request (script, consent, portrait: a refusal shows the form again with the
reason); the render is a ``speak`` job, followed on its own page until the video is made."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vidlens.api import audit
from vidlens.api.deps import check_csrf, services
from vidlens.capability import NavItem
from vidlens.errors import MediaLimitError, NotFoundError, UsageError, VidLensError
from vidlens.jobs.queue import SUCCEEDED
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Presenter", "/humans/presenter", role="reviewer", order=70)]
MAX_PORTRAIT_BYTES = 20 * 1024 * 1024
SIZES = ("720x1280", "1280x720", "720x720")


def _folder(request: Request) -> Path:
    from vidlens.humans.presenter.steps import presenters_dir

    return presenters_dir(Path(services(request).platform.settings.data_dir))


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
        """Check everything that can be checked now (script, consent, portrait), then queue the render."""
        from vidlens.humans.presenter.service import SpeakRequest, check_request, parse_size

        form = await request.form()
        user = page_user(request, "reviewer")
        check_csrf(user, str(form.get("csrf_token", "")))
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        upload = form.get("portrait")
        platform = services(request).platform
        uploads = _folder(request) / "uploads"
        uploads.mkdir(mode=0o700, exist_ok=True)
        portrait = uploads / "none"
        try:
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise UsageError("upload a portrait (with a registered human too: it is checked against their face)")
            suffix = Path(upload.filename).suffix[:8] if upload.filename.isprintable() else ""
            portrait = uploads / (uuid.uuid4().hex + (suffix if suffix[1:].isalnum() else ""))
            with portrait.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            if portrait.stat().st_size > MAX_PORTRAIT_BYTES:
                raise MediaLimitError(f"the portrait is larger than {MAX_PORTRAIT_BYTES} bytes")
            req = SpeakRequest(
                portrait=portrait, text=fields.get("text", ""), lang=fields.get("lang", "en"),
                size=parse_size(fields.get("size", SIZES[0])), subtitles=fields.get("subtitles") == "1",
                human=fields.get("human") or None, use=fields.get("use", "presenter").strip().lower() or "presenter",
                territory=(fields.get("territory") or "").strip().upper() or None)
            await run_in_threadpool(check_request, req, platform.service("humans"))
        except VidLensError as exc:
            portrait.unlink(missing_ok=True)
            return _form_page(request, user, exc.http_status, exc.message, fields)
        job = platform.jobs.enqueue("speak", req.to_payload(portrait.name))
        audit.note(request, "humans.speak", f"job:{job.id}", job_id=job.id)
        return RedirectResponse(f"/humans/presenter/jobs/{job.id}", status_code=303)

    @app.get("/humans/presenter/jobs/{job_id}", include_in_schema=False)
    def presenter_job(request: Request, job_id: int) -> Response:
        """A queued presenter video: its progress while it renders, its page once it is made."""
        user = page_user(request, "reviewer")
        job = services(request).platform.jobs.get(job_id)
        if job.kind != "speak":
            raise NotFoundError(f"job {job_id} is not a presenter video")
        if job.status == SUCCEEDED and job.result:
            return RedirectResponse(f"/humans/presenter/{job.result['ledger_seq']}", status_code=303)
        return render(request, "presenter_job.html", user, using=templates, job=job)

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
