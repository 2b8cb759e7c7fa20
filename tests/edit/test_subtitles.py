"""Captions: sidecars on the edited timeline, and burned-in Chinese and English text in the caption area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vidlens.edit.service import EditOptions, edit_file
from vidlens.edit.silence import SilenceSettings
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe


def _doc(talk_document: dict[str, Any]) -> dict[str, Any]:
    texts = ["大家好，欢迎收看", "Hello and welcome", "今天我们讲视频剪辑", "Thank you"]
    return {**talk_document, "transcript": [{**s, "text": t} for s, t in zip(talk_document["transcript"], texts,
                                                                               strict=True)]}


def test_vtt_sidecar_follows_the_cuts(talk: tuple[Path, dict[str, Any]], talk_document: dict[str, Any],
                                      tmp_path: Path) -> None:
    path, _ = talk
    doc = _doc(talk_document)
    out = tmp_path / "cut.mp4"
    result = edit_file(path, out, EditOptions(silence=SilenceSettings(), subtitles="vtt", loudness_lufs=None,
                                              sign=False), document=doc)
    vtt = out.with_suffix(".vtt")
    assert vtt in result.sidecars
    text = vtt.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT") and "今天我们讲视频剪辑" in text
    dl = result.decisions
    for seg in doc["transcript"]:  # each sentence's start moved by exactly what was cut before it
        spans = dl.map_span(seg["start_s"], seg["end_s"])
        assert spans and spans[0][0] < dl.output_duration_s()
        ts = f"{int(spans[0][0] // 60):02d}:{spans[0][0] % 60:06.3f}"
        assert ts in text, (ts, text)


def test_burned_captions_draw_in_the_caption_area(talk: tuple[Path, dict[str, Any]], talk_document: dict[str, Any],
                                                  tmp_path: Path) -> None:
    path, _ = talk
    doc = _doc(talk_document)
    plain, burned = tmp_path / "plain.mp4", tmp_path / "burned.mp4"
    edit_file(path, plain, EditOptions(loudness_lufs=None, sign=False), document=None)
    result = edit_file(path, burned, EditOptions(subtitles="burn", loudness_lufs=None, sign=False), document=doc)
    assert "Noto" in result.details["subtitles"]["font"] or result.details["subtitles"]["font"]
    a = [s.image.astype(np.int16) for s in iter_frames(probe(plain), Sampling(pix_fmt="gray"))]
    b = [s.image.astype(np.int16) for s in iter_frames(probe(burned), Sampling(pix_fmt="gray"))]
    assert len(a) == len(b)
    h = a[0].shape[0]
    during = [i for i in range(len(a)) if any(s["start_s"] + 0.1 < i / 25 < s["end_s"] - 0.1 for s in doc["transcript"])]
    between = [i for i in range(len(a)) if all(not (s["start_s"] - 0.1 < i / 25 < s["end_s"] + 0.1)
                                                for s in doc["transcript"])]

    def inked(x: np.ndarray, y: np.ndarray) -> float:  # share of pixels changed as text changes them
        return float((np.abs(x - y) > 60).mean())

    low = [inked(a[i][int(h * 0.75):], b[i][int(h * 0.75):]) for i in during]
    top = [inked(a[i][: int(h * 0.6)], b[i][: int(h * 0.6)]) for i in during]
    off = [inked(a[i], b[i]) for i in between]
    # text drawn low in the frame whenever a sentence is spoken (shortest cue, "Thank you": 1.5 % here)
    assert min(low) > 0.005, min(low)
    assert max(top) < 0.001 and max(off) < 0.001  # nothing drawn elsewhere or between sentences
