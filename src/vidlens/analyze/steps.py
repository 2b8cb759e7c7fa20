"""The ``analyze`` job (run analyzers over one ingested video) and the ``reindex`` job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidlens.errors import AnalysisFailedError
from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform


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
    if outcome.status == "failed":  # the stored document is failed: so is the job, naming every analyzer
        cause = next(iter(failed.values())).get("message", "")
        raise AnalysisFailedError(f"{said}: {cause}", details={"failed": sorted(failed), "status": outcome.status})
    return {**summary, "failed": sorted(failed)}  # the document (and the library) say partial: so does the job


@step("reindex")
def reindex_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Build stored documents and projections again from stored results (queued by the migration that
    added stored documents; payload: optional ``video_ids`` and ``projections``)."""
    payload = ctx.job.payload
    counts = platform.service("documents").reindex(
        payload.get("video_ids"), payload.get("projections"),
        progress=lambda done, total, _vid: ctx.report(done / max(1, total), f"{done}/{total} videos"))
    return counts.to_dict()
