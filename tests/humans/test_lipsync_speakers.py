"""Who speaks each dubbed line: the face whose mouth moved with that line's original speech, unless the line's
evidence is weak, then the face chosen over all lines. Face tracks built from mouth openings, no video."""

from __future__ import annotations

import numpy as np

from vidlens.humans.presenter import face as fm
from vidlens.humans.presenter.lipsync import LINE_MARGIN, LINE_MIN_R, FaceTrack, choose_speakers

FPS = 25.0
LINES = [(0.0, 4.0), (5.0, 9.0), (10.0, 14.0)]
TOTAL = int(15 * FPS)


def track(x: float, width: float, openings: np.ndarray) -> FaceTrack:
    """A face at ``x`` whose inner lips are ``openings`` mouth widths apart, frame by frame."""
    t = FaceTrack()
    for i, o in enumerate(openings):
        lm = np.zeros((468, 2), np.float32)
        lm[:, 0] = x + np.linspace(0, width, 468)
        lm[fm.MOUTH_LEFT], lm[fm.MOUTH_RIGHT] = (x, 100.0), (x + width / 2, 100.0)
        lm[13], lm[14] = (x + width / 4, 100.0), (x + width / 4, 100.0 + o * width / 2)
        t.add(i, lm, i)
    return t


def speech(rng: np.random.Generator) -> np.ndarray:
    """A loudness envelope: syllables of random strength inside each line, silence between."""
    env = np.zeros(TOTAL, np.float32)
    for a, b in LINES:
        i0, i1 = int(a * FPS), int(b * FPS)
        env[i0:i1] = np.clip(np.sin(np.arange(i1 - i0) * 0.9) * rng.uniform(0.5, 1.0, i1 - i0), 0, None)
    return env


def frames(line: int) -> slice:
    return slice(int(LINES[line][0] * FPS), int(LINES[line][1] * FPS) + 1)


def test_each_line_goes_to_the_face_whose_mouth_moved_with_it() -> None:
    rng = np.random.default_rng(1)
    env = speech(rng)
    left, right = np.full(TOTAL, 0.02), np.full(TOTAL, 0.03)  # still mouths while the other one talks
    for k in (0, 2):
        left[frames(k)] = 0.02 + 0.3 * env[frames(k)] + rng.normal(0, 0.02, env[frames(k)].size)
    right[frames(1)] = 0.03 + 0.3 * env[frames(1)] + rng.normal(0, 0.02, env[frames(1)].size)
    faces, lines = choose_speakers([track(0, 200, left), track(500, 180, right)], LINES, FPS, TOTAL, env, None)
    assert [len(f.landmarks) for f in faces] == [TOTAL, TOTAL]  # largest first: left (200 px), right (180 px)
    assert [line["face"] for line in lines] == [0, 1, 0]
    assert lines[1]["chosen_by"] == "mouth moved with this line's original speech"


def test_a_line_with_weak_evidence_keeps_the_choice_over_all_lines() -> None:
    rng = np.random.default_rng(2)
    env = speech(rng)
    left = 0.02 + 0.3 * env + rng.normal(0, 0.05, TOTAL)  # follows the speech in every line
    right = 0.03 + rng.normal(0, 0.05, TOTAL)  # moves at random
    # in the middle line the right mouth follows the speech about as well as the left one: not a clear winner
    right[frames(1)] = 0.03 + 0.3 * env[frames(1)] + rng.normal(0, 0.05, env[frames(1)].size)
    _, lines = choose_speakers([track(0, 200, left), track(500, 180, right)], LINES, FPS, TOTAL, env, None)
    r = lines[1]["correlation"]
    assert r["1"] > r["0"] - 0.1 and r["1"] - r["0"] < LINE_MARGIN and r["0"] >= LINE_MIN_R  # the premise
    assert [line["face"] for line in lines] == [0, 0, 0]
    assert lines[0]["chosen_by"] == "mouth moved with the original speech, in this line and over all lines"
    if r["1"] > r["0"]:
        assert "weak" in lines[1]["chosen_by"]


def test_face_index_and_a_single_face_are_not_second_guessed() -> None:
    rng = np.random.default_rng(3)
    env = speech(rng)
    left, right = 0.02 + 0.3 * env, np.full(TOTAL, 0.03)
    tracks = [track(0, 200, left), track(500, 180, right)]
    _, lines = choose_speakers(tracks, LINES, FPS, TOTAL, env, 1)
    assert {line["face"] for line in lines} == {1} and {line["chosen_by"] for line in lines} == {"face index"}
    _, lines = choose_speakers(tracks[1:], LINES, FPS, TOTAL, env, None)
    assert {line["chosen_by"] for line in lines} == {"the only face"}
