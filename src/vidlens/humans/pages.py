"""Digital-human pages: the registry (consent, samples, status) and each human's signed certificate,
checked against this install's keys."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response

from vidlens.api.deps import services
from vidlens.capability import NavItem
from vidlens.api import convertors  # noqa: F401  (the "hexid" route convertor used below)
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Humans", "/humans", order=52)]


def install(app: FastAPI) -> None:
    @app.get("/humans", include_in_schema=False)
    def humans_page(request: Request) -> Response:
        user = page_user(request)
        registry = services(request).platform.service("humans")
        return render(request, "humans.html", user, using=templates,
                      humans=[h.to_dict() for h in registry.list(include_removed=True)])

    @app.get("/humans/{human_id:hexid}", include_in_schema=False)
    def human_page(request: Request, human_id: str) -> Response:
        from vidlens.humans import certificate as certs
        from vidlens.identity import CertificateError

        user = page_user(request)
        registry = services(request).platform.service("humans")
        human = registry.get(human_id)
        try:
            body = certs.verify(human.certificate, [k.public for k in registry.identity.trusted()])
            check = {"valid": True, "message": f"signed by key {human.certificate.get('key_id')}, status "
                                               f"{body['status']} at ledger entry {body['ledger_seq']}"}
        except CertificateError as exc:
            check = {"valid": False, "message": exc.message}
        return render(request, "human.html", user, using=templates, h=human.to_dict(), check=check,
                      certificate=human.certificate)
