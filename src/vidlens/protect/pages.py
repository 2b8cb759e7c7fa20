"""Protect's pages: registered works and their certificates, and match results (score, where the copy
sits in the query and where it comes from in the work), over the same reads as ``/api/protect``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from vidlens.api.deps import services
from vidlens.capability import NavItem
from vidlens.protect import results
from vidlens.ui.pages import page_user, render, templates_for

templates = templates_for(Path(__file__).resolve().parent / "templates")
nav = [NavItem("Protect", "/protect", order=50)]


def _registry(request: Request) -> Any:  # a Registry, imported late: it pulls in the fingerprinters
    from vidlens.protect.registry import Registry

    return Registry(services(request).platform)


def install(app: FastAPI) -> None:
    @app.get("/protect", include_in_schema=False)
    def protect_page(request: Request) -> Response:
        user = page_user(request)
        reg = _registry(request)
        works = [results.public_work(w) for w in reg.list(include_removed=True)]
        found = results.list_matches(reg, limit=200)
        return render(request, "protect.html", user, using=templates, works=works, matches=found)

    @app.get("/protect/works/{work_id}", include_in_schema=False)
    def work_page(request: Request, work_id: str) -> Response:
        user = page_user(request)
        reg = _registry(request)
        work = results.work_with_certificate(reg, work_id)
        found = results.list_matches(reg, work_id=work["work_id"], limit=200)
        in_library = bool(results.library_ids(reg, [work["content_sha256"]]))
        return render(request, "work.html", user, using=templates, work=work, matches=found, in_library=in_library)

    @app.get("/protect/matches/{match_id}", include_in_schema=False)
    def match_page(request: Request, match_id: int) -> Response:
        user = page_user(request)
        reg = _registry(request)
        m = results.get_match(reg, match_id)
        work_in_library = bool(m["work_sha256"]) and bool(results.library_ids(reg, [m["work_sha256"]]))
        return render(request, "match.html", user, using=templates, m=m, work_in_library=work_in_library)
