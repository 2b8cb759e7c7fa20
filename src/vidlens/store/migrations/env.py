"""Alembic environment: runs on the connection (and with the metadata) the Store hands over."""

from alembic import context

from vidlens.store.schema import include_object

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=context.config.attributes["metadata"],
                  include_object=include_object,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
