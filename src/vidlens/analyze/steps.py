"""The ``analyze`` job (run analyzers over one ingested video) and the ``reindex`` job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidlens.errors import AnalysisFailedError, AnalysisPartialError
from vidlens.jobs.steps import Partial, StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform


@step("analyze")
def analyze_step(platform: Platform, ctx: StepContext) -> dict[str, Any] | Partial:
    """Run the requested analyzers over one ingested video (results are cached and stored). The job
    follows the stored document: ``failed`` when every analyzer failed, ``partial`` when some did."""
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
    cause = next(iter(failed.values())).get("message", "")
    details = {"failed": sorted(failed), "status": outcome.status}
    if outcome.status == "failed":
        raise AnalysisFailedError(f"{said}: {cause}", details=details)
    return Partial({**summary, "failed": sorted(failed)}, AnalysisPartialError(f"{said}: {cause}", details=details))


@step("reindex")
def reindex_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Build stored documents and projections again from stored results (queued by the migration that
    added stored documents; payload: optional ``video_ids`` and ``projections``)."""
    payload = ctx.job.payload
    counts = platform.service("documents").reindex(
        payload.get("video_ids"), payload.get("projections"),
        progress=lambda done, total, _vid: ctx.report(done / max(1, total), f"{done}/{total} videos"))
    return counts.to_dict()
