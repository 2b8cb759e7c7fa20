"""One long video's analysis in time ranges, on several workers at once (the Ray runner runs the parts).

``plan`` cuts a video at least twice ``ray_split_s`` long into ranges of about that length when an
analyzer that was asked for ``splits`` (and has no stored result yet): one part per range for those
analyzers, and one part that runs the others over the whole video (``AnalysisRunner``, stored as
usual). ``run_part`` runs one part wherever it lands: a range reads only its own time span plus each
analyzer's margin (``Analyzer.range_margin_s``). ``merge`` joins each splitting analyzer's ranges into
the document one pass makes (``Analyzer.merge_ranges``), stores the results and writes the video's
document. Where an analyzer's ranges do not join into one pass (``SeamMismatch``: frames that differ
across a seam, a gap in the timestamps), that analyzer runs whole there and then, and the result says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from itertools import pairwise
from typing import Any

from vidlens.analyze.base import AnalysisContext, Analyzer, SeamMismatch, Span
from vidlens.analyze.runner import AnalysisRunner, RunnerServices
from vidlens.errors import VidLensError
from vidlens.media.decode import FrameFanout, Sampling, iter_frames
from vidlens.media.source import Source
from vidlens.types import Video

log = logging.getLogger(__name__)
RANGE, WHOLE = "range", "whole"


def plan(services: RunnerServices, video: Video, analyzers: list[str] | None,
         range_s: float) -> list[dict[str, Any]] | None:
    """The parts of ``video``'s analysis (JSON-able), or None when it runs whole."""
    if range_s <= 0 or video.duration_s < 2 * range_s or not video.width:
        return None
    runner = AnalysisRunner(services, analyzers)
    split = [a for a in runner.analyzers if a.splits and runner.cached(video, a) is None]
    if not split:
        return None
    origin = first_frame_time(video)
    n = max(2, round(video.duration_s / range_s))
    return parts_at(video, runner.analyzers, split, [origin + video.duration_s * i / n for i in range(1, n)],
                    origin)


def parts_at(video: Video, analyzers: list[Analyzer], split: list[Analyzer], seams: list[float],
             origin: float) -> list[dict[str, Any]]:
    """The parts for ranges cut at ``seams`` (seconds, increasing): ``split`` in ranges, the rest whole."""
    margin = max(a.range_margin_s(video) for a in split)
    names = [a.name for a in split]
    parts: list[dict[str, Any]] = []
    bounds: list[float | None] = [None, *seams, None]
    for i, (start, end) in enumerate(pairwise(bounds)):
        span = Span(i, start, end, None if start is None else max(0.0, start - margin),
                    None if end is None else end + margin, origin)
        parts.append({"kind": RANGE, "span": asdict(span), "analyzers": names})
    whole = [a.name for a in analyzers if a.name not in names]
    if whole:
        parts.append({"kind": WHOLE, "analyzers": whole})
    return parts


def first_frame_time(video: Video) -> float:
    """Time of the video's first frame: the phase of every rate-limited sampling of a whole read."""
    frames = iter_frames(video, Sampling(max_side=16, pix_fmt="gray"), threads=1)
    try:
        first = next(frames, None)
    finally:
        frames.close()  # type: ignore[attr-defined]
    return first.t if first is not None else 0.0


def run_part(services: RunnerServices, video: Video, part: dict[str, Any]) -> dict[str, Any]:
    """Run one part: a range of the splitting analyzers (their hand-overs), or the others whole (a summary)."""
    if part["kind"] == WHOLE:
        return {"kind": WHOLE, "summary": AnalysisRunner(services, part["analyzers"]).run(video).summary()}
    span = Span(**part["span"])
    analyzers = AnalysisRunner(services, part["analyzers"]).analyzers
    ctx = AnalysisContext(video=video, blobs=None)
    for a in analyzers:
        a.prepare(ctx)
    fan = FrameFanout(video, source=Source(video.uri, start=span.read_start, end=span.read_end),
                      threads=services.settings.decode_threads)
    timings: dict[str, tuple[float, float]] = {}
    for a in analyzers:
        fan.subscribe(a.name, a.range_samplings(video, span), _timed(a, ctx, span, timings))
    out = fan.run()
    errors = {n: str(r) for n, r in out.items() if isinstance(r, BaseException)}
    return {"kind": RANGE, "span": part["span"], "timings": timings, "errors": errors,
            "frames": fan.frames_decoded, "parts": {n: r for n, r in out.items() if n not in errors}}


def _timed(a: Analyzer, ctx: AnalysisContext, span: Span, timings: dict[str, tuple[float, float]]) -> Any:
    def call(frames: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return a.analyze_range(ctx, frames, span)
        finally:
            timings[a.name] = (time.perf_counter() - t0, time.thread_time() - c0)

    return call


def merge(services: RunnerServices, video: Video, analyzers: list[str] | None,
          results: list[dict[str, Any]]) -> dict[str, Any]:
    """Join the parts' results, store them and the document; the summary ``AnalysisOutcome`` gives, with
    ``split`` saying how it ran."""
    runner = AnalysisRunner(services, analyzers)
    ranges = [r for r in results if r["kind"] == RANGE]
    spans = [Span(**r["span"]) for r in ranges]
    names = sorted(ranges[0]["parts"].keys() | ranges[0]["errors"].keys()) if ranges else []
    docs: dict[str, Any] = {}
    timings: dict[str, tuple[float, float]] = {}
    ran_whole: list[str] = []
    ctx = AnalysisContext(video=video, blobs=services.blobs)
    for a in runner.analyzers:
        if a.name not in names:
            continue
        timings[a.name] = (sum(r["timings"].get(a.name, (0, 0))[0] for r in ranges),
                           sum(r["timings"].get(a.name, (0, 0))[1] for r in ranges))
        failed = [r["errors"][a.name] for r in ranges if a.name in r["errors"]]
        if failed:
            docs[a.name] = VidLensError(f"{a.name} failed on a range of the video: {failed[0]}")
            continue
        try:
            docs[a.name] = a.merge_ranges(ctx, spans, [r["parts"][a.name] for r in ranges])
        except SeamMismatch as exc:
            log.warning("%s: %s; it runs over the whole video instead", a.name, exc.message)
            ran_whole.append(a.name)
        except Exception as exc:  # noqa: BLE001 - stored as this analyzer's failure, as a whole run stores it
            docs[a.name] = exc
    rerun = AnalysisRunner(services, ran_whole).run(video, force=True).summary()["analyzers"] if ran_whole else {}
    summary = runner.record(video, docs, timings).summary()
    summary["analyzers"].update(rerun)
    summary["frames"] = sum(r["frames"] for r in ranges)  # decoded by the ranges, their margins included
    for r in results:
        if r["kind"] == WHOLE:
            summary["analyzers"].update(r["summary"]["analyzers"])
    summary["split"] = {"ranges": len(ranges), "analyzers": [n for n in names if n not in ran_whole],
                        "whole": sorted(set(summary["analyzers"]) - set(names) | set(ran_whole))}
    return summary
