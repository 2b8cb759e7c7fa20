from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.analyze.builtin.speech import SpeechAnalyzer, _make_speech_clip, _make_tone_clip, _pack, _span_audio
from vidlens.blobs.local import LocalBlobStore
from vidlens.errors import ConfigError

from .conftest import run_analyzer


def test_transcript_segments_and_subtitle_blobs(tmp_path: Path) -> None:
    doc = run_analyzer(SpeechAnalyzer.from_dict({"language": "en"}), _make_speech_clip(tmp_path), tmp_path / "blobs")
    segs = doc["transcript"]
    assert segs and all(set(s) >= {"text", "start_s", "end_s", "language"} for s in segs)
    assert all(s["language"] == "en" and 0 <= s["start_s"] < s["end_s"] <= 11.1 for s in segs)
    assert [s["start_s"] for s in segs] == sorted(s["start_s"] for s in segs)
    blobs = LocalBlobStore(tmp_path / "blobs")
    vtt = blobs.get_bytes(doc["subtitles"]["vtt"]).decode()
    srt = blobs.get_bytes(doc["subtitles"]["srt"]).decode()
    assert vtt.startswith("WEBVTT") and "what your country can do for you" in vtt.lower()
    assert srt.startswith("1\n00:00:0") and "," in srt.splitlines()[1]


def test_silent_track_never_loads_whisper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("Whisper must not be loaded for audio without speech")

    monkeypatch.setattr("vidlens.models.whisper.load_whisper", boom)
    doc = run_analyzer(SpeechAnalyzer(), _make_tone_clip(tmp_path))
    assert doc["audio"] == "no_speech" and doc["transcript"] == [] and doc["model"] is None


def test_config_rejects_unknown_models_and_keys() -> None:
    with pytest.raises(ConfigError, match="speech"):
        SpeechAnalyzer.from_dict({"model": "large-v3"})
    with pytest.raises(ConfigError):
        SpeechAnalyzer.from_dict({"beam": 5})


def test_packing_groups_spans_and_maps_times_back() -> None:
    spans = [(1.0, 3.0), (10.0, 14.0), (50.0, 75.0), (80.0, 130.0)]
    windows = _pack(spans, max_s=30.0)
    assert [w.spans for w in windows] == [((1.0, 3.0), (10.0, 14.0)), ((50.0, 75.0),), ((80.0, 130.0),)]
    w = windows[0]  # packed: [0, 2) span 1, 1 s pause, [3, 7) span 2
    assert w.to_source(0.5, False) == 1.5
    assert w.to_source(3.5, False) == 10.5
    assert w.to_source(2.5, False) == 10.0  # a start in the pause snaps to the next span
    assert w.to_source(2.5, True) == 3.0  # an end in the pause snaps back to the span's end
    assert w.to_source(9.0, True) == 14.0
    import numpy as np

    audio = np.arange(16000 * 20, dtype=np.float32)
    chunks = [audio[i:i + 7000] for i in range(0, audio.size, 7000)]  # spans cross chunk borders
    span_audio = _span_audio(chunks, list(w.spans))
    assert [a.size for a in span_audio.values()] == [2 * 16000, 4 * 16000]
    packed = w.audio(span_audio)
    assert packed.size == 16000 * 7 and packed[0] == 16000 and packed[3 * 16000] == 160000
    assert np.array_equal(packed[3 * 16000:], audio[160000:224000])
