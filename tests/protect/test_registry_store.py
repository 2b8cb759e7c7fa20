"""The registry on each supported database: ledger, tamper detection, stored matches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from vidlens.platform import Platform
from vidlens.protect.matcher import Matcher
from vidlens.protect.registry import Registry
from vidlens.protect.tables import matches, works


def test_registry_ledger_and_matches(platform_factory: Callable[..., Platform], database_url: str,
                                     clips: dict[str, Path]) -> None:
    p = platform_factory(database_url)
    reg = Registry(p)
    work = reg.register(clips["reference"], owner="Studio Ä", title="Fractal ✓", policy="monetise",
                        licence="CC-BY-4.0")
    other = reg.register(clips["unrelated"], owner="B", title="Life")
    assert reg.verify() == []
    assert [w.id for w in reg.list()] == [work.id, other.id]
    found = Matcher(reg).match_file(clips["copy"])
    assert [m.work.id for m in found] == [work.id] and found[0].decision == "monetise"
    with p.store.read() as conn:
        stored = conn.execute(sa.select(matches.c.work_id, matches.c.hints)).all()
    assert [r.work_id for r in stored] == [work.id] and stored[0].hints.get("mirrored") is True
    reg.remove(other.id, reason="expired")
    assert reg.verify() == [] and [w.id for w in reg.list()] == [work.id]
    with p.store.tx() as conn:
        conn.execute(works.update().where(works.c.id == work.id).values(title="Renamed"))
    problems = reg.verify()
    assert len(problems) == 1 and work.id in problems[0]
