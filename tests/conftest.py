"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from vidlens.platform import Platform
from vidlens.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL_ENV = "VIDLENS_TEST_POSTGRES_URL"
# set by scripts/test-setup.sh (make test) when it could not provide a server: the tests then fail with it
POSTGRES_MISSING_ENV = "VIDLENS_TEST_POSTGRES_MISSING"
# a PostgreSQL server with the pgvector extension, when the one above has none (scripts/test-setup.sh starts
# it from the test extra's wheel), and why there is none when it could not
PGVECTOR_URL_ENV = "VIDLENS_TEST_PGVECTOR_URL"
PGVECTOR_MISSING_ENV = "VIDLENS_TEST_PGVECTOR_MISSING"
KEPT_ENV = (POSTGRES_URL_ENV, POSTGRES_MISSING_ENV, PGVECTOR_URL_ENV, PGVECTOR_MISSING_ENV, "VIDLENS_MEDIA_DIR",
            "VIDLENS_FFMPEG")


def _media_dir() -> Path:
    return Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """The wider real-clip corpus (../shared/media); tests using it are skipped without it."""
    d = _media_dir()
    if not (d / "MANIFEST.md").is_file():
        pytest.skip(f"shared media corpus not found at {d} (set VIDLENS_MEDIA_DIR)")
    return d


@pytest.fixture(scope="session")
def samples() -> Path:
    """Real clips committed in the repository (see samples/ATTRIBUTION.md)."""
    return REPO / "samples"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's vidlens.toml or VIDLENS_* settings."""
    for key in list(os.environ):
        if key.startswith("VIDLENS_") and key not in KEPT_ENV:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def make_platform(tmp_path: Path, database_url: str | None = None, **settings: object) -> Platform:
    s = load_settings(data_dir=tmp_path / "data", database_url=database_url, **settings)
    return Platform.from_settings(s)


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[object]:
    """Build platforms on a given database URL with settings overrides; closed after the test."""
    made: list[Platform] = []

    def factory(database_url: str | None = None, **settings: object) -> Platform:
        p = make_platform(tmp_path, database_url, **settings)
        made.append(p)
        return p

    yield factory
    for p in made:
        p.close()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = make_platform(tmp_path)
    yield p
    p.close()


def _fresh_postgres_db(base_url: str) -> Iterator[str]:
    name = f"vidlens_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every contract test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contract.db'}"
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        missing = os.environ.get(POSTGRES_MISSING_ENV)
        if missing:  # make test tried and could not: a defect of the machine, not a reason to skip
            pytest.fail(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_URL_ENV} must be set in CI (make test starts PostgreSQL)")
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_URL_ENV} (scripts/postgres-test-server.sh start), "
                    "or run make test")
    yield from _fresh_postgres_db(base)


def _has_pgvector(base_url: str) -> bool:
    engine = sa.create_engine(base_url)
    try:
        with engine.connect() as c:
            return c.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").first() is not None
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture
def pgvector_url() -> Iterator[str]:
    """A fresh database on a PostgreSQL server that has the pgvector extension ('vector'): the test server
    when it has it, else the one scripts/test-setup.sh started from the test extra's wheel."""
    for env in (POSTGRES_URL_ENV, PGVECTOR_URL_ENV):
        base = os.environ.get(env)
        if base and _has_pgvector(base):
            yield from _fresh_postgres_db(base)
            return
    missing = os.environ.get(PGVECTOR_MISSING_ENV)
    if missing or os.environ.get("CI"):  # make test tried and could not: say why
        pytest.fail(missing or f"no PostgreSQL with pgvector: {PGVECTOR_URL_ENV} must be set in CI (make test)")
    pytest.skip(f"no PostgreSQL server with pgvector: set {PGVECTOR_URL_ENV} (scripts/test-setup.sh starts one), "
                "or run make test")
