"""The ``analyze`` job: run analyzers over one ingested video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform


@step("analyze")
def analyze_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Run the requested analyzers over one ingested video (results are cached and stored)."""
    from vidlens.analyze.runner import AnalysisRunner

    payload = ctx.job.payload
    video = platform.library.get_video(payload["video_id"])
    runner = AnalysisRunner(platform, analyzers=payload.get("analyzers"))
    outcome = runner.run(video, progress=lambda f: ctx.report(f, None), cancelled=ctx.cancelled)
    return outcome.summary()
