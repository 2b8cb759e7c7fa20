"""Edit fixtures: a short talk with known pauses, and its analysis document built from what is known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vidlens.testing.talk import build_talk

GRID = ("bbaf2n.mpg", "brbk7n.mpg", "lbax4n.mpg", "pwij3p.mpg")


@pytest.fixture(scope="session")
def talk(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """About 15 s: four GRID sentences with random pauses and room noise (spans known by construction)."""
    out = tmp_path_factory.mktemp("talk") / "talk.mp4"
    truth = build_talk([shared_media / "av_speech_grid" / n for n in GRID], out, seconds=14, seed=3)
    return out, truth


@pytest.fixture(scope="session")
def talk_document(talk: tuple[Path, dict[str, Any]], shared_media: Path) -> dict[str, Any]:
    """The document an analysis of the talk gives, with the reference transcripts at the known spans.

    The speech analyzer's own timings differ by a few hundredths of a second; edit logic is tested on
    known spans so a failure points at the edit, not at the speech model.
    """
    _, truth = talk
    texts = json.loads((shared_media / "ground_truth" / "transcripts.json").read_text())
    transcript = [{"text": texts[f"av_speech_grid/{s['clip']}"]["text"], "start_s": s["start_s"] + 0.6,
                   "end_s": s["end_s"] - 0.4, "language": "en", "confidence": 0.9, "no_speech_prob": 0.01,
                   "source": "reference"} for s in truth["speech"]]
    shots = [{"index": 0, "start_s": 0.0, "end_s": truth["duration_s"]}]
    return {"schema": "vidlens.analysis", "version": 2, "transcript": transcript, "shots": shots,
            "people": [], "objects": [], "texts": [], "cues": [], "tags": []}
