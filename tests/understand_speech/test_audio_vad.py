from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.builtin.speech import _make_silent_video, _make_speech_clip, _make_tone_clip
from vidlens.errors import ModelError, UsageError
from vidlens.media.audio import iter_audio, load_audio, rms_db
from vidlens.models.vad import SileroVad, VadParams, speech_spans, vad_model_path


def test_six_channel_tone_then_silence_downmixes_to_mono(tmp_path: Path) -> None:
    audio = load_audio(_make_tone_clip(tmp_path), rate=16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / 16000 - 4.0) < 0.1
    db = rms_db(audio, 16000, 0.5)
    assert db[:3].min() > -30 and db[-3:].max() < -60  # tone, then (AAC-coded) silence


def test_chunks_are_contiguous_and_sized(tmp_path: Path) -> None:
    clip = _make_tone_clip(tmp_path)
    chunks = list(iter_audio(clip, rate=8000, chunk_s=1.0))
    assert all(c.size == 8000 for c in chunks[:-1]) and 0 < chunks[-1].size <= 8000
    whole = load_audio(clip, rate=8000)
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_no_audio_stream_reads_as_empty(tmp_path: Path) -> None:
    assert load_audio(_make_silent_video(tmp_path)).size == 0
    assert list(iter_audio(_make_silent_video(tmp_path))) == []


def test_bad_rate_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="rate"):
        list(iter_audio(tmp_path / "x.mp4", rate=10))


def test_vad_finds_speech_but_not_a_tone(tmp_path: Path) -> None:
    vad = SileroVad()
    speech = load_audio(_make_speech_clip(tmp_path))
    spans = speech_spans(vad.probabilities(speech), speech.size / 16000)
    assert spans and spans[0][0] < 0.5 and spans[-1][1] > 10.0
    assert sum(e - s for s, e in spans) > 8.0
    tone = load_audio(_make_tone_clip(tmp_path))
    assert speech_spans(vad.probabilities(tone), tone.size / 16000) == []


def test_vad_streaming_equals_one_pass(tmp_path: Path) -> None:
    vad = SileroVad()
    audio = load_audio(_make_speech_clip(tmp_path))
    whole = vad.probabilities(audio)
    vad.reset()
    parts = [vad.feed(audio[:1000]), vad.feed(audio[1000:50_001]), vad.feed(audio[50_001:]), vad.finish()]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)


def test_span_rules_hysteresis_min_length_and_padding() -> None:
    step = 512 / 16000
    probs = np.zeros(200, np.float32)
    probs[20:60] = 0.9  # 1.28 s of speech
    probs[62:64] = 0.9  # resumes after a 64 ms dip: same span
    probs[150:152] = 0.9  # 64 ms blip: dropped by min_speech_s
    spans = speech_spans(probs, 200 * step, VadParams(pad_s=0.1))
    assert len(spans) == 1
    s, e = spans[0]
    assert abs(s - (20 * step - 0.1)) < 1e-3 and abs(e - (64 * step + 0.1)) < 1e-3
    with pytest.raises(UsageError):
        VadParams(threshold=1.5)


def test_vad_model_errors_name_the_slot(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="speech.vad.*does not exist"):
        vad_model_path(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model" * 200)
    with pytest.raises(ModelError, match="speech.vad.*not a loadable ONNX model"):
        SileroVad(junk)
