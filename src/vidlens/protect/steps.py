"""Protect jobs: register a work and match a file against the registry, as queued steps.

Queued, they run wherever the job runner runs them (worker processes or Ray actors), many files at
once. Both are safe to run again after a worker died: a registration whose ledger entry was committed
before the crash finds its own work (same content, owner and title) and returns it, and a match
keeps its matches in the job's result, which the job table stores once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.errors import ConflictError
from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform


@step("protect.register")
def register_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``path``, ``owner``, ``title``, optional ``policy`` and ``licence``."""
    from vidlens.media.probe import probe
    from vidlens.protect.registry import Registry

    p = ctx.job.payload
    registry = Registry(platform)
    try:
        work = registry.register(p["path"], owner=p["owner"], title=p["title"], policy=p.get("policy", "track"),
                                 licence=p.get("licence"))
    except ConflictError:
        work_id = registry.active_by_content(probe(p["path"], require_video=False).sha256)
        work = registry.get(work_id) if work_id else None
        if work is None or (work.owner, work.title) != (p["owner"].strip(), p["title"].strip()):
            raise
        # else: this job's earlier attempt committed it before its worker died
    return {"work": work.to_dict()}


@step("protect.match")
def match_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``path``. The matches are the job's result."""
    from vidlens.protect.matcher import Matcher
    from vidlens.protect.registry import Registry

    path = ctx.job.payload["path"]
    found = Matcher(Registry(platform)).match_file(path, record=False)
    return {"file": Path(path).name, "matches": [m.to_dict() for m in found]}
