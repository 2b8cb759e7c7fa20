"""Alembic environment: runs on the connection the Store hands over."""

from alembic import context

from vidlens.store.schema import load_all_tables

target_metadata = load_all_tables()
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
