"""Real third-party copies from the shared corpus (ground_truth/copy_pairs.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidlens.cli.app import inner_main

pytestmark = pytest.mark.slow


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = inner_main([*args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_real_copies_are_found_with_their_timecodes(capsys: pytest.CaptureFixture[str], shared_media: Path,
                                                    tmp_path: Path) -> None:
    truth = json.loads((shared_media / "ground_truth" / "copy_pairs.json").read_text())
    pairs = [p for p in truth["positives"] if p["reference"] == "surveillance/intel_car-detection.mp4"]
    assert len(pairs) == 2
    d = str(tmp_path / "d")
    work_id = cli_json(capsys, "register", str(shared_media / pairs[0]["reference"]), "--title", "Car park",
                       "--owner", "Intel", "--data-dir", d)["work_id"]
    # a hard negative (the same kind of footage, another recording) matches nothing
    other = shared_media / "surveillance" / "intel_person-bicycle-car-detection.mp4"
    assert cli_json(capsys, "match", str(other), "--data-dir", d) == {"matches": []}
    for pair in pairs:
        found = cli_json(capsys, "match", str(shared_media / pair["copy"]), "--data-dir", d)["matches"]
        assert found, f"{pair['copy']} not found"
        best = max(found, key=lambda m: m["query_end_s"] - m["query_start_s"])
        assert best["work_id"] == work_id
        r0, r1 = pair["reference_time_s"]
        copied = r1 - r0
        # the whole copy is found, mapped onto the right stretch of the work
        assert best["query_start_s"] == pytest.approx(0, abs=0.5)
        assert best["query_end_s"] == pytest.approx(copied, abs=max(0.6, 0.05 * copied))
        assert best["reference_start_s"] == pytest.approx(r0, abs=0.5)
        assert best["reference_end_s"] == pytest.approx(r1, abs=max(0.6, 0.05 * copied))
