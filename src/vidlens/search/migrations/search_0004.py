"""Find: on PostgreSQL, each moment's word vector stored beside its terms, with a GIN index over it.

The words ranker scores matches with ``ts_rank_cd``; over the expression index of earlier versions it
parsed ``to_tsvector('simple', terms)`` again for every moment it scored, seconds per query at 100,000
moments. ``terms_tsv`` is a generated column, so PostgreSQL fills it for existing rows here and keeps it
in step with ``terms`` on every insert; the expression index that earlier versions made at run time is
dropped. SQLite keeps its FTS5 table: nothing changes there.

Revision ID: search_0004
"""
from alembic import op

revision = "search_0004"
down_revision = "search_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS search_moments_terms_gin")
    op.execute("ALTER TABLE search_moments ADD COLUMN terms_tsv tsvector "
               "GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED")
    op.execute("COMMENT ON COLUMN search_moments.terms_tsv IS 'the words of terms as a tsvector (PostgreSQL only)'")
    op.execute("CREATE INDEX ix_search_moments_terms_tsv ON search_moments USING gin (terms_tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search_moments DROP COLUMN terms_tsv")  # its index goes with it
