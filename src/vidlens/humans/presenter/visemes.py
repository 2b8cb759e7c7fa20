"""Phonemes to mouth shapes over time: visemes, blended with co-articulation.

Each phoneme Piper speaks (espeak IPA, one symbol at a time) has a target mouth shape: how far
the jaw is open, how much the lips spread and how much they round. Real speech never reaches one
target before moving to the next: neighbouring sounds shape each other (co-articulation). We use
the dominance model of Cohen and Massaro: every phoneme's target weighs on each instant by a
dominance that decays exponentially away from the phoneme's centre, strong for sounds the lips
must make (p, b, m close them; f, v need the lip at the teeth), weak for vowels that borrow their
neighbours' shape. The shape at a frame is the dominance-weighted mean of the targets around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vidlens.edit.dub import Phone


@dataclass(frozen=True, slots=True)
class Viseme:
    open: float  # jaw opening, 0 (closed) .. 1 (wide open)
    spread: float  # lip corners drawn apart, 0 .. 1
    round: float  # lips rounded and narrowed, 0 .. 1
    dominance: float  # how strongly this sound holds its shape against its neighbours
    rate: float  # 1/s: how fast its dominance decays away from its centre


REST = Viseme(0.0, 0.0, 0.0, 0.6, 12.0)
_VOWEL = 14.0  # vowels give way quickly to their neighbours
_LIPS = 22.0  # bilabials and labiodentals hold tight, briefly

# espeak-ng IPA symbols (Piper phonemes) -> target shapes
_TABLE: dict[str, Viseme] = {}
for symbols, v in (
    ("aɑæɐ", Viseme(0.95, 0.25, 0.0, 0.5, _VOWEL)),
    ("ʌ", Viseme(0.75, 0.15, 0.0, 0.5, _VOWEL)),
    ("ɒ", Viseme(0.8, 0.0, 0.35, 0.5, _VOWEL)),
    ("eɛ", Viseme(0.6, 0.55, 0.0, 0.5, _VOWEL)),
    ("iɪy", Viseme(0.3, 0.85, 0.0, 0.5, _VOWEL)),
    ("əɚɜɘɵ", Viseme(0.45, 0.15, 0.05, 0.35, _VOWEL)),
    ("oɔ", Viseme(0.6, 0.0, 0.75, 0.55, _VOWEL)),
    ("uʊɯ", Viseme(0.3, 0.0, 0.9, 0.6, _VOWEL)),
    ("pbm", Viseme(0.0, 0.1, 0.0, 1.0, _LIPS)),
    ("fv", Viseme(0.1, 0.25, 0.0, 0.9, _LIPS)),
    ("θð", Viseme(0.22, 0.3, 0.0, 0.6, 16.0)),
    ("w", Viseme(0.15, 0.0, 1.0, 0.9, 16.0)),
    ("ɹrɾ", Viseme(0.25, 0.0, 0.5, 0.55, 16.0)),
    ("l", Viseme(0.35, 0.2, 0.0, 0.4, 16.0)),
    ("sztdnɬ", Viseme(0.18, 0.45, 0.0, 0.45, 18.0)),
    ("ʃʒɕʑ", Viseme(0.22, 0.0, 0.65, 0.7, 16.0)),
    ("kgŋxɣq", Viseme(0.32, 0.2, 0.0, 0.3, 16.0)),
    ("hʔ", Viseme(0.4, 0.1, 0.0, 0.15, 14.0)),
    ("jʝ", Viseme(0.25, 0.6, 0.0, 0.45, 16.0)),
):
    for s in symbols:
        _TABLE[s] = v
_HOLD = set("ˈˌːˑ\u0303\u0329")  # stress and length marks: the sound before goes on
_PAUSE = set(" ^$_.,;:!?…—-\"'()，。！？；：、")  # word breaks, sentence ends and padding: the mouth rests
NEUTRAL = Viseme(0.35, 0.15, 0.1, 0.3, 15.0)  # a sound the table does not know (another language's symbol)


def viseme_of(symbol: str) -> Viseme | None:
    """The target of one phoneme symbol; None for a mark that only lengthens or stresses the sound before."""
    if symbol in _HOLD:
        return None
    if symbol in _PAUSE or not symbol.strip():
        return REST
    return _TABLE.get(symbol, NEUTRAL)


def segments(phones: Sequence[Phone]) -> list[tuple[float, float, Viseme]]:
    """Phonemes as (start, end, viseme), stress and length marks merged into the sound before them."""
    out: list[tuple[float, float, Viseme]] = []
    for p in phones:
        v = viseme_of(p.symbol)
        if v is None and out:
            s, _, prev = out[-1]
            out[-1] = (s, p.end_s, prev)
        elif v is not None:
            out.append((p.start_s, p.end_s, v))
    return out


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame mouth shape at ``fps``: arrays of equal length."""

    fps: float
    open: np.ndarray
    spread: np.ndarray
    round: np.ndarray


def coarticulate(phones: Sequence[Phone], duration_s: float, fps: float) -> MouthTrack:
    """The mouth shape at every frame: dominance-weighted targets (Cohen-Massaro), rest outside speech."""
    n = max(1, int(np.ceil(duration_s * fps)))
    t = (np.arange(n, dtype=np.float64) + 0.5) / fps
    segs = segments(phones)
    if not segs:
        z = np.zeros(n, np.float32)
        return MouthTrack(fps, z, z.copy(), z.copy())
    centres = np.array([(a + b) / 2 for a, b, _ in segs])
    halves = np.array([(b - a) / 2 for a, b, _ in segs])
    dom = np.array([v.dominance for *_, v in segs])
    rate = np.array([v.rate for *_, v in segs])
    targets = np.array([[v.open, v.spread, v.round] for *_, v in segs])
    # distance outside each phoneme's own span: inside it, the sound is at full dominance
    dist = np.maximum(np.abs(t[:, None] - centres[None, :]) - halves[None, :], 0.0)
    w = dom[None, :] * np.exp(-rate[None, :] * dist)
    shape = (w @ targets) / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)
    # before the first and after the last sound: back to rest over ~80 ms
    lead = np.clip((t - (segs[0][0] - 0.08)) / 0.08, 0, 1) * np.clip(((segs[-1][1] + 0.08) - t) / 0.08, 0, 1)
    shape *= lead[:, None]
    return MouthTrack(fps, *(shape[:, i].astype(np.float32) for i in range(3)))


def jaw(open_: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """The jaw control per frame: the visemes' opening, a little wider on loud syllables, closed in silence
    (the presenter's and lip-synced dubbing's one rule)."""
    return (open_ * (0.65 + 0.35 * energy) + 0.1 * energy).astype(np.float32)


def envelope(samples: np.ndarray, rate: int, fps: float, n: int) -> np.ndarray:
    """RMS loudness of the speech at each frame (frame-centred 40 ms windows), scaled to 0..1."""
    return envelope_at(samples, rate, (np.arange(n) + 0.5) / fps)


def envelope_at(samples: np.ndarray, rate: int, times: np.ndarray) -> np.ndarray:
    """RMS loudness of the speech in 40 ms windows centred on ``times`` (seconds), scaled to 0..1."""
    n = len(times)
    half = int(0.02 * rate)
    centres = (np.asarray(times, np.float64) * rate).astype(np.int64)
    sq = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    lo = np.clip(centres - half, 0, samples.size)
    hi = np.clip(centres + half, 0, samples.size)
    rms = np.sqrt((sq[hi] - sq[lo]) / np.maximum(hi - lo, 1))
    top = float(np.percentile(rms, 95)) if rms.size else 0.0
    return np.clip(rms / top, 0, 1).astype(np.float32) if top > 1e-6 else np.zeros(n, np.float32)
