"""The api migrations create exactly the tables declared in ``vidlens.api.tables``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_api_migration_matches_the_tables(env) -> None:
    with env.platform.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), env.platform.store.metadata)
    # the FTS5 search index is derived data created on first search, outside the migrated schema
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("search_fts"))]
    assert diff == [], f"schema drift between the api migrations and vidlens/api/tables.py: {diff}"
    names = set(env.platform.store.metadata.tables)
    assert {
        "users",
        "api_keys",
        "web_sessions",
        "review_items",
        "uploads",
        "video_uploads",
        "search_entries",
    } <= names
    assert "search_sources" not in names  # api_0002: entries are a projection of the stored document
