"""Alembic revisions of the humans capability (branch label ``humans``)."""
