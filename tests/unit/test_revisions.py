"""Head revisions read from revision files (vidlens.store.revisions): a merge, branches, and None for
anything not certain, so the store falls back to Alembic."""

from __future__ import annotations

from pathlib import Path

from vidlens.store.revisions import heads


def _rev(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(f'"""{name}."""\nfrom alembic import op\n\n{body}\n\n\ndef upgrade() -> None:\n'
                                       "    pass\n")


def test_heads_of_branches_and_a_merge(tmp_path: Path) -> None:
    core, extra = tmp_path / "core", tmp_path / "extra"
    _rev(core, "a", 'revision = "a"\ndown_revision = None')
    _rev(core, "b", 'revision: str = "b"\ndown_revision = "a"')
    _rev(extra, "x1", 'revision = "x1"\ndown_revision = "a"\nbranch_labels = ("x",)\ndepends_on = "b"')
    _rev(extra, "y1", 'revision = "y1"\ndown_revision = "a"')
    (extra / "__init__.py").write_text("")
    assert heads([core, extra]) == {"b", "x1", "y1"}
    _rev(extra, "m", 'revision = "m"\ndown_revision = ("x1", "y1")')
    assert heads([core, extra]) == {"b", "m"}


def test_anything_uncertain_gives_none(tmp_path: Path) -> None:
    _rev(tmp_path / "computed", "a", 'revision = "a" + "1"\ndown_revision = None')
    assert heads([tmp_path / "computed"]) is None
    _rev(tmp_path / "missing", "a", 'revision = "a"')
    assert heads([tmp_path / "missing"]) is None
    _rev(tmp_path / "dangling", "a", 'revision = "a"\ndown_revision = "gone"')
    assert heads([tmp_path / "dangling"]) is None
    _rev(tmp_path / "twice", "a", 'revision = "a"\ndown_revision = None')
    _rev(tmp_path / "twice", "a2", 'revision = "a"\ndown_revision = None')
    assert heads([tmp_path / "twice"]) is None
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.py").write_text("revision = (\n")
    assert heads([tmp_path / "broken"]) is None
    assert heads([tmp_path / "empty"]) is None

