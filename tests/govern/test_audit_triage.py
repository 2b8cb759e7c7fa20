from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from vidlens.cli.app import inner_main
from vidlens.govern import audit, watermark
from vidlens.govern.codecs.mp4 import Mp4Codec
from vidlens.govern.implicit import read_label, write_label
from vidlens.govern.label import new_label
from vidlens.govern.settings import GovernSettings
from vidlens.govern.tables import govern_audit
from vidlens.govern.triage import triage
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.platform import Platform

PRODUCER = "001191110102MAD55U9H0F10002"
PROPAGATOR = "002291440300MA5FAKE0XY20001"


@pytest.fixture
def platform(platform_factory, database_url: str) -> Platform:  # type: ignore[no-untyped-def]
    """The audit log must behave the same on SQLite and PostgreSQL."""
    return platform_factory(database_url)


def _fill(platform: Platform, n: int = 5) -> None:
    for i in range(n):
        audit.append(platform.store, "label.write", f"clip-{i}.mp4", {"label": "1", "i": i})


def test_chain_verifies_and_names_the_first_edited_entry(platform: Platform) -> None:
    _fill(platform)
    assert audit.verify(platform.store).ok
    with platform.store.tx() as conn:
        conn.execute(sa.update(govern_audit).where(govern_audit.c.seq == 3).values(subject="other.mp4"))
    report = audit.verify(platform.store)
    assert not report.ok and report.first_broken == 3
    assert any("entry 3" in p and "altered" in p for p in report.problems)


def test_chain_detects_deleted_entries(platform: Platform) -> None:
    _fill(platform)
    with platform.store.tx() as conn:
        conn.execute(sa.delete(govern_audit).where(govern_audit.c.seq == 2))
    report = audit.verify(platform.store)
    assert report.first_broken == 3 and any("gap" in p for p in report.problems)


def test_chain_detects_silently_dropped_head(platform: Platform) -> None:
    _fill(platform)
    with platform.store.tx() as conn:
        conn.execute(sa.delete(govern_audit).where(govern_audit.c.seq <= 2))
    report = audit.verify(platform.store)
    assert not report.ok and report.first_broken == 3 and "without a logged prune" in report.problems[0]


def test_prune_respects_retention_and_is_logged(platform: Platform) -> None:
    _fill(platform, 4)
    days = platform.settings.govern.audit_retention_days
    assert audit.prune(platform.store, days) == 0
    dropped = audit.prune(platform.store, days, now=10**10 + days * 86400)
    assert dropped == 3  # the newest entry always stays, so the chain keeps its tail
    report = audit.verify(platform.store)
    assert report.ok, report.problems
    with platform.store.read() as conn:
        assert audit.entries(conn, limit=1)[0]["action"] == "audit.prune"


def test_unjsonable_detail_is_stored_as_it_hashes(platform: Platform) -> None:
    """NaN, paths and tuples become what the database gives back, so the chain still verifies."""
    audit.append(platform.store, "triage", "x.mp4", {"score": float("nan"), "path": Path("/a/b"), "pair": (1, 2)})
    with platform.store.read() as conn:
        detail = audit.entries(conn, limit=1)[0]["detail"]
    assert detail == {"score": "nan", "path": "/a/b", "pair": [1, 2]}
    assert audit.verify(platform.store).ok


def test_retention_below_six_months_is_rejected() -> None:
    with pytest.raises(ValidationError):
        GovernSettings(audit_retention_days=90)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Mp4Codec().examples(tmp_path_factory.mktemp("triage"))[0]


def test_triage_verdicts(clip: Path, tmp_path: Path) -> None:
    assert triage(clip, traces=False)["verdict"] == "none"
    assert triage(clip, declared_ai=True)["verdict"] == "possibly"
    labelled = tmp_path / "l.mp4"
    write_label(clip, labelled, new_label("1", PRODUCER, "t-1"))
    result = triage(labelled, declared_ai=True)
    assert result["verdict"] == "confirmed" and result["evidence"][0]["kind"] == "implicit_label"


def test_triage_finds_watermark_as_suspected(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "mandelbrot=s=320x240:r=15,trim=duration=4", "-c:v", "libx264", "-crf", "16",
                "-pix_fmt", "yuv420p", str(src)])
    marked = tmp_path / "marked.mp4"
    watermark.embed_video(src, marked, bytes.fromhex("0011223344556677"), preset="veryfast")
    result = triage(marked)
    assert result["verdict"] == "suspected"
    assert result["evidence"][0] == {"kind": "watermark", "payload": "0011223344556677",
                                     "z": result["evidence"][0]["z"]}


def test_cli_triage_writes_propagation_and_audits(clip: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    dd = ["--data-dir", str(tmp_path / "data")]
    out = tmp_path / "published.mp4"
    assert inner_main(["triage", str(clip), "--declared-ai", "--no-traces", "--write", str(out),
                       "--propagator", PROPAGATOR, "--propagate-id", "post-1", "--json", *dd]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "possibly"
    label = read_label(out).label
    assert label is not None and (label.Label, label.ContentPropagator, label.PropagateID) == ("2", PROPAGATOR,
                                                                                                "post-1")
    assert label.ReservedCode2.startswith("v1.")
    assert inner_main(["audit", "list", "--json", *dd]) == 0
    rows = json.loads(capsys.readouterr().out)["entries"]
    assert [r["action"] for r in rows] == ["triage"]
    assert inner_main(["audit", "verify", "--json", *dd]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert inner_main(["triage", str(clip), "--no-traces", "--write", str(out), "--propagator", PROPAGATOR,
                       *dd]) == 2
