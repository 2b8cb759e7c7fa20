"""Shot-boundary detector on synthetic clips with exactly known structure."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.shotdetect import Boundary, ShotBoundaryDetector, ShotDetectConfig, detect_boundaries
from vidlens.errors import UsageError
from vidlens.media.decode import iter_frames
from vidlens.media.probe import probe
from vidlens.testing.synth import Scene, make_cut_clip, render_scenes, write_video
from vidlens.types import FrameSample


def _detect_file(path: Path) -> list[Boundary]:
    return detect_boundaries(iter_frames(probe(path), ShotBoundaryDetector.SAMPLING))


def _write(tmp_path: Path, frames: list[np.ndarray], name: str = "clip.mp4") -> Path:
    return write_video(tmp_path / name, frames, 25, crf=18)


def test_hard_cuts_are_frame_exact(tmp_path: Path) -> None:
    path, cuts = make_cut_clip(tmp_path / "cuts.mp4")
    found = _detect_file(path)
    assert [b.frame for b in found] == cuts
    # scores measured 0.86-0.96: 0.36 above the 0.5 a cut at the threshold gets
    assert all(b.kind == "cut" and b.start_frame == b.end_frame == b.frame and 0.5 <= b.score <= 1 for b in found)


def test_single_frame_and_two_frame_flashes_are_not_cuts(tmp_path: Path) -> None:
    frames, cuts, _ = render_scenes([Scene(40, 11, flash_at=(12,)), Scene(45, 12, flash_at=(20, 21))], 160, 96)
    found = _detect_file(_write(tmp_path, frames))
    assert [b.frame for b in found] == cuts == [40]


def test_occlusion_of_a_few_frames_is_not_a_cut(tmp_path: Path) -> None:
    # Something dark passes right in front of the lens for three frames, as in a car passing a camera.
    frames, _, _ = render_scenes([Scene(60, 21)], 160, 96)
    for i, x0 in zip(range(30, 33), (0, 40, 90)):
        frames[i] = frames[i].copy()
        frames[i][:, x0:x0 + 110] = 20
    assert _detect_file(_write(tmp_path, frames)) == []


def test_cut_right_after_a_flash_is_still_found(tmp_path: Path) -> None:
    frames, cuts, _ = render_scenes([Scene(30, 31, flash_at=(27,)), Scene(30, 32)], 160, 96)
    assert [b.frame for b in _detect_file(_write(tmp_path, frames))] == cuts == [30]


def test_fade_out_and_in_is_one_fade_boundary(tmp_path: Path) -> None:
    frames, cuts, gradual = render_scenes([Scene(40, 41), Scene(40, 42, "fade", 16)], 160, 96)
    assert cuts == [] and gradual == [(40, 55)]
    found = _detect_file(_write(tmp_path, frames))
    assert len(found) == 1
    b = found[0]
    assert b.kind == "fade"
    # the new shot starts at the first brightening frame, in the second half of the transition
    # (measured: frame 49, range 40-55 exactly; the bounds leave one frame of encoder leeway each side)
    assert 47 <= b.frame <= 50
    assert abs(b.start_frame - 40) <= 1 and abs(b.end_frame - 55) <= 1


def test_fade_in_from_black_leader_and_out_to_black_tail(tmp_path: Path) -> None:
    w, h = 160, 96
    body, _, _ = render_scenes([Scene(60, 51)], w, h)
    black = np.zeros((h, w, 3), np.uint8)
    ramp_in = [(body[0].astype(np.float32) * (j + 1) / 13).astype(np.uint8) for j in range(12)]
    ramp_out = [(body[-1].astype(np.float32) * (12 - j) / 13).astype(np.uint8) for j in range(12)]
    frames = [black] * 10 + ramp_in + body + ramp_out + [black] * 10
    found = _detect_file(_write(tmp_path, frames))
    assert [(b.kind, b.frame) for b in found] == [("fade", 10), ("fade", 82 + 12)]
    assert (found[0].start_frame, found[0].end_frame) == (10, 21)
    assert (found[1].start_frame, found[1].end_frame) == (82, 93)


def test_cut_from_black_is_a_cut(tmp_path: Path) -> None:
    body, _, _ = render_scenes([Scene(40, 61)], 160, 96)
    frames = [np.zeros_like(body[0])] * 20 + body
    found = _detect_file(_write(tmp_path, frames))
    assert [(b.kind, b.frame) for b in found] == [("cut", 20)]


def test_dissolve_range_and_middle_frame(tmp_path: Path) -> None:
    frames, cuts, gradual = render_scenes([Scene(40, 71), Scene(40, 74, "dissolve", 20)], 160, 96)
    assert cuts == [] and gradual == [(40, 59)]
    found = _detect_file(_write(tmp_path, frames))
    assert len(found) == 1 and found[0].kind == "dissolve"
    b = found[0]
    # measured: range 40-59 and frame 50 exactly; +-2 frames of leeway
    assert abs(b.start_frame - 40) <= 2 and abs(b.end_frame - 59) <= 2
    assert b.start_frame < b.frame <= b.end_frame and abs(b.frame - 50) <= 2


def test_brightness_change_is_not_a_boundary(tmp_path: Path) -> None:
    # Auto-exposure: the same picture brightens by 40% over 12 frames.
    frames, _, _ = render_scenes([Scene(70, 81)], 160, 96)
    gain = np.concatenate([np.ones(30), np.linspace(1, 1.4, 12), np.full(28, 1.4)])
    frames = [np.clip(f.astype(np.float32) * g, 0, 255).astype(np.uint8) for f, g in zip(frames, gain)]
    assert _detect_file(_write(tmp_path, frames)) == []


def test_sample_indices_are_reported_not_positions() -> None:
    frames, cuts, _ = render_scenes([Scene(20, 1), Scene(20, 2)], 64, 32)
    yuv = [f for f in frames]  # any 3-channel uint8 works for the detector
    samples = (FrameSample("v", 1000 + 2 * i, i, Fraction(1, 25), img, "yuv") for i, img in enumerate(yuv))
    found = detect_boundaries(samples)
    assert [b.frame for b in found] == [1000 + 2 * cuts[0]]


def test_push_rejects_out_of_order_and_tiny_frames() -> None:
    det = ShotBoundaryDetector()
    img = np.zeros((36, 64, 3), np.uint8)
    det.push(FrameSample("v", 5, 5, Fraction(1, 25), img, "yuv"))
    with pytest.raises(UsageError, match="in order"):
        det.push(FrameSample("v", 5, 5, Fraction(1, 25), img, "yuv"))
    with pytest.raises(UsageError, match="4x4"):
        ShotBoundaryDetector().push(FrameSample("v", 0, 0, Fraction(1, 25), np.zeros((2, 2, 3), np.uint8), "yuv"))


def test_short_and_empty_input() -> None:
    assert detect_boundaries([]) == []
    one = FrameSample("v", 0, 0, Fraction(1, 25), np.zeros((36, 64, 3), np.uint8), "yuv")
    assert detect_boundaries([one]) == []


def test_config_rejects_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValueError):
        ShotDetectConfig(treshold=3)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        ShotDetectConfig(dissolve_linearity=0.9)
    assert all(f.description for f in ShotDetectConfig.model_fields.values())
