"""Transitions only where they help: the verdicts and reasons, the one-pass render, and the exported timeline."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import opentimelineio as otio
import pytest

from vidlens.edit.decisions import DecisionList, Segment
from vidlens.edit.export import export
from vidlens.edit.render import RenderPlan, render
from vidlens.edit.transitions import decide_joins
from vidlens.media.audio import iter_audio
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe

FPS = Fraction(25)


def _reel(frames: int, kept: list[tuple[int, int]], source: str = "src.mp4") -> DecisionList:
    """Kept ``[a, b)`` stretches, the rest dropped, as a highlight reel would leave them."""
    segs, pos = [], 0
    for a, b in kept:
        if a > pos:
            segs.append(Segment(pos, a, False, "below the cut: picture"))
        segs.append(Segment(a, b, True, "highlight: sentence"))
        pos = b
    if pos < frames:
        segs.append(Segment(pos, frames, False, "below the cut: picture"))
    return DecisionList(source, FPS, frames, tuple(segs), ("highlights",))


def _verdicts(dl: DecisionList) -> list[tuple[str, str]]:
    return [(j["kind"], j["reason"]) for j in dl.to_dict()["joins"]]


def test_a_jump_inside_one_shot_dissolves_a_cut_on_a_shot_boundary_does_not() -> None:
    dl = _reel(400, [(0, 100), (150, 250), (300, 400)])
    judged = decide_joins(dl, shot_cuts=[0, 300])  # one shot to 300: the first join jumps inside it
    (k1, r1), (k2, r2) = _verdicts(judged)
    assert k1 == "dissolve" and "jump cut" in r1
    assert k2 == "cut" and "shot boundary" in r2
    d = judged.to_dict()
    assert [t["at_output_s"] for t in d["transitions"]] == [4.0]  # the join, on the output timeline
    assert judged.output_frame_count() == dl.output_frame_count() == 300  # a dissolve takes no length


def test_different_shots_dissolve_only_when_the_sound_jumps() -> None:
    dl = _reel(400, [(0, 100), (200, 300)])
    levels = np.full(400, 0.5, np.float32)
    assert _verdicts(decide_joins(dl, [0, 150], levels))[0][0] == "cut"  # mid-shot to mid-shot, same level
    levels[200:] = 0.5 / 10 ** (20 / 20)  # 20 dB quieter after the join
    kind, reason = _verdicts(decide_joins(dl, [0, 150], levels))[0]
    assert kind == "dissolve" and "20 dB" in reason


def test_no_dissolve_on_pieces_too_short_or_sped_up() -> None:
    short = _reel(400, [(0, 100), (150, 160), (300, 400)])
    assert {k for k, _ in _verdicts(decide_joins(short, [0]))} == {"cut"}
    fast = DecisionList("src.mp4", FPS, 300, (Segment(0, 100, True, "sound"), Segment(100, 200, False, "silence"),
                                             Segment(200, 300, True, "quiet: 2x", 2.0)))
    assert _verdicts(decide_joins(fast, [0])) == [("cut", "cut: a dissolve needs both pieces at normal speed")]


def _gray(path: Path) -> list[np.ndarray]:
    return [f.image.astype(np.float32) for f in iter_frames(probe(path), Sampling(max_side=64, pix_fmt="gray"))]


def test_the_render_dissolves_over_handles_and_keeps_every_frame_in_place(
        talk: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, truth = talk
    frames = round(truth["duration_s"] * 25) - 2
    dl = decide_joins(_reel(frames, [(0, 75), (200, 275)], str(src)), shot_cuts=[0])
    (join,) = dl.joins
    assert join.kind == "dissolve" and join.handle == 5
    out = tmp_path / "reel.mp4"
    render(src, dl, out, RenderPlan(), has_audio=True)
    got, source = _gray(out), _gray(src)
    assert len(got) == dl.output_frame_count() == 150
    # away from the dissolve, each output frame is its source frame (codec noise only)
    for o, s in ((40, 40), (69, 69), (81, 206), (140, 265)):
        assert np.abs(got[o] - source[s]).mean() < 3.0, (o, s)
    # at the join the picture is half one, half the other: closer to the mix than to either side
    mix = (source[75] + source[200]) / 2
    err_mix = np.abs(got[75] - mix).mean()
    assert err_mix < np.abs(got[75] - source[75]).mean() and err_mix < np.abs(got[75] - source[200]).mean()
    # the sound is as long as the picture (the crossfade took its overlap from the handles too)
    audio = np.concatenate(list(iter_audio(out, 48000, chunk_s=60.0)))
    assert abs(audio.size / 48000 - 150 / 25) < 0.03


@pytest.mark.parametrize(("fmt", "adapter"), [("otio", "otio_json"), ("fcpxml", "fcpx_xml"), ("edl", "cmx_3600")])
def test_the_exported_timeline_has_the_dissolve_and_the_render_s_length(fmt: str, adapter: str, tmp_path: Path) -> None:
    media = tmp_path / "src.mp4"
    media.write_bytes(b"")
    dl = decide_joins(_reel(400, [(0, 100), (150, 250), (300, 400)], str(media)), shot_cuts=[0, 300])
    side = export(dl, media, tmp_path / f"reel.{fmt}", fmt)
    tl = otio.adapters.read_from_file(str(side), adapter_name=adapter, **({"rate": 25} if fmt == "edl" else {}))
    video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video][0]
    assert round(video.duration().rescaled_to(25).value) == dl.output_frame_count() == 300
    if fmt == "fcpxml":  # the adapter reads no transitions back: read the XML Final Cut reads
        spine = ElementTree.parse(side).getroot().find("project/sequence/spine")
        assert spine is not None
        kinds = [c.tag for c in spine]
        assert kinds == ["clip", "transition", "clip", "clip"]  # the dissolve sits between clips 1 and 2
        t = spine[1]
        assert (t.get("offset"), t.get("duration")) == ("19/5s", "2/5s")  # frames 95-105: centred on frame 100
        return
    transitions = [x for x in video if isinstance(x, otio.schema.Transition)]
    assert len(transitions) == 1 and list(video).index(transitions[0]) == 1
    frames = [round(x.rescaled_to(25).value) for x in (transitions[0].in_offset, transitions[0].out_offset,
                                                         video[0].duration(), video[2].source_range.start_time)]
    if fmt == "edl":  # CMX 3600 dissolves start at the edit: the cut moves to frame 95, clip 2 starts 5 earlier
        assert frames == [0, 10, 95, 145]
    else:  # centred on the cut at output frame 100, clip 2 from its own first frame (source 150)
        assert frames == [5, 5, 100, 150]


def test_dissolves_are_paced_never_two_within_four_seconds() -> None:
    # a reel of 2 s sentences from one long shot: every join is a jump cut, only every other one dissolves
    dl = decide_joins(_reel(2000, [(i * 100, i * 100 + 50) for i in range(12)]), shot_cuts=[0])
    d = dl.to_dict()
    at = [j["at_output_s"] for j in d["transitions"]]
    assert at == [2.0, 6.0, 10.0, 14.0, 18.0, 22.0]
    assert all("before" in j["reason"] for j in d["joins"] if j["kind"] == "cut")


def test_a_source_whose_colour_tags_change_midway_renders_whole(talk: tuple[Path, dict[str, Any]],
                                                                  tmp_path: Path) -> None:
    """Parts joined without re-encoding, an untagged one then one tagged BT.709 (the decoded frames change
    colour space at the seam): FFmpeg would rebuild the graph there and restart every trim at zero (the
    render failed with "Invalid data", exit 183)."""
    from vidlens.media.ffmpeg import run_ffmpeg

    src, _ = talk
    tags = {"a": [], "b": ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]}
    for name, (start, extra) in zip(tags, ((0.0, tags["a"]), (7.0, tags["b"])), strict=True):
        run_ffmpeg(["-ss", f"{start}", "-t", "7", "-i", str(src), *extra, "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "25", "-c:a", "aac", str(tmp_path / f"{name}.mp4")])
    (tmp_path / "parts.txt").write_text("file 'a.mp4'\nfile 'b.mp4'\n")
    joined = tmp_path / "joined.mp4"
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(tmp_path / "parts.txt"), "-c", "copy", str(joined)])
    frames = round(probe(joined).duration_s * 25) - 2
    dl = decide_joins(_reel(frames, [(25, 100), (225, 300)], str(joined)), shot_cuts=[0])
    assert [j.kind for j in dl.joins] == ["dissolve"]
    out = tmp_path / "reel.mp4"
    render(joined, dl, out, RenderPlan(), has_audio=True)
    got, source = _gray(out), _gray(joined)
    assert len(got) == dl.output_frame_count() == 150
    # after the seam: its own source frame, levels untouched (measured 0.3; 4.8 when xfade converted it)
    assert np.abs(got[140] - source[290]).mean() < 3.0
    audio = np.concatenate(list(iter_audio(out, 48000, chunk_s=60.0)))
    assert abs(audio.size / 48000 - 150 / 25) < 0.03


def test_a_failed_render_ends_its_message_with_ffmpeg_s_log(talk: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from vidlens.edit.render import Captions
    from vidlens.errors import FFmpegError

    src, truth = talk
    frames = round(truth["duration_s"] * 25) - 2
    missing = tmp_path / "gone.srt"
    plan = RenderPlan(captions=Captions(missing, tmp_path, "Sans", 640, 360))
    with pytest.raises(FFmpegError) as err:
        render(src, _reel(frames, [(0, 75)], str(src)), tmp_path / "out.mp4", plan, has_audio=True)
    head, _, log = str(err.value).partition("FFmpeg's log ends:")
    assert head.startswith("render failed: ffmpeg failed (exit ") and "Conversion failed" not in head
    assert "gone.srt" in log  # FFmpeg's own words about the file it could not open
