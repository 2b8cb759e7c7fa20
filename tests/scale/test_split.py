"""A long video's analysis in time ranges: the merged shots document is the one pass's, whatever the seams.

The ranges run here one after the other (what runs them does not change what they hand over); the
Ray runner's test (test_ray_runner.py) runs them on two actors.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from vidlens.analyze import ranges
from vidlens.analyze.builtin.shots import ShotDetector
from vidlens.analyze.runner import AnalysisRunner
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.source import Source
from vidlens.platform import Platform

# cuts, fades and a dissolve at 720p; fast cuts (the transition network checks unsure ones); VP8 with sound
CLIPS = ["shots/pyscenedetect_testvideo.mp4", "shots/blender_sintel_10s.mp4", "shots/blender_bbb_0_30.webm"]


def _split(platform: Platform, video, runner: AnalysisRunner, seams: list[float]) -> dict:
    origin = ranges.first_frame_time(video)
    parts = ranges.parts_at(video, runner.analyzers, runner.analyzers, seams, origin)
    return ranges.merge(platform, video, ["shots"], [ranges.run_part(platform, video, p) for p in parts])


@pytest.mark.parametrize("clip", CLIPS)
def test_seams_on_and_beside_every_boundary_give_the_one_pass_document(platform: Platform, shared_media: Path,
                                                                        clip: str) -> None:
    video = platform.catalog.ingest_file(shared_media / clip, analyze=False).video
    runner = AnalysisRunner(platform, ["shots"])
    whole = runner.run(video).analyzers["shots"].document
    assert whole is not None and len(whole["boundaries"]) >= 3, "a clip with shots to cut between"
    frame_s = 1 / float(video.fps)
    # every boundary has a seam: on its first frame's time (that frame is the later range's own), or one
    # frame later (the earlier range's), in turn; a fade's or dissolve's boundary is inside the transition
    seams = [s["start_s"] + (frame_s if i % 2 else 0.0) for i, s in enumerate(whole["shots"][1:])]
    summary = _split(platform, video, runner, seams)
    assert summary["split"] == {"ranges": len(seams) + 1, "analyzers": ["shots"], "whole": []}
    merged = runner.cached(video, runner.analyzers[0])
    assert merged == whole  # boundaries, kinds, scores, frames, keyframes and their blobs


def test_the_transition_network_is_replayed_across_seams(platform: Platform, shared_media: Path) -> None:
    """The unsure cuts the network decides are decided on the same windows when a seam cuts one."""
    pytest.importorskip("onnxruntime")
    video = platform.catalog.ingest_file(shared_media / CLIPS[1], analyze=False).video
    runner = AnalysisRunner(platform, ["shots"])
    whole = runner.run(video).analyzers["shots"].document
    assert whole is not None
    assert whole["transition_network"]["checked_cuts"] > 0, "the clip has cuts the features are unsure of"
    _split(platform, video, runner, [video.duration_s / 3, 2 * video.duration_s / 3])
    assert runner.cached(video, runner.analyzers[0]) == whole


def test_ranges_too_short_a_margin_are_caught_and_run_whole(platform: Platform, shared_media: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    video = platform.catalog.ingest_file(shared_media / CLIPS[0], analyze=False).video
    runner = AnalysisRunner(platform, ["shots"])
    whole = runner.run(video).analyzers["shots"].document
    monkeypatch.setattr(ShotDetector, "range_margin_s", lambda self, v: 0.2)  # fewer frames than the detector needs
    summary = _split(platform, video, runner, [8.0, 16.0])
    assert summary["split"] == {"ranges": 3, "analyzers": [], "whole": ["shots"]}
    assert runner.cached(video, runner.analyzers[0]) == whole


def test_a_range_read_keeps_the_whole_reads_sampling_phase(platform: Platform, shared_media: Path) -> None:
    video = platform.catalog.ingest_file(shared_media / CLIPS[0], analyze=False).video
    origin = ranges.first_frame_time(video)
    whole = [f.pts for f in iter_frames(video, Sampling(fps=2, max_side=32, pix_fmt="gray"))]
    start = 5.31  # not on the 0.5 s grid
    part = [f.pts for f in iter_frames(video, Sampling(fps=2, max_side=32, pix_fmt="gray", origin=origin),
                                       source=Source(video.uri, start=start, end=12.0))]
    later = [p for p in whole if start <= float(p * video.time_base) < 12.0]
    assert part == later and len(part) >= 12
    unphased = [f.pts for f in iter_frames(video, Sampling(fps=2, max_side=32, pix_fmt="gray"),
                                           source=Source(video.uri, start=start, end=12.0))]
    assert unphased != later  # without the origin the range's clock starts at its own first frame


def test_plan_splits_only_long_videos_and_runs_the_others_whole(platform_factory, shared_media: Path) -> None:
    platform = platform_factory(None, ray_split_s=8.0)
    video = platform.catalog.ingest_file(shared_media / CLIPS[0], analyze=False).video  # 24 s
    parts = ranges.plan(platform, video, ["shots", "technical"], 8.0)
    assert parts is not None
    assert [p["kind"] for p in parts] == ["range"] * 3 + ["whole"]
    assert parts[-1]["analyzers"] == ["technical"]
    spans = [p["span"] for p in parts[:3]]
    assert spans[0]["start"] is None and spans[-1]["end"] is None
    assert all(a["end"] == b["start"] for a, b in pairwise(spans))
    assert all(s["read_start"] is None or s["read_start"] < s["start"] for s in spans)
    assert ranges.plan(platform, video, ["shots"], 13.0) is None  # shorter than twice the range length
    assert ranges.plan(platform, video, ["technical"], 8.0) is None  # nothing that splits
    assert ranges.plan(platform, video, ["shots"], 0) is None  # switched off
