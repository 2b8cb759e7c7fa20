"""Alembic revisions of the serve capability (branch label ``serve``)."""
