"""Alembic revisions of the govern capability (branch label ``govern``)."""
