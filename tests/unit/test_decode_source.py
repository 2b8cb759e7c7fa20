"""The one decode layer: its timestamp policy, seek ranges, fan-out and file checks, on files FFmpeg makes."""

from pathlib import Path

import numpy as np
import pytest

from vidlens.errors import CorruptMediaError, UnsupportedMediaError, UsageError
from vidlens.media.audio import iter_audio, load_audio
from vidlens.media.decode import AudioSampling, Collector, Decoder, Sampling, iter_frames, read_frames
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe
from vidlens.media.source import open_source

FPS = 25


def _clip(path: Path, seconds: float = 4.0, *, audio: bool = False) -> Path:
    """A moving test pattern, no B-frames, a keyframe a second (seeks land before the range start)."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}", "-c:a", "aac"]
    run_ffmpeg([*args, "-c:v", "libx264", "-bf", "0", "-g", str(FPS), "-pix_fmt", "yuv420p", str(path)])
    return path


def _times(source) -> list[float]:
    return [f.t for f in read_frames(source, Sampling(pix_fmt="gray", max_side=32))]


def test_missing_timestamps_are_filled_from_the_frame_rate(tmp_path: Path) -> None:
    """A raw H.264 stream carries no PTS at all: frame i is at i / rate."""
    raw = tmp_path / "raw.h264"
    run_ffmpeg(["-i", str(_clip(tmp_path / "c.mp4", 2.0)), "-c", "copy", str(raw)])
    times = _times(open_source(raw))
    assert len(times) == 2 * FPS
    assert times == pytest.approx([i / FPS for i in range(2 * FPS)], abs=1e-6)


def test_timestamps_that_jump_back_are_made_monotonic(tmp_path: Path) -> None:
    """Two MPEG-TS captures joined byte-wise: the second restarts its clock; times keep rising a frame apart."""
    parts = []
    for name in ("a", "b"):
        ts = tmp_path / f"{name}.ts"
        run_ffmpeg(["-i", str(_clip(tmp_path / f"{name}.mp4", 1.0)), "-c", "copy", "-f", "mpegts", str(ts)])
        parts.append(ts.read_bytes())
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(parts))
    times = _times(open_source(joined))
    assert len(times) == 2 * FPS
    steps = np.diff(times)
    assert np.all(steps > 0)
    assert steps[FPS - 1] == pytest.approx(1 / FPS, abs=1e-3)  # the junction: one frame on, not back to the start


def test_a_seek_range_gives_exactly_the_frames_of_that_range(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "c.mp4")
    v = probe(clip)
    whole = list(iter_frames(v, Sampling(pix_fmt="gray")))
    start, end = 1.3, 2.5  # neither on a keyframe (one a second): the seek lands before, the rest is dropped
    ranged = list(iter_frames(v, Sampling(pix_fmt="gray"), source=open_source(clip, start=start, end=end)))
    expected = [f for f in whole if start <= f.t < end]
    assert len(expected) == 30
    assert [f.pts for f in ranged] == [f.pts for f in expected]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(ranged, expected))


def test_a_seek_range_cuts_the_sound_too(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "c.mp4", audio=True)
    whole = load_audio(clip, rate=8000)
    part = load_audio(open_source(clip, start=1.0, end=2.5), rate=8000)
    assert part.size == pytest.approx(1.5 * 8000, abs=2)
    assert whole.size > 3.9 * 8000


def test_two_consumers_get_what_one_alone_gets(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "c.mp4", 2.0, audio=True)
    v = probe(clip)
    sampling = Sampling(fps=10, max_side=64, pix_fmt="rgb24")
    alone = list(iter_frames(v, sampling))
    dec = Decoder(open_source(clip), video=v)
    a, b, sound = Collector(), Collector(), Collector()
    dec.add_video(sampling, a)
    dec.add_video(sampling, b)
    dec.add_audio(AudioSampling(rate=8000, chunk_s=0.5), sound)
    dec.run()
    for got in (list(a.items), list(b.items)):
        assert [(f.index, f.pts) for f in got] == [(f.index, f.pts) for f in alone] and len(alone) == 20
        assert all(np.array_equal(x.image, y.image) for x, y in zip(got, alone))
    chunks = list(sound.items)
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), load_audio(clip, rate=8000))
    assert [c.start_s for c in chunks[:3]] == pytest.approx([chunks[0].start_s + i * 0.5 for i in range(3)])


def test_bad_sources_get_clear_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaError, match="no such file: gone.mp4$"):
        open_source(tmp_path / "gone.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(CorruptMediaError, match="^empty.mp4: "):
        open_source(tmp_path / "empty.mp4")
    clip = _clip(tmp_path / "c.mp4", 2.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    with pytest.raises(CorruptMediaError, match="^cut.mp4: "):
        list(read_frames(open_source(cut), Sampling(pix_fmt="gray")))
    with pytest.raises(UsageError, match="range end"):
        open_source(clip, start=2.0, end=1.0)
    with pytest.raises(UsageError, match="seek range"):
        open_source("rtsp://camera.local/stream", start=1.0)
    with pytest.raises(UsageError, match="scheme"):
        open_source("ftp://example.org/a.mp4")
    assert open_source("rtsp://user:secret@cam.local:554/live?token=x").name == "rtsp://cam.local:554/live"
    assert list(iter_audio(clip)) == []  # no audio stream: nothing, never an error
