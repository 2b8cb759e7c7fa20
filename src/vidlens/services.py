"""``ServiceContext``: what a capability's service factory is given to build its service.

A service (the library, the search index, the review queue, the upload store, a registry ...) is
built by ``Platform.service(name)`` on first use from this context, which holds only the parts
services use. Services never receive the ``Platform``, so a domain depends on the store, the blob
store and its own settings section, never on the object graph above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vidlens.blobs.local import BlobStore
from vidlens.jobs.queue import JobQueue
from vidlens.settings import Settings
from vidlens.store.db import Store


@dataclass(frozen=True)
class ServiceContext:
    settings_section: BaseModel | None  # the owning capability's own section (``[serve]`` ...), if any
    root_settings: Settings  # core settings: media limits, data_dir, jobs ...
    store: Store
    blobs: BlobStore
    jobs: JobQueue
    data_dir: Path
    service: Callable[[str], Any]  # another capability's service, built on first use

    def section(self, model: type[BaseModel]) -> Any:
        """The owning capability's section, checked to be a ``model`` (typed access for the factory)."""
        if not isinstance(self.settings_section, model):
            raise TypeError(f"settings section is {type(self.settings_section).__name__}, "
                            f"expected {model.__name__}")
        return self.settings_section
