"""Silence removal: the rules on known level curves, and a render whose sound and picture stay in sync."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidlens.edit.render import RenderPlan, render
from vidlens.edit.silence import SilenceSettings, active_frames, frame_levels, silence_decisions
from vidlens.errors import UsageError
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe

FPS = Fraction(25)


def test_rules_min_clip_min_cut_margin() -> None:
    levels = np.zeros(100, np.float32)
    levels[10:12] = 0.5  # a click: 2 frames < min clip (3)
    levels[40:50] = 0.5
    levels[53:60] = 0.5  # a 3-frame pause < min cut (6): bridged
    keep = active_frames(levels, FPS, SilenceSettings(margin_s=0.2))
    assert not keep[:30].any()
    assert keep[35:65].all() and not keep[65:].any() and not keep[:35].any()  # 40..60 plus 5 frames each side


def test_everything_silent_is_refused() -> None:
    with pytest.raises(UsageError, match="below the silence threshold"):
        silence_decisions("quiet.mp4", np.zeros(50, np.float32), FPS, SilenceSettings())


def test_cuts_fall_in_the_pauses_and_keep_the_speech(talk: tuple[Path, dict[str, Any]]) -> None:
    path, truth = talk
    v = probe(path)
    levels = frame_levels(path, v.fps, round(v.duration_s * 25), 48000)
    dl = silence_decisions(str(path), levels, v.fps, SilenceSettings())
    kept = [(dl.seconds(s.start), dl.seconds(s.end)) for s in dl.kept()]
    for span in truth["speech"]:  # each clip's loud part lies inside one kept segment
        mid = (span["start_s"] + span["end_s"]) / 2
        assert any(a <= mid <= b for a, b in kept), (span, kept)
    assert dl.output_duration_s() < 0.8 * truth["duration_s"]  # the pauses (0.4-2 s each) went


def _lag(a: np.ndarray, b: np.ndarray, max_lag: int = 5) -> int:
    """The shift of ``b`` against ``a`` (in samples) that matches best."""
    n = min(a.size, b.size)
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    scores = {k: float(np.dot(a[max(0, k):n + min(0, k)], b[max(0, -k):n - max(0, k)])) for k in range(-max_lag, max_lag + 1)}
    return max(scores, key=lambda k: scores[k])


@pytest.mark.parametrize("quiet_speed", [0.0, 3.0])
def test_render_keeps_sound_and_picture_in_sync_to_the_frame(talk: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                               quiet_speed: float) -> None:
    path, _ = talk
    v = probe(path)
    frames = round(v.duration_s * 25)
    levels = frame_levels(path, v.fps, frames, 48000)
    dl = silence_decisions(str(path), levels, v.fps, SilenceSettings(quiet_speed=quiet_speed))
    out = tmp_path / "cut.mp4"
    render(path, dl, out, RenderPlan(), has_audio=True)
    got = probe(out)
    luma = np.array([s.image.mean() for s in iter_frames(got, Sampling(max_side=64, pix_fmt="gray"))])
    assert luma.size == dl.output_frame_count()  # the timeline's frame count, exactly
    audio_s = [s for s in got.streams if s.kind == "audio"]
    assert audio_s
    if quiet_speed:
        return  # sped-up parts have no 1:1 source frames to compare; the counts above still hold
    # expected picture and sound: the source's kept frames, in order
    src_luma = np.array([s.image.mean() for s in iter_frames(v, Sampling(max_side=64, pix_fmt="gray"))])
    idx = np.concatenate([np.arange(s.start, s.end) for s in dl.kept()])
    out_levels = frame_levels(out, got.fps, luma.size, 48000)
    expected_levels = levels[idx] / levels[idx].max()
    # lips and the pictures between clips change luma; onsets change level: both match with no shift
    assert _lag(np.diff(src_luma[idx]), np.diff(luma)) == 0
    assert _lag(expected_levels, out_levels) == 0
    assert np.corrcoef(expected_levels, out_levels)[0, 1] > 0.9  # measured 0.99 here
