from fractions import Fraction

import pytest
from pydantic import ValidationError

from vidlens.deliver.filters import even, fit_size, output_fps
from vidlens.deliver.ladder import choose_ladder
from vidlens.deliver.profiles import PRESETS, Profile, available_encoders, encoder_args, get_profile
from vidlens.errors import ConfigError, NotFoundError


def test_presets_cover_every_codec_the_build_can_encode():
    assert {p.codec for p in PRESETS.values()} == {"h264", "h265", "vp9", "av1"}
    assert {"libx264", "libx265", "libvpx-vp9"} <= available_encoders()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"codec": "h264"}, "set crf or bitrate_kbps"),
        ({"codec": "h264", "crf": 20, "bitrate_kbps": 3000}, "not both"),
        ({"codec": "h264", "crf": 60}, "out of range for h264"),
        ({"codec": "h264", "crf": 20, "hdr": "passthrough"}, "10-bit codec"),
        ({"codec": "mpeg2", "crf": 20}, "codec"),
        ({"codec": "h264", "crf": 20, "colour": "red"}, "Extra inputs"),
    ],
)
def test_profile_validation_rejects_bad_fields(fields, message):
    with pytest.raises(ValidationError, match=message):
        Profile(name="x", **fields)


def test_profiles_from_config_and_unknown_names():
    p = get_profile("mine", {"mine": {"codec": "vp9", "crf": 30, "audio_codec": "opus"}})
    assert p.codec == "vp9" and p.crf == 30
    with pytest.raises(ConfigError, match="profile 'bad' is invalid"):
        get_profile("bad", {"bad": {"codec": "h264"}})
    with pytest.raises(NotFoundError, match="web-h264"):
        get_profile("nope")


def test_fixed_gop_turns_scene_cut_keyframes_off_for_each_encoder():
    h264 = encoder_args(Profile(name="a", codec="h264", bitrate_kbps=1000), gop=48, spec=":v:1")
    assert h264[:2] == ["-c:v:1", "libx264"]
    assert h264[h264.index("-g:v:1") + 1] == "48" and h264[h264.index("-sc_threshold:v:1") + 1] == "0"
    h265 = encoder_args(Profile(name="b", codec="h265", crf=28), gop=48)
    assert "keyint=48:min-keyint=48:scenecut=0" in h265[h265.index("-x265-params:v") + 1]
    vp9 = encoder_args(Profile(name="c", codec="vp9", crf=31))
    assert vp9[vp9.index("-b:v") + 1] == "0"  # constant quality in libvpx needs b:v 0


def test_sizes_are_even_and_never_upscaled():
    assert fit_size(1921, 1081, 3840, 2160) == (1920, 1080)
    assert fit_size(3840, 2160, 1920, 1080) == (1920, 1080)
    assert fit_size(321, 241, 1920, 1080) == (320, 240)
    assert fit_size(1080, 1920, 1920, 1080) == (1080, 1920)  # the box turns with the picture
    assert fit_size(2160, 3840, 1920, 1080) == (1080, 1920)
    assert even(1) == 2
    assert output_fps(Fraction(60), 30) == 30
    assert output_fps(Fraction(60000, 1001), 30) == Fraction(30000, 1001)
    assert output_fps(Fraction(25), 30) == 25


def test_ladder_is_chosen_from_the_source_and_tops_out_at_2160p():
    assert [r.name for r in choose_ladder(3840, 2160, max_rungs=6)] == [
        "2160p",
        "1440p",
        "1080p",
        "720p",
        "480p",
        "360p",
    ]
    assert [r.name for r in choose_ladder(7680, 4320, max_rungs=2)] == ["2160p", "1440p"]
    rungs = choose_ladder(1280, 720)
    assert [(r.width, r.height) for r in rungs] == [(1280, 720), (852, 480), (640, 360)]
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in rungs)
    assert rungs[0].video_kbps > rungs[1].video_kbps > rungs[2].video_kbps
    portrait = choose_ladder(720, 1280)
    assert next((r.width, r.height) for r in portrait) == (720, 1280)
    tiny = choose_ladder(321, 241)
    assert [(r.width, r.height) for r in tiny] == [(320, 240)]  # below every rung: one, at source size
    assert choose_ladder(1920, 1080, codec="h265")[0].video_kbps < choose_ladder(1920, 1080)[0].video_kbps


def test_profiles_declared_in_config_are_checked_and_used(small_clip, tmp_path, capsys):
    import json

    from vidlens.cli.app import inner_main
    from vidlens.settings import load_settings

    good = tmp_path / "good.toml"
    good.write_text(
        '[deliver.profiles.tiny-vp9]\ncodec = "vp9"\ncrf = 40\nmax_height = 144\n'
        'audio_codec = "opus"\nspeed = "ultrafast"\n'
    )
    assert inner_main(["profiles", "--json", "--config", str(good)]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["profiles"]}
    assert rows["tiny-vp9"]["origin"] == "config" and rows["web-h264"]["origin"] == "built-in"
    out = tmp_path / "tiny.webm"
    argv = ["transcode", str(small_clip), str(out), "-p", "tiny-vp9", "--json", "--config", str(good)]
    assert inner_main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["profile"], r["encoder"], r["height"]) == ("tiny-vp9", "libvpx-vp9", 144)

    bad = tmp_path / "bad.toml"
    bad.write_text('[deliver.profiles.no-rate]\ncodec = "h264"\n')
    with pytest.raises(ConfigError, match="profile 'no-rate': set crf or bitrate_kbps"):
        load_settings(config_file=bad)
