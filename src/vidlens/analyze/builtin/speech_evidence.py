"""Is the voiced audio speech? Several weak cues combined into one score, so no single number decides.

Voice-activity detectors let some music through (an orchestral score, the first second of a song),
and Whisper then writes "Hmm." or "Thanks for watching!" over it. Each cue alone sits close to the
line on some material and moves with the CPU and the library build (Whisper's no-speech probability on
Big Buck Bunny's score: 0.56 on one machine, 0.62 on another, against Whisper's own 0.6). So each cue
becomes a vote in [-1, 1] (negative: not speech), clipped so that no cue can outvote the others on its
own, and the weighted votes are summed:

- Whisper's no-speech probability for the window, from the model that transcribed it;
- its average log-probability per token (Whisper decodes music with little confidence);
- the compression ratio of its text (Whisper looping on one phrase compresses far better than speech;
  only ever a vote against speech);
- how much text per second of voiced audio (letters and digits, a run of three or more of one counted once:
  speech in any language gives several a second, Whisper's "Mmm." over music one);
- how sure the VAD was inside the spans it passed (speech holds it near 1, music hovers near the
  threshold).

Signal cues (low-energy frame share, tonal persistence, spectral flatness and flux, harmonicity,
4 Hz modulation, rhythm) were measured too: music that Silero lets through and speech over music look
alike in all of them, and with any weight they narrowed the margins, so they are not in the score.

The anchors and weights were fitted on half of a set of real speech, real music that Silero passes,
speech mixed over music and noise, and transformed copies, and checked on the other half
(docs/understand.md gives the figures).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SpeechEvidence:
    """The cues for one window of voiced audio (see the module docstring)."""

    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float
    chars_per_s: float
    vad_mean: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class _Cue:
    """A linear vote from ``at_minus`` (-1) to ``at_plus`` (+1), clipped to [``lo``, ``hi``]."""

    at_minus: float
    at_plus: float
    weight: float
    lo: float = -1.0
    hi: float = 1.0

    def vote(self, x: float) -> float:
        t = 2.0 * (x - self.at_minus) / (self.at_plus - self.at_minus) - 1.0
        return float(np.clip(t, self.lo, self.hi))


# Anchors and weights: fitted on the tuning half of the material (docs/understand.md).
CUES: Mapping[str, _Cue] = {
    "no_speech_prob": _Cue(at_minus=0.7, at_plus=0.2, weight=0.2),
    "avg_logprob": _Cue(at_minus=-1.1, at_plus=-0.5, weight=0.2),
    "compression_ratio": _Cue(at_minus=2.6, at_plus=2.2, weight=0.1, hi=0.0),
    "chars_per_s": _Cue(at_minus=1.5, at_plus=4.5, weight=0.3),
    "vad_mean": _Cue(at_minus=0.45, at_plus=0.65, weight=0.3),
}


def speech_score(evidence: SpeechEvidence) -> float:
    """The weighted sum of the votes, in [-1, 1]: above 0 the window is speech."""
    total = sum(c.weight for c in CUES.values())
    return sum(c.weight * c.vote(getattr(evidence, name)) for name, c in CUES.items()) / total


def votes(evidence: SpeechEvidence) -> dict[str, float]:
    """Each cue's weighted vote, for the report (they add up to :func:`speech_score`)."""
    total = sum(c.weight for c in CUES.values())
    return {name: round(c.weight * c.vote(getattr(evidence, name)) / total, 4) for name, c in CUES.items()}


def compression_ratio(text: str) -> float:
    """Whisper's measure of repetitive output: UTF-8 length over zlib-compressed length (0 for no text)."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def text_rate(text: str, voiced_s: float) -> float:
    """Letters and digits per voiced second, a run of three or more of one counted once ("Hmmmm" is two)."""
    return sum(ch.isalnum() for ch in re.sub(r"(.)\1{2,}", r"\1", text.lower())) / max(voiced_s, 0.1)
