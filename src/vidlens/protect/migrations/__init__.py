"""Alembic revisions of the protect capability (branch label ``protect``)."""
