"""``vidlens.ledger`` chains on each supported database: links, tampering, concurrent appends."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from vidlens.ledger import GENESIS, Chain, entry_hash
from vidlens.platform import Platform

meta = sa.MetaData()
table = sa.Table(
    "test_chain", meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("what", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("note", sa.Text, nullable=True),  # not hashed
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)
CHAIN = Chain(table, ("what", "data", "at"), name="test")


@pytest.fixture
def store(platform_factory: Callable[..., Platform], database_url: str):  # type: ignore[no-untyped-def]
    p = platform_factory(database_url)
    meta.create_all(p.store.engine)
    yield p.store
    meta.drop_all(p.store.engine)


def _append(store, i: int) -> None:  # type: ignore[no-untyped-def]
    with store.tx() as conn:
        CHAIN.append(conn, {"what": f"entry {i} ✓", "data": {"i": i, "x": i / 3, "nested": [1.5, None]},
                            "at": 1_700_000_000.123456 + i, "note": "free"})


def test_entries_chain_and_survive_the_database_round_trip(store) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        _append(store, i)
    with store.read() as conn:
        rows = list(CHAIN.rows(conn))
        report = CHAIN.verify(conn)
    assert report.ok and report.checked == 5 and report.first_broken is None
    assert rows[0]["prev_hash"] == GENESIS and rows[1]["prev_hash"] == rows[0]["hash"]
    assert rows[2]["hash"] == entry_hash(3, rows[1]["hash"], {"what": "entry 2 ✓", "at": rows[2]["at"],
                                                              "data": {"i": 2, "x": 2 / 3, "nested": [1.5, None]}})


@pytest.mark.parametrize("tamper, problem", [
    (lambda c: c.execute(table.update().where(table.c.seq == 3).values(data={"i": 99})), "test entry 3 was altered"),
    (lambda c: c.execute(table.update().where(table.c.seq == 3).values(at=1.0)), "test entry 3 was altered"),
    (lambda c: c.execute(table.delete().where(table.c.seq == 3)), "test entry 3 is missing"),
    (lambda c: c.execute(table.update().where(table.c.seq == 3).values(prev_hash="f" * 64)), "does not chain"),
])
def test_tampering_names_the_first_broken_link(store, tamper, problem: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        _append(store, i)
    with store.tx() as conn:
        conn.execute(table.update().where(table.c.seq == 5).values(note="not hashed: may change"))
        tamper(conn)
    with store.read() as conn:
        report = CHAIN.verify(conn)
    assert not report.ok and problem in report.problems[0], report.problems
    assert report.first_broken == (4 if "missing" in problem else 3)


def test_a_pruned_head_is_reported_unless_the_caller_accounts_for_it(store) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        _append(store, i)
    with store.tx() as conn:
        conn.execute(table.delete().where(table.c.seq <= 2))
    with store.read() as conn:
        assert CHAIN.verify(conn).first_broken == 3
        report = CHAIN.verify(conn, from_genesis=False)
    assert report.ok and report.first_seq == 3 and report.start_hash != GENESIS


def test_concurrent_appends_never_fork_the_chain(store) -> None:  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _append(store, i), range(24)))
    with store.read() as conn:
        report = CHAIN.verify(conn)
    assert report.ok and report.checked == 24, report.problems
