"""The matcher's saved indexes: both kinds persisted, reused, and rebuilt from an earlier format."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from vidlens.index import StaleIndexError
from vidlens.platform import Platform
from vidlens.protect.index import BinaryIndex, LandmarkIndex
from vidlens.protect.matcher import Matcher
from vidlens.protect.registry import Registry
from vidlens.protect.tables import index_checkpoints
from vidlens.settings import load_settings

# A visual index saved by VidLens before the shared index format (format "vidlens-protect-index",
# version 2, two synthetic works), written by that version's BinaryIndex.to_bytes and re-zipped
# with compression; the arrays and header are that writer's.
LEGACY_VISUAL_INDEX = Path(__file__).with_name("data") / "visual-index-v2.npz"


@pytest.fixture
def registry(clips: dict[str, Path], tmp_path: Path):
    platform = Platform.from_settings(load_settings(data_dir=tmp_path / "data"))
    reg = Registry(platform)
    work = reg.register(clips["reference"], owner="Studio A", title="Fractal")
    yield reg, work
    platform.close()


def _rows(reg: Registry) -> dict[str, tuple[str, str]]:
    with reg.store.read() as conn:
        return {r.kind: (r.checkpoint, r.blob) for r in conn.execute(sa.select(index_checkpoints))}


def test_both_indexes_are_saved_and_reused(registry, clips: dict[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    reg, work = registry
    assert {m.work.id for m in Matcher(reg).match_file(clips["same_sound"], record=False)} == {work.id}
    rows = _rows(reg)
    # before the shared index format only the visual index was saved; the audio one was rebuilt by
    # every new matcher
    assert set(rows) == {"visual", "audio"} and {c for c, _ in rows.values()} == {reg.checkpoint()}
    assert LandmarkIndex.from_bytes(reg.blobs.get_bytes(rows["audio"][1])).ids == [work.id]

    def no_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("a saved index of the current checkpoint was rebuilt")

    monkeypatch.setattr(LandmarkIndex, "build", classmethod(no_rebuild))
    monkeypatch.setattr(BinaryIndex, "build", classmethod(no_rebuild))
    found = Matcher(reg).match_file(clips["same_sound"], record=False)  # the tune kept, picture replaced
    assert [m.kind for m in found] == ["audio"] and found[0].work.id == work.id


def test_an_index_saved_in_the_earlier_format_is_rebuilt_and_replaced(registry, clips: dict[str, Path]) -> None:
    reg, work = registry
    legacy = LEGACY_VISUAL_INDEX.read_bytes()
    with pytest.raises(StaleIndexError, match="earlier format 'vidlens-protect-index' version 2"):
        BinaryIndex.from_bytes(legacy)
    # an install upgraded with its saved index: the row of the current checkpoint points at the old file
    key = reg.blobs.put_bytes(legacy, ".npz")
    with reg.store.tx() as conn:
        conn.execute(index_checkpoints.delete())
        conn.execute(index_checkpoints.insert().values(kind="visual", checkpoint=reg.checkpoint(), blob=key,
                                                       built_at=0.0))
    found = Matcher(reg).match_file(clips["copy"], record=False)
    assert found and {m.work.id for m in found} == {work.id}
    checkpoint, blob = _rows(reg)["visual"]
    assert checkpoint == reg.checkpoint() and blob != key
    assert BinaryIndex.from_bytes(reg.blobs.get_bytes(blob)).ids == [work.id]
