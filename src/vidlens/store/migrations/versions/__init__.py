"""Alembic revisions of the core capability (videos, jobs, results, shots)."""
