"""The ``edit`` job: one edit of a library video, written under the data directory's ``edits/``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform

# share of the job's progress bar per stage (analysis first when the options need it, the render last)
_STAGES = {"analysis": (0.0, 0.3), "audio levels": (0.3, 0.05), "reframe": (0.35, 0.2), "dub": (0.55, 0.1),
           "render": (0.65, 0.35)}
_LIP_SYNC_STAGES = {**_STAGES, "render": (0.65, 0.1), "lip sync": (0.75, 0.25)}  # tracking and moving faces


def output_path(platform: Platform, job_id: int) -> Path:
    return platform.data_dir / "edits" / f"edit-{job_id}.mp4"


@step("edit")
def edit_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: an ``EditRequest``; result: ``EditResult.to_dict()`` (the decision list included)."""
    from vidlens.analyze.runner import AnalysisRunner
    from vidlens.edit.options import EditRequest
    from vidlens.edit.service import edit_file

    request = EditRequest.model_validate(ctx.job.payload)
    options = request.options(platform.settings.edit)  # type: ignore[attr-defined]
    video = platform.catalog.get_video(request.video_id)

    def progress(stage: str, fraction: float) -> None:
        start, span = (_LIP_SYNC_STAGES if options.lip_sync else _STAGES).get(stage, (0.0, 0.0))
        ctx.report(min(1.0, start + span * fraction), stage)

    document = None
    if options.needs_document():
        runner = AnalysisRunner(platform, analyzers=options.analyzers())
        document = runner.run(video, progress=lambda f: progress("analysis", f), cancelled=ctx.cancelled).document
    out = output_path(platform, ctx.job.id)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = edit_file(Path(video.uri), out, options, document=document, data_dir=platform.data_dir,
                       overwrite=True, progress=progress)
    return {"video_id": video.id, **result.to_dict()}
