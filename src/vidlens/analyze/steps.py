"""The ``analyze`` job (run analyzers over one ingested video) and the ``reindex`` job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidlens.errors import AnalysisFailedError, CorruptMediaError, MediaError, UnsupportedMediaError
from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform

# an analyzer that failed with one of these failed because of the file, not because of itself
MEDIA_ERROR_CODES = frozenset({MediaError.code, CorruptMediaError.code, UnsupportedMediaError.code})


@step("analyze")
def analyze_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Run the requested analyzers over one ingested video (results are cached and stored)."""
    from vidlens.analyze.runner import AnalysisRunner

    payload = ctx.job.payload
    video = platform.catalog.get_video(payload["video_id"])
    runner = AnalysisRunner(platform, analyzers=payload.get("analyzers"))
    outcome = runner.run(video, progress=lambda f: ctx.report(f, None), cancelled=ctx.cancelled)
    summary = outcome.summary()
    failed = {n: o.error or {} for n, o in outcome.analyzers.items() if o.status != "ok"}
    if not failed:
        return summary
    said = f"{len(failed)} of {len(outcome.analyzers)} analyzers failed ({', '.join(sorted(failed))})"
    damaged = [e for e in failed.values() if e.get("code") in MEDIA_ERROR_CODES]
    if outcome.status == "failed" or damaged:  # nothing usable, or the file itself is damaged: failed
        cause = (damaged or list(failed.values()))[0].get("message", "")
        raise AnalysisFailedError(f"{said}: {cause}", details={"failed": sorted(failed), "status": outcome.status})
    return {**summary, "failed": sorted(failed)}  # some analyzers failed for their own reasons: partial


@step("reindex")
def reindex_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Build stored documents and projections again from stored results (queued by the migration that
    added stored documents; payload: optional ``video_ids`` and ``projections``)."""
    payload = ctx.job.payload
    counts = platform.service("documents").reindex(
        payload.get("video_ids"), payload.get("projections"),
        progress=lambda done, total, _vid: ctx.report(done / max(1, total), f"{done}/{total} videos"))
    return counts.to_dict()
