"""The contract every fingerprinter inherits: examples, round trips, validation, index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vidlens.media.probe import probe
from vidlens.protect.audio import AudioFingerprinter
from vidlens.protect.fingerprint import CorruptFingerprintError, Example, Fingerprint, Fingerprinter
from vidlens.protect.visual import VisualFingerprinter

from .conftest import render

FINGERPRINTERS = [VisualFingerprinter, AudioFingerprinter]


def _render_example(tmp_path: Path, ex: Example, which: str) -> Path:
    graph = ex.reference if which == "reference" else ex.query
    return render(tmp_path / f"{which}.mp4", graph, ex.duration_s, audio=ex.audio)


@pytest.mark.parametrize("cls", FINGERPRINTERS, ids=lambda c: c.name)
def test_declares_name_version_and_index(cls: type[Fingerprinter]) -> None:
    assert cls.name and isinstance(cls.version, int) and cls.version >= 1
    index = cls.index_cls()
    assert hasattr(index, "build") and hasattr(index, "candidates")
    assert len(cls.examples()) >= 2
    assert {e.match for e in cls.examples()} == {True, False}, "examples need a copy and a non-copy"


@pytest.mark.parametrize("case", [(c, e) for c in FINGERPRINTERS for e in c.examples()],
                         ids=lambda ce: f"{ce[0].name}:{ce[1].name}")
def test_examples_hold(case: tuple[type[Fingerprinter], Example], tmp_path: Path) -> None:
    cls, ex = case
    fper = cls()
    ref = fper.fingerprint(probe(_render_example(tmp_path, ex, "reference")))
    query = fper.fingerprint(probe(_render_example(tmp_path, ex, "query")))
    segments = fper.compare(query, ref)
    if ex.match:
        assert segments, f"{ex.name}: the copy was not found"
        longest = max(segments, key=lambda s: s.query_duration_s)
        # measured: the whole 6 s for the visual examples, 5.4 s for the audio one (0.9); offsets 0.0-0.08 s
        assert longest.query_duration_s >= 0.6 * ex.duration_s
        assert abs(longest.reference_start_s - longest.query_start_s) <= 0.5
        # reference span = speed x query span
        assert longest.reference_end_s - longest.reference_start_s == pytest.approx(
            longest.speed * longest.query_duration_s, abs=1e-6)
    else:
        assert segments == [], f"{ex.name}: false match {segments}"
    # the index nominates the reference exactly when the copy is real
    index = cls.index_cls().build([("ref", ref)])
    assert bool(index.candidates(query)) == ex.match


@pytest.mark.parametrize("cls", FINGERPRINTERS, ids=lambda c: c.name)
def test_serialisation_round_trip_and_validation(cls: type[Fingerprinter], tmp_path: Path) -> None:
    ex = next(e for e in cls.examples() if e.match)
    fper = cls()
    fp = fper.fingerprint(probe(_render_example(tmp_path, ex, "reference")))
    back = Fingerprint.from_bytes(fp.to_bytes())
    assert back.digest() == fp.digest() and fper.validate(back) is back
    for name, arr in fp.arrays.items():
        assert np.array_equal(back.arrays[name], arr)
    with pytest.raises(CorruptFingerprintError, match="version"):
        fper.validate(replace(fp, version=fp.version + 1))
    with pytest.raises(CorruptFingerprintError, match="expected a"):
        fper.validate(replace(fp, kind="other"))
    data = fp.to_bytes()
    with pytest.raises(CorruptFingerprintError):
        Fingerprint.from_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFingerprintError):
        Fingerprint.from_bytes(b"not a fingerprint at all")
    # shape lies are caught too
    broken = {k: v[:-1] if v.ndim else v for k, v in fp.arrays.items()}
    first = next(iter(broken))
    bad = replace(fp, arrays={**fp.arrays, first: broken[first]})
    with pytest.raises(CorruptFingerprintError):
        fper.validate(bad)


def test_pickled_arrays_are_refused(tmp_path: Path) -> None:
    import io

    buf = io.BytesIO()
    np.savez(buf, __header__=np.frombuffer(b'{"format": "vidlens-fingerprint"}', np.uint8),
             a_codes=np.array([object()], dtype=object))
    with pytest.raises(CorruptFingerprintError, match="not a readable fingerprint"):
        Fingerprint.from_bytes(buf.getvalue())
