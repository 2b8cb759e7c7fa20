"""``Platform``: the one object graph.

Settings → store → blob store → plugins → capabilities → job queue → services. The CLI, the API,
workers and tests all build the same ``Platform``; nothing lives in module-level globals. Services
are built lazily, each from a ``ServiceContext`` holding only what it uses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.blobs import blob_store
from vidlens.blobs.local import BlobStore
from vidlens.capability import Capabilities, CapabilityError, installed
from vidlens.jobs.queue import JobQueue
from vidlens.plugins import PluginRegistry, discovered
from vidlens.services import ServiceContext
from vidlens.settings import Settings, load_settings
from vidlens.store.db import Store

if TYPE_CHECKING:
    from vidlens.catalog import Catalog


@dataclass
class Platform:
    settings: Settings
    store: Store
    blobs: BlobStore
    capabilities: Capabilities = field(default_factory=installed)
    _services: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _building: list[str] = field(default_factory=list, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, migrate: bool = True,
                      capabilities: Capabilities | None = None) -> Platform:
        settings = settings or load_settings()
        capabilities = installed() if capabilities is None else capabilities
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new data dir is private
        store = Store(settings.resolved_database_url, capabilities=capabilities)
        if migrate:
            store.migrate()
        blobs = blob_store(settings.data_dir, settings.blob_url, settings.blob_endpoint_url)
        return cls(settings=settings, store=store, blobs=blobs, capabilities=capabilities)

    @cached_property
    def plugins(self) -> PluginRegistry:
        """The installed plugins (analyzers, fingerprinters, indexes, label codecs), discovered on first use:
        discovering imports every plugin's module, and most commands use none of them."""
        return discovered()

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @cached_property
    def jobs(self) -> JobQueue:
        return JobQueue(self.store, self.settings.jobs)

    def service(self, name: str) -> Any:
        """The service ``name`` of whichever capability provides it, built on first use and kept."""
        with self._lock:
            if name in self._services:
                return self._services[name]
            if name in self._building:
                raise CapabilityError(f"services need each other: {' -> '.join((*self._building, name))}")
            cap = self.capabilities.service_owner(name)
            factory = cap.service_factory(name)
            ctx = ServiceContext(
                settings_section=getattr(self.settings, cap.name) if cap.settings is not None else None,
                root_settings=self.settings, store=self.store, blobs=self.blobs, jobs=self.jobs,
                data_dir=self.data_dir, service=self.service)
            self._building.append(name)
            try:
                self._services[name] = factory(ctx)
            finally:
                self._building.pop()
            return self._services[name]

    @property
    def catalog(self) -> Catalog:
        return self.service("catalog")  # type: ignore[no-any-return]

    def close(self) -> None:
        self.store.dispose()
