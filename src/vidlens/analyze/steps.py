"""The ``analyze`` job (run analyzers over one ingested video) and the ``reindex`` job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidlens.errors import AnalysisFailedError, AnalysisPartialError
from vidlens.jobs.steps import Partial, Split, StepContext, register_split, step

if TYPE_CHECKING:
    from vidlens.jobs.queue import Job
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
    return _job_result(outcome.summary())


def _job_result(summary: dict[str, Any]) -> dict[str, Any] | Partial:
    """The job's result from the analysis summary: ``failed`` when every analyzer failed, ``partial`` when some did."""
    failed = {n: o.get("error") or {} for n, o in summary["analyzers"].items() if o["status"] != "ok"}
    if not failed:
        return summary
    said = f"{len(failed)} of {len(summary['analyzers'])} analyzers failed ({', '.join(sorted(failed))})"
    cause = next(iter(failed.values())).get("message", "")
    details = {"failed": sorted(failed), "status": summary["status"]}
    if summary["status"] == "failed":
        raise AnalysisFailedError(f"{said}: {cause}", details=details)
    return Partial({**summary, "failed": sorted(failed)}, AnalysisPartialError(f"{said}: {cause}", details=details))


# A long video's analysis in time ranges on several Ray actors (vidlens.analyze.ranges); see ``Split``.
def _plan(platform: Platform, job: Job) -> list[dict[str, Any]] | None:
    from vidlens.analyze import ranges

    video = platform.catalog.get_video(job.payload["video_id"])
    return ranges.plan(platform, video, job.payload.get("analyzers"), platform.settings.ray_split_s)


def _part(platform: Platform, job: Job, part: dict[str, Any]) -> dict[str, Any]:
    from vidlens.analyze import ranges

    return ranges.run_part(platform, platform.catalog.get_video(job.payload["video_id"]), part)


def _merge(platform: Platform, ctx: StepContext, results: list[Any]) -> dict[str, Any] | Partial:
    from vidlens.analyze import ranges

    payload = ctx.job.payload
    video = platform.catalog.get_video(payload["video_id"])
    return _job_result(ranges.merge(platform, video, payload.get("analyzers"), results))


register_split("analyze", Split(_plan, _part, _merge))


@step("reindex")
def reindex_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Build stored documents and projections again from stored results (queued by the migration that
    added stored documents; payload: optional ``video_ids`` and ``projections``)."""
    payload = ctx.job.payload
    counts = platform.service("documents").reindex(
        payload.get("video_ids"), payload.get("projections"),
        progress=lambda done, total, _vid: ctx.report(done / max(1, total), f"{done}/{total} videos"))
    return counts.to_dict()
