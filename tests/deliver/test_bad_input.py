"""Broken inputs fail with a clear error and publish nothing."""

import os
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from vidlens.deliver.ladder import PackageOptions, package
from vidlens.deliver.loudness import normalize
from vidlens.deliver.profiles import PRESETS
from vidlens.deliver.thumbnails import thumbnails
from vidlens.deliver.transcode import transcode
from vidlens.errors import CorruptMediaError, MediaError, MediaLimitError, UnsupportedMediaError
from vidlens.media.ffmpeg import run_ffmpeg


@pytest.fixture(scope="module")
def bad(clips, clip_factory, small_clip):
    files = {}
    files["random"] = clips / "random.mp4"
    files["random"].write_bytes(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    # moov at the end: cutting the tail loses the index
    files["truncated"] = clips / "truncated.mp4"
    files["truncated"].write_bytes(small_clip.read_bytes()[: small_clip.stat().st_size // 2])
    # moov first (faststart): the header promises 8 s, the data stops half way
    whole = clip_factory(
        clips / "faststart.mp4", size="320x180", seconds=8.0, extra=["-movflags", "+faststart"]
    )
    files["dies_half_way"] = clips / "dies_half_way.mp4"
    files["dies_half_way"].write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    files["audio_only"] = clips / "audio_only.m4a"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", str(files["audio_only"])])
    files["huge"] = clips / "huge.png"
    Image.new("L", (9000, 9000)).save(files["huge"])
    files["undecodable"] = clips / "undecodable.mkv"
    with av.open(str(files["undecodable"]), "w") as c:
        s = c.add_stream("h264", rate=25)
        s.width, s.height = 320, 240
        rng = np.random.default_rng(2)
        for i in range(25):
            pkt = av.Packet(rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
            pkt.stream, pkt.pts, pkt.dts, pkt.time_base = s, i, i, Fraction(1, 25)
            c.mux(pkt)
    files["empty"] = clips / "empty.mp4"
    files["empty"].write_bytes(b"")
    return files


EXPECTED = {
    "random": MediaError,  # unsupported or corrupt, as probe judges the bytes
    "truncated": MediaError,
    "dies_half_way": CorruptMediaError,
    "audio_only": UnsupportedMediaError,
    "huge": MediaLimitError,
    "undecodable": CorruptMediaError,
    "empty": CorruptMediaError,
}


def _run(kind, src, out):
    if kind == "transcode":
        return transcode(src, out / "x.mp4", PRESETS["preview"])
    if kind == "package":
        return package(src, out / "pkg", PackageOptions(speed="ultrafast", segment_seconds=2, dash=True))
    return thumbnails(src, out / "thumbs")


@pytest.mark.parametrize("kind", ["transcode", "package", "thumbnails"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_is_a_clear_error_and_publishes_nothing(bad, tmp_path, kind, name):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(EXPECTED[name]) as info:
        _run(kind, bad[name], out)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    assert os.listdir(out) == []


def test_a_failed_ffmpeg_run_reports_its_command_and_log_tail(bad, tmp_path):
    with pytest.raises(CorruptMediaError, match="ends early") as info:
        transcode(bad["dies_half_way"], tmp_path / "x.mp4", PRESETS["preview"])
    assert "8.0" in str(info.value) or "8.00" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_loudness_needs_audio_and_keeps_nothing_on_failure(bad, tmp_path, clip_factory):
    silent_video = clip_factory(tmp_path / "mute.mp4", audio=False, label=None)
    with pytest.raises(UnsupportedMediaError, match="expected an audio stream"):
        normalize(silent_video, tmp_path / "out.mp4")
    with pytest.raises(MediaError):
        normalize(bad["random"], tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
