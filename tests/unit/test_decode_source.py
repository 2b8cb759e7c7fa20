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


def test_the_packet_tap_gives_the_demuxed_packets_beside_the_frames(tmp_path: Path) -> None:
    """One demux feeds frames and packets: the packets are the container's own (bytes, times, keyframes)."""
    import av

    clip = _clip(tmp_path / "c.mp4", 2.0, audio=True)
    with av.open(str(clip)) as c:
        direct = [(bytes(p), float(p.pts * p.time_base), bool(p.is_keyframe), p.stream.type)
                  for p in c.demux() if p.size]
    dec = Decoder(open_source(clip))
    frames, video, everything = Collector(), Collector(), Collector()
    dec.add_video(Sampling(pix_fmt="gray", max_side=32), frames)
    dec.add_packets(video)
    dec.add_packets(everything, streams=("all",))
    dec.run()
    got = [(bytes(s.packet), s.t, s.keyframe, s.kind) for s in everything.items]
    assert got == direct
    vids = list(video.items)
    assert [s.kind for s in vids] == ["video"] * len(frames.items) == ["video"] * 2 * FPS  # no B-frames: one each
    assert [s.t for s in vids] == pytest.approx([f.t for f in frames.items])
    assert [round(s.t, 3) for s in vids if s.keyframe] == [0.0, 1.0]
    assert dec.clock_origin_s == 0.0 and all(f.received is not None for f in frames.items)


def test_tapped_packets_copy_the_stream_without_decoding(tmp_path: Path) -> None:
    """A stream copy from the tap (what recordings and clips do) decodes to the source's frames."""
    import av

    from vidlens.media.decode import iter_packets

    clip = _clip(tmp_path / "c.mp4", 2.0)
    copy = tmp_path / "copy.ts"
    with av.open(str(copy), "w", format="mpegts") as out:
        stream = None
        for s in iter_packets(open_source(clip)):
            stream = stream or out.add_stream_from_template(s.packet.stream)
            s.packet.stream = stream
            out.mux(s.packet)
    gray = Sampling(pix_fmt="gray")
    a = list(read_frames(open_source(clip), gray))
    b = list(read_frames(open_source(copy), gray))
    assert len(a) == len(b) == 2 * FPS and all(np.array_equal(x.image, y.image) for x, y in zip(a, b))


def test_bytes_in_memory_read_like_the_file(tmp_path: Path) -> None:
    from vidlens.media.decode import iter_packets
    from vidlens.media.source import open_bytes

    clip = _clip(tmp_path / "c.mp4", 1.0)
    gray = Sampling(pix_fmt="gray", max_side=64)
    from_file = list(read_frames(open_source(clip), gray))
    in_memory = list(read_frames(open_bytes(clip.read_bytes(), "segment.mp4"), gray))
    assert [f.pts for f in in_memory] == [f.pts for f in from_file] and len(from_file) == FPS
    assert all(np.array_equal(x.image, y.image) for x, y in zip(in_memory, from_file))
    with pytest.raises(CorruptMediaError, match="^seg.m4s: expected media, got 0 bytes"):
        list(iter_packets(open_bytes(b"", "seg.m4s")))
    with pytest.raises(CorruptMediaError, match="^junk.m4s: "):
        list(iter_packets(open_bytes(b"\x00\x17junk" * 64, "junk.m4s")))


def test_live_options_listen_and_timeouts() -> None:
    rtmp = open_source("rtmp://0.0.0.0:1935/live/key", listen=True, timeout_s=5, open_timeout_s=60)
    assert rtmp._live_options() == {"rw_timeout": "5000000", "listen": "1"} and rtmp.open_timeout_s == 60
    srt = open_source("srt://0.0.0.0:9000", listen=True)._live_options()
    assert srt["mode"] == "listener"
    rtsp = open_source("rtsp://cam.local/live", timeout_s=2, options={"rtsp_transport": "udp"})._live_options()
    assert rtsp == {"rw_timeout": "2000000", "timeout": "2000000", "rtsp_transport": "udp"}
    assert open_source("http://cam.local/mjpeg")._live_options()["reconnect"] == "0"
    with pytest.raises(UsageError, match="only a live URL can listen"):
        open_source("clip.mp4", listen=True)


def test_a_consumer_of_frames_and_sound_gets_both_in_one_queue(tmp_path: Path) -> None:
    """FrameFanout hands frames and sound to one consumer in decode order (the runner's speech and technical)."""
    from vidlens.media.decode import AudioChunk, FrameFanout

    clip = _clip(tmp_path / "c.mp4", 2.0, audio=True)
    fan = FrameFanout(probe(clip))
    sound = AudioSampling(rate=8000, chunk_s=0.5)
    fan.subscribe("both", Sampling(fps=5, max_side=32, pix_fmt="gray"), list, audio=sound)
    fan.subscribe("sound", None, list, audio=sound)
    got = fan.run()
    kinds = [type(x).__name__ for x in got["both"]]
    assert kinds.count("FrameSample") == 10
    assert "FrameSample" in kinds[kinds.index("AudioChunk"):]  # the sound comes among the frames, not after them
    whole = load_audio(clip, rate=8000)
    for items in (got["both"], got["sound"]):
        chunks = [x.samples for x in items if isinstance(x, AudioChunk)]
        assert np.array_equal(np.concatenate(chunks), whole)
    with pytest.raises(UsageError, match="neither frames nor sound"):
        fan.subscribe("nothing", None, list)


def test_batched_hand_off_gives_each_consumer_the_same_items_in_the_same_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The decode thread queues a file's items in batches; what each consumer gets, and in which order, is
    what one item at a time gives."""
    import vidlens.media.decode as decode
    from vidlens.media.decode import AudioChunk, FrameFanout, PacketSample

    clip = _clip(tmp_path / "c.mp4", 2.0, audio=True)

    def items(batch: int) -> list[tuple]:
        monkeypatch.setattr(decode, "HANDOFF_BATCH", batch)
        dec = Decoder(open_source(clip))
        got = Collector()
        dec.add_video(Sampling(fps=5, max_side=32, pix_fmt="gray"), got)
        dec.add_audio(AudioSampling(rate=8000, chunk_s=0.25), got)
        dec.add_packets(got, ("audio",))
        dec.run()
        return [("frame", x.pts, x.image.tobytes()) if not isinstance(x, (AudioChunk, PacketSample))
                else ("sound", x.start_s, x.samples.tobytes()) if isinstance(x, AudioChunk)
                else ("packet", x.t, bytes(x.packet)) for x in got.items]

    one, batched = items(1), items(decode.HANDOFF_BATCH)
    assert [k for k, *_ in batched].count("frame") == 10 and {"sound", "packet"} <= {k for k, *_ in batched}
    assert batched == one
    fan = FrameFanout(probe(clip))
    fan.subscribe("sound", None, list, audio=AudioSampling(rate=8000, chunk_s=0.25))
    sound = np.concatenate([c.samples for c in fan.run()["sound"]])
    assert np.array_equal(sound, load_audio(clip, rate=8000))


def test_dropping_non_reference_frames_takes_the_next_decoded_frame_with_its_own_time(tmp_path: Path) -> None:
    """``skip_nonref``: fewer frames decoded, each at its true time; a sample due on a dropped frame takes the
    next decoded one, so the sampled times agree with a full decode's to within the longest run of dropped
    frames."""
    clip = tmp_path / "b.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}:duration=4", "-c:v", "libx264",
                "-bf", "3", "-b_strategy", "0", "-g", "250", "-pix_fmt", "yuv420p", str(clip)])  # B-frames
    video = probe(clip)
    every = [f.t for f in iter_frames(video, Sampling(max_side=32, pix_fmt="gray"))]
    decoded = [f.t for f in iter_frames(video, Sampling(max_side=32, pix_fmt="gray"), skip_nonref=True)]
    assert len(every) == 4 * FPS and len(decoded) < 0.8 * len(every)  # non-reference B-frames were dropped
    assert set(decoded) < set(every)  # every decoded frame keeps its own timestamp
    gap = max(b - a for a, b in zip(decoded, decoded[1:]))
    sparse = Sampling(fps=2, max_side=32, pix_fmt="gray")
    full = [f.t for f in iter_frames(video, sparse)]
    dropped = [f.t for f in iter_frames(video, sparse, skip_nonref=True)]
    assert len(full) == len(dropped) == 8
    assert any(a != b for a, b in zip(full, dropped, strict=True))  # some samples were due on a dropped frame
    for due, got in zip(full, dropped, strict=True):
        assert got == min(t for t in decoded if t >= due - 1e-9)
        assert 0 <= got - due < gap
