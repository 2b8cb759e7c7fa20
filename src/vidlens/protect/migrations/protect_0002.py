"""Protect: look up a work by an id prefix through an index on PostgreSQL.

``Registry.get`` accepts a unique id prefix (``LIKE 'abc123%'``). Under a non-C collation PostgreSQL
cannot use the primary key for that and scanned every work (seconds at 10 million); an index with
``varchar_pattern_ops`` serves it. SQLite gets a plain index (it ignores the operator class).

Revision ID: protect_0002
"""
from alembic import op

revision = "protect_0002"
down_revision = "protect_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_protect_works_id_prefix", "protect_works", ["id"],
                    postgresql_ops={"id": "varchar_pattern_ops"})


def downgrade() -> None:
    op.drop_index("ix_protect_works_id_prefix", "protect_works")
