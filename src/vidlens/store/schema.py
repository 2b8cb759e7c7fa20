"""The database schema (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Each capability adds its tables to ``metadata`` in the ``tables`` module it declares
(``vidlens.capability``) and ships Alembic revisions; ``load_all_tables()`` imports those
modules so the metadata is complete wherever it is compared or reflected. Times are float epoch seconds and
documents are JSON so both backends store them the same way.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vidlens.capability import Capabilities, installed

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

videos = sa.Table(
    "videos", metadata,
    sa.Column("id", sa.String(64), primary_key=True, comment="content sha256"),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=True,
              comment="display title, such as an upload's own file name; NULL: filename"),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("container", sa.String(64), nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("fps", sa.String(32), nullable=True),
    sa.Column("has_audio", sa.Boolean, nullable=False),
    sa.Column("probe", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False, unique=True, comment="idempotency key"),
    sa.Column("video_id", sa.String(64), nullable=True, index=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False, server_default="3"),
    sa.Column("run_after", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_expires", sa.Float, nullable=True),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("progress_message", sa.Text, nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("error_detail", sa.JSON, nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("completions", sa.Integer, nullable=False, server_default="0",
              comment="times the step body ran to completion; must end at 1"),
)
# the claimable jobs in claim order (migration 0003): a claim reads one entry, however many jobs are done
_READY = jobs.c.status.in_(["queued", "running"])
sa.Index("ix_jobs_ready", jobs.c.priority.desc(), jobs.c.id, postgresql_where=_READY, sqlite_where=_READY)

results = sa.Table(
    "results", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
    sa.Column("analyzer", sa.String(128), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Column("error", sa.JSON, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("video_id", "analyzer", "version", "config_hash", name="uq_results_cache_key"),
)

shots = sa.Table(
    "shots", metadata,
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("start_frame", sa.Integer, nullable=False),
    sa.Column("end_frame", sa.Integer, nullable=False),
    sa.Column("start_pts", sa.BigInteger, nullable=False),
    sa.Column("end_pts", sa.BigInteger, nullable=False),
    sa.Column("time_base", sa.String(32), nullable=False),
    sa.Column("keyframe_frame", sa.Integer, nullable=False),
    sa.Column("keyframe_pts", sa.BigInteger, nullable=False),
    sa.Column("transition_in", sa.String(16), nullable=False),
    sa.Column("keyframe_blob", sa.String(128), nullable=True),
    sa.Column("thumbnail_blob", sa.String(128), nullable=True),
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter when the database is compared with ``metadata``: it leaves out a column or index
    that a capability's migration adds on one backend only (such as Find's stored word vector on
    PostgreSQL), named in its table's ``info["backend_only"]``."""
    if reflected and compare_to is None and type_ in ("column", "index"):
        table = metadata.tables.get(obj.table.name)
        return table is None or name not in table.info.get("backend_only", ())
    return True


def load_all_tables(capabilities: Capabilities | None = None) -> sa.MetaData:
    """``metadata`` with the tables of every installed capability (a declared module that is missing is
    an error: a silently incomplete schema would make Alembic drop or miss tables)."""
    (installed() if capabilities is None else capabilities).import_all("tables")
    return metadata
