"""The scan's voice path: one decode for picture and sound, each utterance embedded once, each window the mean
of the partials inside it; silence is never embedded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.humans.embedders import RATE, Embedders
from vidlens.humans.scan import Speech, voice_windows, window_vectors
from vidlens.humans.settings import HumansSettings
from vidlens.media.decode import AudioSampling, Decoder
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.source import Source

READING = "speech/librivox_sense_and_sensibility_01_austen_64kb-0930.wav"
SAME_AS_ALONE = 0.95  # cosine of a window's vector to the window embedded alone: measured 0.964-1.000 on the corpus' speech


@pytest.fixture(scope="module")
def emb() -> Embedders:
    return Embedders(HumansSettings())


@pytest.fixture(scope="module")
def padded(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> Path:
    """3 s of silence, a reading, 3 s of silence."""
    out = tmp_path_factory.mktemp("scan-voice") / "padded.wav"
    run_ffmpeg(["-f", "lavfi", "-t", "3", "-i", "anullsrc=r=16000:cl=mono", "-i", str(shared_media / READING),
                "-f", "lavfi", "-t", "3", "-i", "anullsrc=r=16000:cl=mono", "-filter_complex",
                "[0:a][1:a][2:a]concat=n=3:v=0:a=1[a]", "-map", "[a]", "-ar", "16000", str(out)])
    return out


def _speech(emb: Embedders, path: Path) -> tuple[np.ndarray, list[tuple[float, float]]]:
    dec = Decoder(Source(str(path)))
    dec.add_audio(AudioSampling(RATE), Speech(emb.vad_stream()))
    return dec.run()[0]  # type: ignore[no-any-return]


def test_speech_is_found_as_it_is_decoded_and_silence_is_never_embedded(emb: Embedders, padded: Path) -> None:
    wav, spans = _speech(emb, padded)
    assert spans and spans[0][0] >= 2.5 and spans[-1][1] <= wav.size / RATE - 2.5  # the VAD pads 0.4 s
    assert spans == emb.speech_spans(wav)  # the same spans as the VAD over the whole track at once
    windows, vectors = window_vectors(emb, wav, spans, 3.0)
    assert windows == [w for ws in voice_windows(spans, 3.0) for w in ws] and len(vectors) == len(windows)
    assert all(spans[0][0] <= a < b <= spans[-1][1] for a, b in windows)


def test_each_window_is_close_to_the_window_embedded_on_its_own(emb: Embedders, padded: Path) -> None:
    wav, spans = _speech(emb, padded)
    windows, vectors = window_vectors(emb, wav, spans, 3.0)
    assert len(windows) >= 2
    for (a, b), v in zip(windows, vectors, strict=True):
        alone = emb.voice(wav[int(a * RATE):int(b * RATE)])
        assert float(v @ alone) >= SAME_AS_ALONE, (a, b, float(v @ alone))
