"""The api migrations create exactly the tables declared in ``vidlens.api.tables``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vidlens.store.schema import include_object


def test_api_migration_matches_the_tables(env) -> None:
    with env.platform.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})  # one-backend columns
        diff = compare_metadata(context, env.platform.store.metadata)
    # Find's word index (FTS5 on SQLite) is derived data created on first search, outside the migrated schema
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("search_moments_fts"))]
    assert diff == [], f"schema drift between the api migrations and vidlens/api/tables.py: {diff}"
    names = set(env.platform.store.metadata.tables)
    assert {
        "users",
        "api_keys",
        "web_sessions",
        "review_items",
        "uploads",
        "video_uploads",
        "search_moments",
        "search_text_vectors",
    } <= names
    assert not {"search_sources", "search_entries"} & names  # api_0003: Find's moments replace the entries
