"""The contract every installed fingerprinter and index inherits, driven by its own ``examples()``.

Plugins are found the way VidLens finds them (entry points, kinds ``fingerprinter`` and ``index``),
so a third-party fingerprinter or a search index registered the same way is held to the same
rules: its examples hold, its values round-trip and are validated, its index answers the same after
``build``, one-by-one ``add`` and a save and reload in the versioned format (never pickle), an empty
index finds nothing and persists, and bad entries, queries and files are refused with clear errors.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vidlens.errors import UsageError, VidLensError
from vidlens.index import INDEX_FORMAT, CorruptIndexError, Hit, Index, StaleIndexError
from vidlens.media.probe import probe
from vidlens.plugins import discovered
from vidlens.protect.fingerprint import CorruptFingerprintError, Example, Fingerprint, Fingerprinter

FINGERPRINTERS: list[type[Fingerprinter]] = [p.cls for p in discovered().of_kind("fingerprinter")]
INDEXES: list[type[Index]] = [p.cls for p in discovered().of_kind("index")]


def test_the_built_in_plugins_are_discovered() -> None:
    assert {c.name for c in FINGERPRINTERS} >= {"visual", "audio"}
    assert {c.name for c in INDEXES} >= {"visual-codes", "audio-landmarks"}


# -- fingerprinters -------------------------------------------------------------
@pytest.mark.parametrize("cls", FINGERPRINTERS, ids=lambda c: c.name)
def test_fingerprinter_declares_itself(cls: type[Fingerprinter]) -> None:
    assert issubclass(cls, Fingerprinter)
    assert cls.name and isinstance(cls.version, int) and cls.version >= 1
    assert cls.manifest.kind == "fingerprinter" and cls.manifest.name == cls.name
    assert cls.manifest.version == str(cls.version) and cls.manifest.summary
    # its index is an installed index plugin, so the index contract below covers it too
    assert cls.index_cls() in INDEXES
    assert {e.match for e in cls.examples()} == {True, False}, "examples need a copy and a non-copy"


@pytest.mark.parametrize("case", [(c, e) for c in FINGERPRINTERS for e in c.examples()],
                         ids=lambda ce: f"{ce[0].name}:{ce[1].name}")
def test_fingerprinter_examples_hold(case: tuple[type[Fingerprinter], Example], tmp_path: Path) -> None:
    cls, ex = case
    fper = cls()
    ref_path, query_path = ex.render(tmp_path)
    ref = fper.fingerprint(probe(ref_path))
    query = fper.fingerprint(probe(query_path))
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
    # the index nominates the reference exactly when the copy is real, before and after a reload
    index = cls.index_cls().build([("ref", ref, {"title": ex.name})])
    hits = index.query(query)
    assert [h.id for h in hits] == (["ref"] if ex.match else [])
    assert all(h.payload == {"title": ex.name} for h in hits)
    back = cls.index_cls().from_bytes(index.to_bytes())
    assert back.query(query) == hits


@pytest.mark.parametrize("cls", FINGERPRINTERS, ids=lambda c: c.name)
def test_fingerprint_round_trip_and_validation(cls: type[Fingerprinter], tmp_path: Path) -> None:
    ex = next(e for e in cls.examples() if e.match)
    fper = cls()
    fp = fper.fingerprint(probe(ex.render(tmp_path)[0]))
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
    first = next(iter(fp.arrays))
    bad = replace(fp, arrays={**fp.arrays, first: fp.arrays[first][:-1]})
    with pytest.raises(CorruptFingerprintError):
        fper.validate(bad)


def test_pickled_fingerprint_arrays_are_refused() -> None:
    buf = io.BytesIO()
    np.savez(buf, __header__=np.frombuffer(b'{"format": "vidlens-fingerprint"}', np.uint8),
             a_codes=np.array([object()], dtype=object))
    with pytest.raises(CorruptFingerprintError, match="not a readable fingerprint"):
        Fingerprint.from_bytes(buf.getvalue())


# -- indexes --------------------------------------------------------------------
@pytest.mark.parametrize("cls", INDEXES, ids=lambda c: c.name)
def test_index_declares_itself(cls: type[Index]) -> None:
    assert issubclass(cls, Index)
    assert cls.manifest.kind == "index" and cls.manifest.name == cls.name
    assert cls.manifest.version == str(cls.version) and cls.manifest.summary
    assert cls.measure and isinstance(cls.default_threshold, float)
    examples = cls.examples()
    assert any(e.expect for e in examples) and any(not e.expect for e in examples), \
        "examples need a query that finds an entry and one that finds none"


@pytest.mark.parametrize("case", [(c, e) for c in INDEXES for e in c.examples()],
                         ids=lambda ce: f"{ce[0].name}:{ce[1].name}")
def test_index_examples_hold_after_build_add_and_reload(case: tuple[type[Index], object], tmp_path: Path) -> None:
    cls, ex = case
    built = cls.build(ex.entries, checkpoint="c1")
    hits = built.query(ex.query, ex.threshold)
    assert [h.id for h in hits] == list(ex.expect), ex.name
    payloads = {i: dict(p) for i, _, p in ex.entries}
    threshold = cls.default_threshold if ex.threshold is None else ex.threshold
    for h in hits:
        assert isinstance(h, Hit) and h.payload == payloads[h.id] and h.distance <= threshold
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True), "best first"
    # adding one by one is the same index as building at once
    added = cls(checkpoint="c1")
    for entry in ex.entries:
        added.add(*entry)
    assert added.query(ex.query, ex.threshold) == hits
    assert len(built) == len(added) == len(ex.entries) and built.ids == [e[0] for e in ex.entries]
    # saved and loaded, it answers the same and keeps its checkpoint
    built.save(tmp_path / "index.npz")
    back = cls.load(tmp_path / "index.npz")
    assert back.query(ex.query, ex.threshold) == hits
    assert back.checkpoint == "c1" and back.ids == built.ids and len(back) == len(built)
    # and an entry added after the reload is found too
    back.add("late", ex.entries[0][1], {"late": True})
    assert "late" in {h.id for h in back.query(ex.entries[0][1])}


def _rewrite_header(data: bytes, change: dict) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(bytes(arrays.pop("__header__")).decode()) | change
    buf = io.BytesIO()
    np.savez(buf, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("cls", INDEXES, ids=lambda c: c.name)
def test_index_files_are_versioned_and_damage_is_refused(cls: type[Index]) -> None:
    ex = next(e for e in cls.examples() if e.expect)
    data = cls.build(ex.entries).to_bytes()
    header = json.loads(bytes(np.load(io.BytesIO(data), allow_pickle=False)["__header__"]).decode())
    assert header["format"] == INDEX_FORMAT and header["index"] == cls.name and header["version"] == cls.version
    assert cls.from_bytes(_rewrite_header(data, {})).ids == [e[0] for e in ex.entries]
    with pytest.raises(StaleIndexError, match="rebuild"):
        cls.from_bytes(_rewrite_header(data, {"version": cls.version + 1}))
    with pytest.raises(CorruptIndexError, match="not a"):
        cls.from_bytes(_rewrite_header(data, {"index": "some-other-index"}))
    with pytest.raises(CorruptIndexError):
        cls.from_bytes(_rewrite_header(data, {"count": len(ex.entries) + 1}))
    with pytest.raises(CorruptIndexError):
        cls.from_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptIndexError):
        cls.from_bytes(b"PK\x03\x04 not an index")
    # an object array is refused unread (it would need pickle), whatever the header claims
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["__ids__"] = np.array([object()] * len(ex.entries), dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(CorruptIndexError, match="not a readable index"):
        cls.from_bytes(buf.getvalue())


@pytest.mark.parametrize("cls", INDEXES, ids=lambda c: c.name)
def test_index_refuses_bad_entries_and_keeps_what_it_had(cls: type[Index]) -> None:
    ex = next(e for e in cls.examples() if e.expect)
    index = cls.build(ex.entries)
    before = index.query(ex.query, ex.threshold)
    first_id, first_value, _ = ex.entries[0]
    with pytest.raises(UsageError, match="already indexed"):
        index.add(first_id, first_value)
    with pytest.raises(UsageError, match="not JSON"):
        index.add("new", first_value, {"x": object()})
    with pytest.raises(UsageError, match="non-empty string"):
        index.add("", first_value)
    # a value the index cannot hold, or query with, is refused with a VidLens error, not a crash deep inside
    with pytest.raises(VidLensError):
        index.add("not-a-value", object())
    with pytest.raises(VidLensError):
        index.query(object())
    assert len(index) == len(ex.entries) and index.query(ex.query, ex.threshold) == before
    assert "not-a-value" not in index.ids


@pytest.mark.parametrize("cls", INDEXES, ids=lambda c: c.name)
def test_an_empty_index_finds_nothing_and_persists(cls: type[Index], tmp_path: Path) -> None:
    ex = next(e for e in cls.examples() if e.expect)
    empty = cls.build([], checkpoint="c0")
    assert len(empty) == 0 and empty.ids == [] and empty.query(ex.query, ex.threshold) == []
    empty.save(tmp_path / "empty.npz")
    back = cls.load(tmp_path / "empty.npz")
    assert len(back) == 0 and back.checkpoint == "c0" and back.query(ex.query, ex.threshold) == []
    # a reloaded empty index grows like a new one
    back.add_all(ex.entries)
    assert [h.id for h in back.query(ex.query, ex.threshold)] == list(ex.expect)
