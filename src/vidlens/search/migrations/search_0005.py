"""Find: on PostgreSQL with pgvector, text vectors stored as ``halfvec`` under a wider HNSW graph.

``search_text_pgvec`` (made at run time by the search service where pgvector is installed) held
``vector(384)`` under pgvector's default HNSW graph (m 16, ef_construction 64), which found 0.77 of the exact
top 10 at 100,000 vectors. Its column becomes ``halfvec`` of the same dimension (half the bytes, cast in
place) and its index is built again on ``halfvec_cosine_ops`` with m 32 and ef_construction 128, which
found 0.96 of them at ``hnsw.ef_search`` 100 (docs/benchmarks.md). The build reads every vector, so on a
large table this upgrade takes long (a figure at 100,000 vectors is in docs/benchmarks.md; a
``maintenance_work_mem`` that holds the graph keeps it fast).

Nothing changes on SQLite, on PostgreSQL without pgvector, or where the table is not made yet (the
service makes it in this layout). pgvector before 0.7 has no ``halfvec``: there the table, a copy of
``search_text_vectors``, is dropped, and meaning is searched through the HNSW file until the extension is
updated (the service then makes the table again and copies the vectors in). The downgrade restores
``vector`` and the default graph.

Revision ID: search_0005
"""
import re

from alembic import op

revision = "search_0005"
down_revision = "search_0004"
branch_labels = None
depends_on = None

TABLE = "search_text_pgvec"
INDEX = "search_text_pgvec_hnsw"
HALFVEC_INDEX = (f"CREATE INDEX {INDEX} ON {TABLE} USING hnsw (embedding halfvec_cosine_ops) "
                 "WITH (m = 32, ef_construction = 128)")
VECTOR_INDEX = f"CREATE INDEX {INDEX} ON {TABLE} USING hnsw (embedding vector_cosine_ops)"


def _dimensions() -> int | None:
    """The dimensions of the table's vectors; None when there is no such table (or no PostgreSQL)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    kind = bind.exec_driver_sql(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        f"WHERE attrelid = to_regclass('{TABLE}') AND attname = 'embedding'").scalar()
    return int(re.search(r"\((\d+)\)", kind).group(1)) if kind else None


def _retype(kind: str, dim: int, index: str) -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")  # its operator class is of the old type
    op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN embedding TYPE {kind}({dim}) USING embedding::{kind}({dim})")
    op.execute(index)


def upgrade() -> None:
    if (dim := _dimensions()) is None:
        return
    version = op.get_bind().exec_driver_sql("SELECT extversion FROM pg_extension WHERE extname = 'vector'").scalar()
    if tuple(int(x) for x in re.findall(r"\d+", version)[:2]) < (0, 7):
        op.execute(f"DROP TABLE {TABLE}")
        return
    _retype("halfvec", dim, HALFVEC_INDEX)


def downgrade() -> None:
    if (dim := _dimensions()) is None:
        return
    _retype("vector", dim, VECTOR_INDEX)
