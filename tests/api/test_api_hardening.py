"""What a hostile probe of the API tries: foreign content, absurd numbers, error bodies, login guessing,
abandoned uploads, repeated requests and the permissions of what is stored."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from vidlens.store.schema import videos

SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" '
       b'height="64"><rect width="64" height="64" fill="red"/></svg>\n')


def _stored_files(env) -> list[Path]:
    return [p for p in (env.platform.data_dir / "uploads").rglob("*") if p.is_file()]


def _video_rows(env) -> int:
    with env.platform.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(videos)).scalar_one())


@pytest.mark.parametrize("name", ["drawing.svg", "holiday.mp4", ""])
def test_svg_content_is_unsupported_media_and_nothing_is_kept(env, name: str) -> None:
    r = env.client.post("/api/videos", files={"file": (name, SVG, "video/mp4")}, headers=env.auth("reviewer"))
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "unsupported_media"
    assert _stored_files(env) == [] and _video_rows(env) == 0


def test_svg_through_the_resumable_api_is_refused_and_deleted(env) -> None:
    h = env.auth("reviewer")
    up = env.client.post("/api/uploads", json={"filename": "a.mp4", "size": len(SVG)}, headers=h).json()
    r = env.client.put(f"/api/uploads/{up['id']}", content=SVG,
                       headers={**h, "Content-Range": f"bytes 0-{len(SVG) - 1}/{len(SVG)}"})
    assert r.status_code == 200, r.text
    r = env.client.post(f"/api/uploads/{up['id']}/complete", headers=h)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media"
    assert _stored_files(env) == [] and _video_rows(env) == 0


def test_the_database_and_uploads_are_private_to_the_server_user(env, synth_clip: Path) -> None:
    env.upload(synth_clip)
    data = env.platform.data_dir
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    db_files = [p for p in data.iterdir() if p.name.startswith("vidlens.db")]
    assert db_files and all(mode(p) == 0o600 for p in db_files), {p.name: oct(mode(p)) for p in db_files}
    assert mode(data) == 0o700 and mode(data / "uploads") == 0o700 and mode(data / "uploads" / ".partial") == 0o700
    assert [oct(mode(p)) for p in _stored_files(env)] == ["0o600"]
