import re

import pytest
from PIL import Image

from vidlens.deliver.labels import read_label
from vidlens.deliver.loudness import TARGETS, LoudnessTarget, measure, normalize
from vidlens.deliver.thumbnails import sprite_vtt, thumbnails
from vidlens.errors import UsageError


def test_two_pass_loudnorm_reaches_the_target_linearly(small_clip, tmp_path, aigc_label):
    out = tmp_path / "norm.mp4"
    r = normalize(small_clip, out)
    assert r.before.integrated < -30
    assert abs(r.after.integrated - (-23.0)) < 1.0
    assert r.after.true_peak <= -1.0 + 0.5
    assert r.normalization == "linear"
    assert read_label(out) == aigc_label  # tags and video copied through
    again, _ = measure(out)
    assert again == r.after


def test_streaming_target_and_measure_only(small_clip, tmp_path):
    r = normalize(small_clip, tmp_path / "web.m4a", TARGETS["streaming"])
    assert abs(r.after.integrated - (-14.0)) < 1.0
    only = normalize(small_clip)
    assert only.after is None and only.output is None and only.normalization == "measured only"
    with pytest.raises(UsageError, match="unsupported output type"):
        normalize(small_clip, tmp_path / "x.xyz")
    with pytest.raises(ValueError):
        LoudnessTarget(integrated=5)


@pytest.mark.slow
def test_digitally_silent_track_is_left_alone(shared_media, tmp_path):
    r = normalize(shared_media / "surveillance" / "intel_car-detection.mp4", tmp_path / "car.mp4")
    assert r.normalization == "none (silent)" and r.to_dict()["before"]["integrated"] is None


def test_poster_sprites_vtt_and_preview(labelled_720p, tmp_path):
    out = tmp_path / "thumbs"
    r = thumbnails(labelled_720p, out, poster_at=2.5, interval_s=0.5)
    assert r.poster_time_s == 2.5
    assert Image.open(out / "poster.jpg").size == (1280, 720)
    assert (r.tile_width, r.tile_height) == (160, 90)
    sheet = Image.open(out / r.sprites[0])
    assert sheet.size == (160 * 10, 90 * 10)
    vtt = (out / "thumbnails.vtt").read_text()
    cues = re.findall(r"(\S+) --> (\S+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)", vtt)
    assert vtt.startswith("WEBVTT") and len(cues) == r.cues == 12
    assert cues[0][:2] == ("00:00:00.000", "00:00:00.500") and cues[-1][1] == "00:00:06.000"
    assert cues[11][3:] == ("160", "90", "160", "90")
    preview = Image.open(out / "preview.webp")
    # libwebp merges repeated frames (the still colour bars), so fewer than 3 s x 12 fps
    assert preview.is_animated and preview.n_frames >= 10 and preview.size == (320, 180)


def test_preview_as_mp4_and_bad_poster_time(small_clip, tmp_path):
    r = thumbnails(small_clip, tmp_path / "t", preview="mp4")
    assert (tmp_path / "t" / "preview.mp4").stat().st_size > 1000 and r.poster_time_s == 0.4
    with pytest.raises(UsageError, match="outside the video"):
        thumbnails(small_clip, tmp_path / "t2", poster_at=99)
    assert not (tmp_path / "t2").exists()


def test_vtt_spans_several_sheets():
    vtt, n = sprite_vtt(250, 1.0, 100, 50, ["a.jpg", "b.jpg", "c.jpg"])
    assert n == 250
    assert "b.jpg#xywh=0,0,100,50" in vtt and "c.jpg#xywh=900,400,100,50" not in vtt
    assert vtt.count("c.jpg") == 50


def test_poster_is_the_best_keyframe_once_the_library_has_analysed_the_video(small_clip, tmp_path, capsys):
    import json
    from fractions import Fraction

    from vidlens.cli.app import inner_main
    from vidlens.cli.common import open_platform

    data = tmp_path / "data"
    argv = ["thumbnails", str(small_clip), str(tmp_path / "t0"), "--preview", "none", "--json"]
    assert inner_main([*argv, "--data-dir", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["poster_origin"] == "default"
    assert not data.exists()  # looking for analysis created no library

    assert inner_main(["ingest", str(small_clip), "--json", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    catalog = open_platform(data).catalog
    shots = catalog.shots(catalog.get_video(str(small_clip)).id)
    assert len(shots) >= 3  # the clip changes scene every 1.3 s
    longest = max(shots, key=lambda s: s["end_pts"] - s["start_pts"])
    want = float(longest["keyframe_pts"] * Fraction(longest["time_base"]))

    argv[2] = str(tmp_path / "t1")
    assert inner_main([*argv, "--data-dir", str(data)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["poster_origin"] == "analysis" and abs(r["poster_time_s"] - want) < 0.01
