"""Highlight reels: the target length within 1 s, whole sentences only, rendered to that length."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from vidlens.edit.highlights import highlight_decisions
from vidlens.edit.render import RenderPlan, render
from vidlens.errors import UsageError
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe

FPS = Fraction(30000, 1001)


def _document(seed: int, minutes: float) -> tuple[dict[str, Any], int]:
    """A long talk: sentences of 1-9 s with pauses, shots every 4-20 s, people and text now and then."""
    rng = random.Random(seed)
    t, transcript, shots, people, texts = 0.5, [], [], [], []
    end = minutes * 60
    while t < end - 10:
        d = rng.uniform(1.0, 9.0)
        words = " ".join(rng.choice(["engine", "design", "river", "budget", "we", "the", "market", "model"])
                         for _ in range(int(d * 2.5)))
        transcript.append({"text": words, "start_s": round(t, 3), "end_s": round(t + d, 3)})
        if rng.random() < 0.3:
            people.append({"spans": [{"start_s": t, "end_s": t + d}]})
        if rng.random() < 0.1:
            texts.append({"text": "TITLE", "start_s": t, "end_s": t + 2})
        t += d + rng.uniform(0.1, 3.0)
    s = 0.0
    while s < end:
        shots.append({"index": len(shots), "start_s": round(s, 3), "end_s": round(min(end, s + 10), 3)})
        s += rng.uniform(4, 20)
    return {"transcript": transcript, "shots": shots, "people": people, "texts": texts, "objects": [],
            "cues": [], "tags": []}, round(end * float(FPS))


def _inside_a_sentence(frame: int, transcript: list[dict[str, Any]]) -> bool:
    t = frame / float(FPS)
    return any(s["start_s"] + 1e-6 < t < s["end_s"] - 1e-6 for s in transcript)


@pytest.mark.parametrize(("seed", "target"), [(1, 30.0), (2, 60.0), (3, 47.5), (4, 15.0)])
def test_length_within_a_second_and_no_cut_inside_speech(seed: int, target: float) -> None:
    doc, frames = _document(seed, 8)
    dl = highlight_decisions("long.mp4", doc, FPS, frames, target)
    assert abs(dl.output_duration_s() - target) <= 1.0
    for seg in dl.segments:  # every boundary between kept and dropped lies outside every sentence
        for f in (seg.start, seg.end):
            assert not _inside_a_sentence(f, doc["transcript"]), (seg, f)
    assert all("score" in s.scores for s in dl.kept())


def test_a_target_longer_than_the_video_keeps_everything() -> None:
    doc, frames = _document(5, 0.5)
    dl = highlight_decisions("short.mp4", doc, FPS, frames, 120.0)
    assert dl.output_frame_count() == frames and "note" in dl.to_dict()["highlights"]
    with pytest.raises(UsageError):
        highlight_decisions("short.mp4", doc, FPS, frames, 0)


def test_rendered_reel_lands_on_target(talk: tuple[Path, dict[str, Any]], talk_document: dict[str, Any],
                                       tmp_path: Path) -> None:
    path, _ = talk
    v = probe(path)
    frames = round(v.duration_s * 25)
    dl = highlight_decisions(str(path), talk_document, v.fps, frames, 6.0)
    out = tmp_path / "reel.mp4"
    render(path, dl, out, RenderPlan(), has_audio=True)
    n = sum(1 for _ in iter_frames(probe(out), Sampling(max_side=16, pix_fmt="gray")))
    assert n == dl.output_frame_count() and abs(n / 25 - 6.0) <= 1.0
