import io
import itertools
from pathlib import Path

import av
import pytest
from pydantic import ValidationError

from vidlens.deliver.labels import read_label
from vidlens.deliver.ladder import PackageOptions, package
from vidlens.deliver.verify import master_variants, video_segments
from vidlens.errors import ConflictError

FAST = {"speed": "ultrafast", "segment_seconds": 2.0}


def assert_aligned(playlists: list[Path], segment_s: float) -> None:
    """Every rendition: same segment count, each segment opens on a keyframe at the same pts."""
    per = [video_segments(p) for p in playlists]
    counts = {len(segs) for segs in per}
    assert len(counts) == 1 and counts.pop() >= 3
    for segs in per:
        assert all(s.starts_with_keyframe for s in segs)
    starts = [[s.first_pts_s for s in segs] for segs in per]
    assert all(st == starts[0] for st in starts), starts
    keyframes = [[k for s in segs for k in s.keyframes_s] for segs in per]
    assert all(k == keyframes[0] for k in keyframes), keyframes
    # a fixed GOP: the source's scene cuts (every 1.3 s) added no keyframes
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(keyframes[0])}
    assert gaps == {segment_s}


def test_hls_fmp4_ladder_is_aligned_and_labelled(labelled_720p, tmp_path, aigc_label):
    out = tmp_path / "pkg"
    r = package(labelled_720p, out, PackageOptions(**FAST))
    assert [x.name for x in r.renditions] == ["720p", "480p", "360p"]
    master = out / "master.m3u8"
    text = master.read_text()
    assert "#EXT-X-STREAM-INF" in text and "TYPE=AUDIO" in text and "RESOLUTION=1280x720" in text
    variants = master_variants(master)
    assert len(variants) == 3
    assert_aligned(variants, 2.0)
    for init in out.glob("*/init*.mp4"):
        assert read_label(init) == aigc_label
    assert r.labels["AIGC"] == {"hls": "carried"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_hls_ts_ladder_carries_the_label_in_its_segments(labelled_720p, tmp_path, aigc_label):
    out = tmp_path / "ts"
    r = package(labelled_720p, out, PackageOptions(segment_type="ts", max_rungs=2, **FAST))
    assert sorted(p.name for p in out.iterdir()) == ["480p", "720p", "aigc.json", "audio", "master.m3u8"]
    assert {p.suffix for p in (out / "720p").iterdir()} == {".m3u8", ".ts"}
    assert_aligned(master_variants(out / "master.m3u8"), 2.0)
    assert r.labels["AIGC"]["hls"] == "carried"
    assert all(read_label(seg) == aigc_label for seg in out.glob("*/*.ts"))


def test_hls_and_dash_share_one_encode_and_carry_the_label(labelled_720p, tmp_path, aigc_label):
    out = tmp_path / "both"
    r = package(labelled_720p, out, PackageOptions(hls=True, dash=True, **FAST))
    mpd = (out / "manifest.mpd").read_text()
    assert mpd.count("<Representation ") == 4 and 'contentType="audio"' in mpd
    assert (out / "master.m3u8").is_file()
    variants = master_variants(out / "master.m3u8")
    assert_aligned(variants, 2.0)
    inits = sorted(out.glob("init-*.m4s"))
    assert len(inits) == 4 and all(read_label(i) == aigc_label for i in inits)
    # the spliced init segments still decode with their media segments
    data = (out / "init-0.m4s").read_bytes() + (out / "chunk-0-00001.m4s").read_bytes()
    with av.open(io.BytesIO(data)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 60
    assert r.labels["AIGC"] == {"hls": "carried", "dash": "carried"}


def test_never_upscales_a_small_source(small_clip, tmp_path):
    r = package(small_clip, tmp_path / "small", PackageOptions(dash=True, hls=False, **FAST))
    assert [(x.width, x.height) for x in r.renditions] == [(640, 360)]


def test_bad_options_and_occupied_folders(labelled_720p, tmp_path):
    with pytest.raises(ValidationError, match="at least one"):
        PackageOptions(hls=False, dash=False)
    with pytest.raises(ValidationError, match="fMP4"):
        PackageOptions(dash=True, segment_type="ts")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ConflictError, match="--overwrite"):
        package(labelled_720p, busy, PackageOptions(**FAST))
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_real_clip_with_scene_cuts_stays_aligned(shared_media, tmp_path):
    out = tmp_path / "bbb"
    r = package(
        shared_media / "shots" / "blender_bbb_0_30.webm",
        out,
        PackageOptions(max_rungs=3, speed="ultrafast", segment_seconds=4.0),
    )
    assert [x.name for x in r.renditions] == ["720p", "480p", "360p"]
    assert_aligned(master_variants(out / "master.m3u8"), 4.0)
