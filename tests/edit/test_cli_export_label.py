"""`vidlens edit` end to end: JSON on stdout, the timeline exports match the render, the AIGC label reads back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import opentimelineio as otio

from vidlens.govern.implicit import read_label
from vidlens.govern.service import verify_file
from vidlens.media.decode import Sampling, iter_frames
from vidlens.media.probe import probe


def _frames(path: Path) -> int:
    return sum(1 for _ in iter_frames(probe(path), Sampling(max_side=16, pix_fmt="gray")))


def test_edit_cli_render_export_and_label(talk: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, _ = talk
    out = tmp_path / "edited.mp4"
    data = tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, "-m", "vidlens", "edit", str(src), "-o", str(out), "--silence", "--quiet-speed", "2",
         "--export", "otio", "--export", "edl", "--export", "fcpxml", "--loudness", "-16", "--json",
         "--data-dir", str(data)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # one JSON object, nothing else on stdout
    decisions = result["decisions"]
    assert decisions["operations"] == ["silence"]
    assert {s["reason"] for s in decisions["segments"]} == {"sound", "quiet: 2x"}
    assert all("scores" in s and "keep" in s for s in decisions["segments"])
    rendered = _frames(out)
    assert rendered == decisions["output_frame_count"]
    # the exported timelines are as long as the render, to the frame
    for suffix, adapter in ((".otio", "otio_json"), (".edl", "cmx_3600"), (".fcpxml", "fcpx_xml")):
        side = out.with_suffix(suffix)
        assert str(side) in result["sidecars"]
        tl = otio.adapters.read_from_file(str(side), adapter_name=adapter, **({"rate": 25} if suffix == ".edl" else {}))
        video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video][0]
        assert round(video.duration().rescaled_to(25).value) == rendered, suffix
    # loudness reached (EBU R128 measurement of the output; loudnorm's linear mode lands within 1 LU)
    assert abs(result["loudness_after"]["integrated"] - (-16)) < 1.0
    # GB 45438 implicit label, written by govern and signed by this install's key
    label = read_label(out)
    assert label.label is not None and label.label.Label == "1" and label.label.ContentProducer == "VidLens"
    assert verify_file(out, data)["verified"]


def test_edit_cli_refuses_bad_options(talk: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, _ = talk
    for args in (["--reframe", "2:3"], ["--subtitles", "ass"], ["--export", "aaf"]):
        proc = subprocess.run([sys.executable, "-m", "vidlens", "edit", str(src), "-o", str(tmp_path / "x.mp4"),
                               *args], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode != 0 and proc.stdout == ""
        assert not (tmp_path / "x.mp4").exists()
    proc = subprocess.run([sys.executable, "-m", "vidlens", "edit", str(src), "-o", str(src), "--silence"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and "overwrite the input" in proc.stderr
