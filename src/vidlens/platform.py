"""``Platform``: the one object graph.

Settings → store → blob store → plugins → job queue. The CLI, the API, workers and
tests all build the same ``Platform``; nothing lives in module-level globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from vidlens.blobs.local import BlobStore, LocalBlobStore
from vidlens.plugins import PluginRegistry
from vidlens.settings import Settings, load_settings
from vidlens.store.db import Store


@dataclass
class Platform:
    settings: Settings
    store: Store
    blobs: BlobStore
    plugins: PluginRegistry = field(default_factory=PluginRegistry.discover)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, migrate: bool = True) -> Platform:
        settings = settings or load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.resolved_database_url)
        if migrate:
            store.migrate()
        return cls(settings=settings, store=store, blobs=LocalBlobStore(settings.data_dir / "blobs"))

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @cached_property
    def jobs(self):  # type: ignore[no-untyped-def]  # -> JobQueue (imported lazily: jobs imports platform types)
        from vidlens.jobs.queue import JobQueue

        return JobQueue(self.store, self.settings.jobs)

    @cached_property
    def library(self):  # type: ignore[no-untyped-def]  # -> Library
        from vidlens.library import Library

        return Library(self)

    def close(self) -> None:
        self.store.dispose()
