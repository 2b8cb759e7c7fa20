"""The ``Store``: one engine, migrations, and transactions that behave the same on both backends.

SQLite runs in WAL mode with one writer at a time: write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the lock (``busy_timeout``) instead of
failing half way with "database is locked". PostgreSQL uses ordinary transactions
and ``FOR UPDATE SKIP LOCKED`` where rows are claimed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from vidlens.capability import Capabilities, installed
from vidlens.errors import StoreError
from vidlens.store import revisions
from vidlens.store.schema import load_all_tables

MIGRATIONS = Path(__file__).parent / "migrations"
_WRITE = "vidlens_write"
_MIGRATION_LOCK = 0x766964  # PostgreSQL advisory lock key held while migrating ("vid")


class Store:
    """Database access for one platform; safe to use from many threads."""

    def __init__(self, url: str, *, echo: bool = False, capabilities: Capabilities | None = None) -> None:
        self.url = url
        self.capabilities = installed() if capabilities is None else capabilities
        self.dialect = sa.engine.make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            db_path = sa.engine.make_url(url).database
            if db_path and db_path != ":memory:":
                _private_file(Path(db_path))
            # NullPool: every checkout opens a fresh connection, which is cheap for SQLite and keeps
            # forked worker processes from sharing a connection with their parent.
            self.engine: Engine = sa.create_engine(url, echo=echo, poolclass=NullPool,
                                                   connect_args={"timeout": 60, "check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_on_connect)
            sa.event.listen(self.engine, "begin", _sqlite_on_begin)
        elif self.dialect == "postgresql":
            self.engine = sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)
        else:
            raise StoreError(f"unsupported database '{self.dialect}': expected sqlite or postgresql")
        self.metadata = load_all_tables(self.capabilities)
        self._migrated = False
        self._lock = threading.Lock()

    def migrate(self) -> None:
        """Bring the schema to the newest revision of every capability (Alembic ``upgrade heads``).

        Each capability's revisions live in its own folder; Alembic tracks revision ids, not paths,
        so a folder can move without touching existing databases. A database already at every head is
        seen as such from its version rows and the revision files (``revisions.heads``) without Alembic."""
        with self._lock:
            if self._migrated:
                return
            if self._current():
                self._migrated = True
                return
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.set_main_option("path_separator", "os")
            cfg.set_main_option("version_locations", os.pathsep.join(self.migration_dirs()))
            try:
                with self.engine.connect() as conn:
                    conn = conn.execution_options(**{_WRITE: True})
                    if self.dialect == "postgresql":  # API and worker roles starting together migrate once
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                    cfg.attributes["connection"] = conn
                    cfg.attributes["metadata"] = self.metadata
                    command.upgrade(cfg, "heads")
                    conn.commit()
            except sa.exc.OperationalError as exc:
                raise StoreError(f"cannot reach the database at {self.safe_url}: {exc.orig}") from None
            self._migrated = True

    def _current(self) -> bool:
        """Whether the database's version rows are exactly the heads of the installed revision files."""
        want = revisions.heads(self.migration_dirs())
        if want is None:
            return False
        try:
            with self.read() as conn:
                have = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
        except sa.exc.DBAPIError:  # no version table yet (a new database), or none reachable: Alembic says which
            return False
        return have == want

    def migration_dirs(self) -> list[str]:
        """The Alembic version folders of the installed capabilities, in load order."""
        return [str(d) for cap in self.capabilities if (d := cap.migrations_dir()) is not None]

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (never takes SQLite's write lock)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    def for_update(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """Lock claimed rows on PostgreSQL; SQLite is already serialised by BEGIN IMMEDIATE."""
        if self.dialect == "postgresql":
            return select.with_for_update(skip_locked=True)
        return select


def _private_file(path: Path) -> None:
    """Create the SQLite file 0600 (it holds password hashes and session tokens), or make an existing one
    so; SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")
