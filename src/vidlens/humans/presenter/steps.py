"""The ``speak`` job: a presenter video rendered by the worker (the presenter page queues it, checked), kept
under the data directory's ``presenters/`` by its humans-ledger entry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.errors import UsageError, VidLensError
from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.platform import Platform

# share of the job's progress bar per stage of ``speak``
_STAGES = {"portrait": (0.0, 0.05), "speech": (0.05, 0.15), "frames": (0.2, 0.7), "labels": (0.9, 0.1)}


def presenters_dir(data_dir: Path) -> Path:
    """Where presenter videos are kept (``<seq>.mp4``) and portraits wait for their job (``uploads/``)."""
    d = Path(data_dir) / "presenters"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


@step("speak")
def speak_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``SpeakRequest.to_payload`` (the portrait a name under ``presenters/uploads/``); result: the
    ledger entry and what ``speak`` made."""
    from vidlens.humans.presenter.service import SpeakRequest, speak

    folder = presenters_dir(platform.data_dir)
    portrait = folder / "uploads" / Path(str(ctx.job.payload["portrait"])).name
    if not portrait.is_file():
        raise UsageError("the uploaded portrait is no longer on this server: make the video again")
    req = SpeakRequest.from_payload(ctx.job.payload, portrait)

    def progress(stage: str, fraction: float) -> None:
        start, span = _STAGES.get(stage, (0.0, 0.0))
        ctx.report(min(1.0, start + span * fraction), stage)

    staged = folder / f"job-{ctx.job.id}.mp4"
    try:
        made = speak(req, staged, platform.service("humans"), platform.data_dir, overwrite=True, progress=progress)
    except VidLensError:  # bad input or a broken part: a retry would fail the same way
        portrait.unlink(missing_ok=True)
        raise
    os.replace(staged, folder / f"{made['ledger_seq']}.mp4")
    portrait.unlink(missing_ok=True)
    return {"ledger_seq": made["ledger_seq"], "duration_s": made["duration_s"], "frames": made["frames"],
            "watermark": made["watermark"], "timings": made["timings"], "wall_s": made["wall_s"]}
