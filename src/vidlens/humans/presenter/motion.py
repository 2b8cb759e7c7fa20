"""What keeps a presenter alive between words: blinks, head movement, breathing.

People blink every 2–6 s (about 17 a minute while talking), each blink ~150 ms down and ~100 ms
up; the head drifts slowly, nods a little on stressed syllables, and rises and falls with the
breath. All of it is drawn from a generator seeded by the caller (the script's hash), so the same
script and portrait give the same video.
"""

from __future__ import annotations

import numpy as np

BLINK_GAP_S = (2.0, 5.5)
BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S = 0.08, 0.05, 0.12


def blinks(n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Eyelid closure (0 open .. 1 shut) at each of ``n`` frames."""
    t = np.arange(n) / fps
    out = np.zeros(n, np.float32)
    at = rng.uniform(0.6, 2.0)
    while at < n / fps:
        rel = t - at
        close = np.clip(rel / BLINK_CLOSE_S, 0, 1)
        reopen = np.clip((rel - BLINK_CLOSE_S - BLINK_HOLD_S) / BLINK_OPEN_S, 0, 1)
        out = np.maximum(out, np.where(rel < 0, 0, close - reopen).astype(np.float32))
        at += rng.uniform(*BLINK_GAP_S)
    return out


def _drift(t: np.ndarray, rng: np.random.Generator, periods: tuple[float, ...]) -> np.ndarray:
    """A smooth, aperiodic wander in [-1, 1]: a few slow sines of random phase."""
    s = sum(np.sin(2 * np.pi * t / p + rng.uniform(0, 2 * np.pi)) for p in periods)
    return (s / len(periods)).astype(np.float32)


def head(n: int, fps: float, face_px: float, energy: np.ndarray, rng: np.random.Generator
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head shift (dx, dy in pixels) and turn (radians) per frame: drift, breath and nods with the speech."""
    t = np.arange(n) / fps
    unit = face_px / 200.0  # movements scale with the face
    breath = np.sin(2 * np.pi * t / 4.2 + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    # nods follow the speech's loudness, slowed to a head's pace (~0.3 s)
    k = max(1, int(0.3 * fps))
    nod = np.convolve(energy, np.ones(k, np.float32) / k, mode="same") if energy.size else np.zeros(n, np.float32)
    dx = 1.6 * unit * _drift(t, rng, (6.1, 9.7, 3.3))
    dy = unit * (0.6 * breath + 1.2 * nod + 0.5 * _drift(t, rng, (7.3, 4.4)))
    turn = np.radians(0.8) * _drift(t, rng, (5.3, 8.9, 2.9))
    return dx, dy.astype(np.float32), turn.astype(np.float32)
