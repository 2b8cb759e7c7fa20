"""Durable job steps for delivery: ``vidlens worker`` runs what ``--background`` queued.

Each step reads plain JSON from the job's payload, reports FFmpeg's ``-progress`` as the job's
progress (time encoded / source duration, with FFmpeg's speed as the message), and returns the
result dict that the job table stores (loudness before/after and label status included). A
failed FFmpeg run raises ``FFmpegError``, whose details (exact command, return code, log tail)
the job table keeps on the failed row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.jobs.steps import StepContext, step

if TYPE_CHECKING:
    from vidlens.deliver.transcode import ProgressFn
    from vidlens.platform import Platform


def _progress(source: str, ctx: StepContext) -> ProgressFn:
    """Feed FFmpeg progress blocks into the job record as a fraction of the source's duration."""
    from vidlens.media.probe import probe

    total = max(probe(source, sha256="-").duration_s, 0.001)

    def report(block: dict[str, str]) -> None:
        us = block.get("out_time_us", "")
        if us.lstrip("-").isdigit():
            speed = block.get("speed", "").strip()
            ctx.report(min(1.0, max(0.0, int(us) / 1e6 / total)), f"encoding at {speed}" if speed else None)

    return report


@step("deliver.transcode")
def transcode_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``source``, ``out``, ``profile`` (resolved ``Profile`` fields), optional ``overwrite``, ``drop_label``."""
    from vidlens.deliver.profiles import Profile
    from vidlens.deliver.transcode import transcode

    p = ctx.job.payload
    r = transcode(
        p["source"],
        Path(p["out"]),
        Profile(**p["profile"]),
        on_progress=_progress(p["source"], ctx),
        overwrite=bool(p.get("overwrite")),
        drop_label=bool(p.get("drop_label")),
    )
    return r.to_dict()


@step("deliver.package")
def package_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``source``, ``outdir``, ``options`` (``PackageOptions`` fields), optional ``overwrite``."""
    from vidlens.deliver.ladder import PackageOptions, package

    p = ctx.job.payload
    r = package(
        p["source"],
        Path(p["outdir"]),
        PackageOptions(**p.get("options", {})),
        on_progress=_progress(p["source"], ctx),
        overwrite=bool(p.get("overwrite")),
    )
    return r.to_dict()


@step("deliver.loudness")
def loudness_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``source``, optional ``out``, ``target`` (``LoudnessTarget`` fields), ``overwrite``."""
    from vidlens.deliver.loudness import LoudnessTarget, normalize

    p = ctx.job.payload
    r = normalize(
        p["source"],
        p.get("out"),
        LoudnessTarget(**p.get("target", {})),
        overwrite=bool(p.get("overwrite")),
    )
    ctx.report(1.0, None)
    return r.to_dict()


@step("deliver.proxy")
def proxy_step(platform: Platform, ctx: StepContext) -> dict[str, Any]:
    """Payload: ``video_id``. Encodes the browser-playable proxy of a library video (``deliver.proxy``)."""
    from vidlens.deliver.proxy import PROFILE
    from vidlens.deliver.transcode import transcode

    video = platform.catalog.get_video(ctx.job.payload["video_id"])
    out = platform.service("proxies").path(video.id)
    out.parent.mkdir(parents=True, exist_ok=True)
    r = transcode(video.uri, out, PROFILE, on_progress=_progress(video.uri, ctx), overwrite=True)
    return r.to_dict()
