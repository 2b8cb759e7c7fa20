from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.builtin.technical import TechnicalAnalyzer, _make_cue_clip, is_color_bars
from vidlens.media.ffmpeg import run_ffmpeg

from .conftest import run_analyzer

BAR_RGB = [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191), (191, 0, 0), (0, 0, 191)]


def _bars(w: int = 140, h: int = 90) -> np.ndarray:
    img = np.zeros((h, w, 3), np.float32)
    for i, c in enumerate(BAR_RGB):
        img[: int(h * 0.67), i * w // 7:(i + 1) * w // 7] = c
    img[int(h * 0.67):] = 30
    return img


def test_bars_pattern_is_recognised_also_scrolled_and_captioned() -> None:
    assert is_color_bars(_bars())
    assert is_color_bars(np.roll(_bars(), 37, axis=1))
    captioned = _bars()
    captioned[12:22, 20:120] = 255  # a caption box across the bars
    assert is_color_bars(captioned)


def test_bars_test_rejects_other_pictures() -> None:
    rng = np.random.default_rng(0)
    assert not is_color_bars(rng.uniform(0, 255, (90, 140, 3)).astype(np.float32))
    assert not is_color_bars(_bars()[:, ::-1])  # wrong order
    assert not is_color_bars(np.full((90, 140, 3), 191, np.float32))
    hue = np.linspace(0, 1, 140)[None, :, None] * np.array([255, 128, 64])[None, None, :]
    assert not is_color_bars(np.broadcast_to(hue, (90, 140, 3)).astype(np.float32))


def test_cue_clip_with_six_channel_digital_silence(tmp_path: Path) -> None:
    clip = tmp_path / "silent51.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=3", "-f", "lavfi", "-i",
                "anullsrc=r=48000:cl=5.1", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)])
    doc = run_analyzer(TechnicalAnalyzer(), clip)
    assert doc["audio"] == "digital_silence"
    silence = [c for c in doc["cues"] if c["kind"] == "silence"]
    assert len(silence) == 1 and silence[0]["start_s"] == 0 and silence[0]["end_s"] > 2.8


def test_pillarbox_and_statistics(tmp_path: Path) -> None:
    clip = tmp_path / "pillar.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=240x240:r=25:d=3", "-vf", "pad=426:240:93:0:black",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)])
    doc = run_analyzer(TechnicalAnalyzer(), clip)
    boxes = [c for c in doc["cues"] if c["kind"] == "pillarbox"]
    assert len(boxes) == 1 and 0.18 < boxes[0]["details"]["left_share"] < 0.25, doc["cues"]
    assert not [c for c in doc["cues"] if c["kind"] in ("letterbox", "black", "frozen")]
    stats = doc["picture_stats"]
    assert len(stats) == 2 and all(0 < s["luma"] < 1 and 0 < s["saturation"] < 1 for s in stats)


def test_cues_are_sorted_and_have_spans(tmp_path: Path) -> None:
    doc = run_analyzer(TechnicalAnalyzer.from_dict({"fps": 4}), _make_cue_clip(tmp_path))
    cues = doc["cues"]
    assert [c["start_s"] for c in cues] == sorted(c["start_s"] for c in cues)
    assert {c["kind"] for c in cues} == {"color_bars", "black", "silence", "frozen"}
    assert all(0 <= c["start_s"] < c["end_s"] <= 10.01 for c in cues)
    assert doc["sample_fps"] == 4 and 38 <= doc["samples"] <= 42


@pytest.mark.parametrize("bad", [{"fps": 0}, {"min_border": 0.6}, {"colour": 1}])
def test_bad_config(bad: dict) -> None:
    from vidlens.errors import ConfigError

    with pytest.raises(ConfigError):
        TechnicalAnalyzer.from_dict(bad)


def test_the_runner_decodes_once_and_hears_what_the_file_reads_give(platform, cache_env: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Technical (frames and sound) and speech (sound only) take the sound from the runner's one decode, and
    their documents are those of the analyzers reading the file themselves."""
    from vidlens.analyze.builtin.speech import SpeechAnalyzer
    from vidlens.analyze.runner import AnalysisRunner
    from vidlens.media.source import Source

    clip = _make_cue_clip(tmp_path)  # a tone, then silence: speech finds no speech and never loads Whisper
    alone = {"technical": run_analyzer(TechnicalAnalyzer(), clip), "speech": run_analyzer(SpeechAnalyzer(), clip)}
    opened: list[str] = []
    real_open = Source.open
    monkeypatch.setattr(Source, "open", lambda self: opened.append(self.name) or real_open(self))
    v = platform.catalog.ingest_file(clip, analyze=False).video
    out = AnalysisRunner(platform, analyzers=["technical", "speech"]).run(v)
    assert opened == [clip.name]  # one demux and decode for both
    for name, doc in alone.items():
        assert out.analyzers[name].status == "ok" and out.analyzers[name].document == doc, name
    assert alone["technical"]["audio"] == "present" and any(c["kind"] == "silence" for c in alone["technical"]["cues"])
