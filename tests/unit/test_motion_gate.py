from __future__ import annotations

import numpy as np

from vidlens.analyze.base import sample_rate
from vidlens.analyze.motion import MotionGate


def _scene(x: int | None = None) -> np.ndarray:
    img = np.full((360, 640, 3), 90, np.uint8)
    img[200:, :] = 140  # a static horizon
    if x is not None:
        img[150:230, x:x + 40] = 250  # a walker, about 1.4 % of the frame
    return img


def test_a_still_scene_runs_the_model_once_then_every_max_skip() -> None:
    gate = MotionGate(max_skip=3)
    runs = [gate.should_run(_scene()) for _ in range(9)]
    assert runs == [True, False, False, False, True, False, False, False, True]


def test_movement_runs_the_model_and_sensor_noise_does_not() -> None:
    gate = MotionGate(max_skip=100)
    rng = np.random.default_rng(1)
    assert gate.should_run(_scene(100))
    noisy = np.clip(_scene(100).astype(np.int16) + rng.integers(-6, 7, (360, 640, 3)), 0, 255).astype(np.uint8)
    assert not gate.should_run(noisy)
    assert gate.should_run(_scene(160))  # the walker moved
    assert gate.should_run(_scene(160), force=True)  # e.g. a shot change


def test_slow_drift_accumulates_against_the_last_run_frame() -> None:
    gate = MotionGate(max_skip=100)
    assert gate.should_run(_scene(100))
    runs = [gate.should_run(_scene(100 + 2 * k)) for k in range(1, 40)]
    assert any(runs)  # 2 px a sample is below the threshold per step, not in sum


def test_short_videos_get_a_minimum_number_of_looks() -> None:
    assert sample_rate(1.0, 10, 600.0) == 1.0
    assert sample_rate(1.0, 10, 4.0) == 2.5
    assert sample_rate(1.0, 10, 0.5) == 5.0  # capped
    assert sample_rate(1.0, 10, 0.0) == 1.0
