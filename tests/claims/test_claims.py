"""Claims: a match becomes a claim under the subject's policy; the uploader disputes, the owner answers,
deadlines expire as documented; every step is in the audit chain and a refused step stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.humans.conftest import files, person  # noqa: F401 - fixtures
from tests.humans.test_registry_cli import cli
from vidlens.claims.book import DAY
from vidlens.claims.tables import claims
from vidlens.govern.tables import govern_audit
from vidlens.platform import Platform
from vidlens.settings import load_settings


@pytest.fixture
def data(capsys: pytest.CaptureFixture[str], tmp_path: Path, samples: Path, person: Path) -> dict[str, str]:
    """A work (the caminandes clip, policy block) and a digital human (the GRID speaker, no consent)."""
    d = str(tmp_path / "data")
    code, out, err = cli(capsys, "register", str(samples / "blender_caminandes_10s.mp4"), "--owner", "Studio",
                         "--title", "Caminandes", "--policy", "block", "--json", "--data-dir", d)
    assert code == 0, err
    work = json.loads(out)["work_id"]
    code, out, err = cli(capsys, "humans", "register", "B. Speaker", "--face", str(person), "--json", "--data-dir", d)
    assert code == 0, err
    return {"dir": d, "work": work, "human": json.loads(out)["human_id"]}


def _audit(d: str) -> list[tuple[str, str]]:
    p = Platform.from_settings(load_settings(data_dir=Path(d)))
    try:
        with p.store.read() as conn:
            return [(r.action, r.subject) for r in conn.execute(
                sa.select(govern_audit).where(govern_audit.c.action.like("claims.%")).order_by(govern_audit.c.seq))]
    finally:
        p.close()


def test_matches_become_claims_under_policy_then_dispute_and_answer(
        capsys: pytest.CaptureFixture[str], data: dict[str, str], samples: Path, person: Path) -> None:
    d = data["dir"]
    code, out, err = cli(capsys, "claims", "scan", str(samples / "blender_caminandes_10s.mp4"), "--uploader", "ann",
                         "--json", "--data-dir", d)
    assert code == 0, err
    (work_claim,) = json.loads(out)["claims"]
    assert (work_claim["subject_kind"], work_claim["subject_id"], work_claim["action"], work_claim["status"]) == \
        ("work", data["work"], "block", "active")
    assert work_claim["segments"] and work_claim["segments"][0]["end"] > work_claim["segments"][0]["start"]
    # the human: default policy track; a second scan of the same media finds the same claim, not a new one
    for _ in range(2):
        code, out, err = cli(capsys, "claims", "scan", str(person), "--uploader", "ann", "--json", "--data-dir", d)
        assert code == 0, err
        (human_claim,) = json.loads(out)["claims"]
        assert (human_claim["subject_id"], human_claim["action"]) == (data["human"], "track")
        assert {s["kind"] for s in human_claim["segments"]} == {"face"}

    # the owner changes the policy and allows an uploader: that uploader is not claimed
    code, out, err = cli(capsys, "claims", "policy", "human", data["human"], "--action", "monetise", "--allow", "bob",
                         "--json", "--data-dir", d)
    assert code == 0 and json.loads(out)["allow_uploaders"] == ["bob"]
    code, out, _ = cli(capsys, "claims", "scan", str(person), "--uploader", "bob", "--json", "--data-dir", d)
    assert json.loads(out) == {"claims": []}
    code, out, _ = cli(capsys, "claims", "scan", str(person), "--uploader", "cy", "--json", "--data-dir", d)
    assert json.loads(out)["claims"][0]["action"] == "monetise"

    cid = work_claim["claim_id"]
    code, out, err = cli(capsys, "claims", "dispute", cid[:8], "--reason", "fair use: review", "--json", "--data-dir", d)
    assert code == 0, err
    disputed = json.loads(out)
    assert disputed["status"] == "disputed" and disputed["respond_by"] > disputed["disputed_at"]
    code, _, err = cli(capsys, "claims", "dispute", cid, "--reason", "again", "--data-dir", d)
    assert code != 0 and "is disputed" in err and "once" in err
    code, out, err = cli(capsys, "claims", "uphold", cid, "--reason", "a full copy", "--json", "--data-dir", d)
    assert code == 0 and json.loads(out)["status"] == "upheld"
    code, _, err = cli(capsys, "claims", "release", cid, "--reason", "changed mind", "--data-dir", d)
    assert code != 0 and "can no longer be released" in err
    code, out, _ = cli(capsys, "claims", "release", human_claim["claim_id"], "--reason", "licensed", "--json",
                       "--data-dir", d)
    assert json.loads(out)["status"] == "released"
    actions = [a for a, _ in _audit(d)]
    assert actions == ["claims.file", "claims.file", "claims.policy", "claims.file", "claims.dispute",
                       "claims.uphold", "claims.release"]
    code, out, _ = cli(capsys, "audit", "verify", "--json", "--data-dir", d)
    assert code == 0 and json.loads(out)["ok"]


def test_bad_steps_are_refused_and_store_nothing(capsys: pytest.CaptureFixture[str], data: dict[str, str],
                                                 samples: Path) -> None:
    d = data["dir"]
    code, _, err = cli(capsys, "claims", "dispute", "0123456789abcdef", "--reason", "x", "--data-dir", d)
    assert code != 0 and "no claim '0123456789abcdef'" in err
    code, _, err = cli(capsys, "claims", "policy", "work", data["work"], "--action", "delete", "--data-dir", d)
    assert code == 2 and "block, monetise, track" in err
    code, _, err = cli(capsys, "claims", "policy", "song", data["work"], "--action", "block", "--data-dir", d)
    assert code == 2 and "work or a human" in err
    code, out, _ = cli(capsys, "claims", "scan", str(samples / "blender_caminandes_10s.mp4"), "--uploader", "ann",
                       "--json", "--data-dir", d)
    cid = json.loads(out)["claims"][0]["claim_id"]
    code, _, err = cli(capsys, "claims", "dispute", cid, "--reason", "   ", "--data-dir", d)
    assert code == 2 and "give a reason" in err
    code, _, err = cli(capsys, "claims", "uphold", cid, "--reason", "x", "--data-dir", d)
    assert code != 0 and "only a disputed claim can be upheld" in err
    assert [a for a, _ in _audit(d)] == ["claims.file"]
    code, out, _ = cli(capsys, "claims", "show", cid, "--json", "--data-dir", d)
    assert json.loads(out)["status"] == "active" and json.loads(out)["dispute_reason"] is None


def test_deadlines_dispute_window_closes_and_unanswered_disputes_release(
        capsys: pytest.CaptureFixture[str], data: dict[str, str], samples: Path) -> None:
    d = data["dir"]
    code, out, _ = cli(capsys, "claims", "scan", str(samples / "blender_caminandes_10s.mp4"), "--uploader", "ann",
                       "--json", "--data-dir", d)
    claim = json.loads(out)["claims"][0]
    p = Platform.from_settings(load_settings(data_dir=Path(d)))
    try:
        book = p.service("claims")
        with p.store.read() as conn:
            created = conn.execute(sa.select(claims.c.created_at)).scalar_one()
        late = created + book.settings.dispute_days * DAY + 1
        with pytest.raises(Exception, match="the time to dispute it ended"):
            book.dispute(claim["claim_id"], "too late", now=late, actor="ann")
        assert book.get(claim["claim_id"])["status"] == "active"
        disputed = book.dispute(claim["claim_id"], "mine", now=created + DAY, actor="ann")
        assert disputed["status"] == "disputed"
        after = created + DAY + book.settings.response_days * DAY + 1
        with pytest.raises(Exception, match="did not answer the dispute"):
            book.uphold(claim["claim_id"], "too late", now=after, actor="studio")
        final = book.get(claim["claim_id"], now=after)
        assert final["status"] == "released" and final["resolved_by"] == "system"
    finally:
        p.close()
    assert [a for a, _ in _audit(d)] == ["claims.file", "claims.dispute", "claims.expire"]
