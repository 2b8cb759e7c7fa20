import itertools

import av
import pytest

from vidlens.deliver.labels import read_label
from vidlens.deliver.profiles import PRESETS, Profile
from vidlens.deliver.transcode import transcode
from vidlens.errors import ConflictError, UsageError

FAST = {"speed": "ultrafast"}


def _video(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frame = next(c.decode(s))
        return s.codec_context.codec.canonical_name, frame.width, frame.height, frame


def test_h264_transcode_carries_the_label_and_reports_progress(small_clip, tmp_path, aigc_label):
    blocks = []
    out = tmp_path / "out.mp4"
    r = transcode(small_clip, out, PRESETS["web-h264"].model_copy(update=FAST), on_progress=blocks.append)
    assert read_label(out) == aigc_label
    assert r.labels == {"AIGC": "carried"}
    assert (r.width, r.height, r.encoder) == (640, 360, "libx264")
    assert abs(r.duration_s - 4.0) < 0.1
    assert blocks and blocks[-1]["progress"] == "end"
    # web presets aim at -14 LUFS: measured before, normalised in the same encode, measured after
    assert r.loudness["target"] == -14 and r.loudness["before"]["integrated"] < -20
    assert abs(r.loudness["after"]["integrated"] + 14) < 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "preset, suffix, codec",
    [("web-vp9", ".webm", "vp9"), ("web-av1", ".mp4", "av1"), ("web-h265", ".mkv", "hevc")],
)
def test_every_codec_encodes_where_the_build_has_it(small_clip, tmp_path, preset, suffix, codec, aigc_label):
    out = tmp_path / f"out{suffix}"
    r = transcode(small_clip, out, PRESETS[preset].model_copy(update={**FAST, "max_height": 180}))
    assert _video(out)[:3] == (codec, 320, 180) and (r.width, r.height) == (320, 180)
    assert read_label(out) == aigc_label


def test_mpeg_ts_carries_the_label_as_timed_metadata(small_clip, tmp_path, aigc_label):
    r = transcode(small_clip, tmp_path / "out.ts", PRESETS["preview"])
    assert r.labels["AIGC"] == "carried" and read_label(tmp_path / "out.ts") == aigc_label
    assert r.loudness is None  # the preview preset sets no loudness target


def test_odd_sizes_become_even_and_rotation_is_applied(clips, tmp_path, clip_factory):
    odd = clip_factory(
        clips / "odd.mp4", size="321x241", audio=False, label=None, extra=["-pix_fmt", "yuv444p"]
    )
    r = transcode(odd, tmp_path / "odd.mp4", PRESETS["preview"])
    assert (r.width, r.height) == (320, 240)
    rotated = clips / "rotated.mp4"
    clip_factory(rotated, size="320x180", audio=False, label=None, extra=["-metadata:s:v", "rotate=90"])
    import subprocess

    from vidlens.media.ffmpeg import ffmpeg_exe

    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-display_rotation",
            "90",
            "-i",
            str(rotated),
            "-c",
            "copy",
            str(clips / "rotated2.mp4"),
        ],
        check=True,
    )
    r = transcode(clips / "rotated2.mp4", tmp_path / "rot.mp4", PRESETS["preview"])
    assert (r.width, r.height) == (180, 320)
    assert _video(tmp_path / "rot.mp4")[1:3] == (180, 320)


def test_interlaced_input_is_deinterlaced(clips, tmp_path, clip_factory):
    src = clip_factory(
        clips / "interlaced.mp4",
        size="320x240",
        rate=50,
        audio=False,
        label=None,
        vf="interlace",
        extra=["-flags", "+ildct+ilme", "-x264-params", "tff=1"],
    )
    r = transcode(src, tmp_path / "prog.mp4", PRESETS["preview"])
    assert r.deinterlaced
    assert not _video(tmp_path / "prog.mp4")[3].interlaced_frame


def test_hdr_is_kept_or_tone_mapped_on_request(clips, tmp_path, clip_factory):
    src = clips / "hdr.mp4"
    clip_factory(
        src,
        size="320x180",
        audio=False,
        label=None,
        vf="setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc,format=yuv420p10le",
        extra=[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
        ],
    )
    kept = transcode(src, tmp_path / "hdr.mp4", PRESETS["web-h265"].model_copy(update=FAST))
    sdr = transcode(src, tmp_path / "sdr.mp4", PRESETS["sdr-h264"].model_copy(update=FAST))
    assert kept.hdr == "pq kept" and sdr.hdr == "pq tone-mapped to sdr"
    hdr_frame, sdr_frame = _video(tmp_path / "hdr.mp4")[3], _video(tmp_path / "sdr.mp4")[3]
    # AVColorTransferCharacteristic: 16 = SMPTE ST 2084 (PQ), 1 = BT.709
    assert (hdr_frame.format.name, int(hdr_frame.color_trc)) == ("yuv420p10le", 16)
    assert (sdr_frame.format.name, int(sdr_frame.color_trc)) == ("yuv420p", 1)


def test_variable_frame_rate_becomes_constant(clips, tmp_path, clip_factory):
    src = clip_factory(
        clips / "vfr.mp4",
        size="320x180",
        audio=False,
        label=None,
        vf="setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'",
        extra=["-fps_mode", "vfr"],
    )
    out = tmp_path / "cfr.mp4"
    transcode(src, out, PRESETS["preview"])
    with av.open(str(out)) as c:
        pts = [f.pts for f in c.decode(video=0)]
    steps = {b - a for a, b in itertools.pairwise(pts)}
    assert len(steps) == 1


def test_container_and_codec_mismatch_is_a_usage_error(small_clip, tmp_path):
    with pytest.raises(UsageError, match="cannot hold vp9"):
        transcode(small_clip, tmp_path / "x.ts", PRESETS["web-vp9"])
    with pytest.raises(UsageError, match="unsupported output type"):
        transcode(small_clip, tmp_path / "x.avi", PRESETS["web-h264"])
    with pytest.raises(UsageError, match="cannot hold aac audio"):
        transcode(small_clip, tmp_path / "x.webm", Profile(name="v", codec="vp9", crf=30))


def test_existing_output_is_kept_unless_overwrite(small_clip, tmp_path):
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(ConflictError, match="--overwrite"):
        transcode(small_clip, out, PRESETS["preview"])
    assert out.read_bytes() == b"precious"
    transcode(small_clip, out, PRESETS["preview"], overwrite=True)
    assert out.stat().st_size > 1000
