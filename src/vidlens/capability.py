"""The capability contract: what one domain folder gives the platform, found through one entry-point group.

A domain declares ``capability = Capability(...)`` in ``vidlens/<domain>/capability.py`` and registers it
in the entry-point group ``vidlens.capabilities``; the built-in domains register exactly like a
third-party package does (datasette's hooks and python-threatexchange's interfaces are the models).
The CLI, the API, the UI, the store, the job worker and the settings loader read this one list, so
adding a domain never touches a central file.

Every part except the settings model is a module path, so discovery imports only the small
declaration modules and ``vidlens --help`` stays fast; a part is imported when it is used. A declared
module that does not exist is an error, never skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from vidlens.errors import PluginError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

GROUP = "vidlens.capabilities"
Part = Literal["tables", "migrations", "steps", "cli", "api", "ui", "services", "projections"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class CapabilityError(PluginError):
    """A capability is declared wrongly, twice, or names a module that cannot be imported."""


@dataclass(frozen=True)
class NavItem:
    """One link of the web UI's navigation bar; shown to callers holding at least ``role``."""

    label: str
    path: str
    role: str = "viewer"
    order: int = 50  # place in the bar, lowest first (Library 10 ... Settings 90); ties keep load order


@dataclass(frozen=True)
class Projection:
    """Rows derived from a stored record of another capability, kept in step with it.

    ``source`` names the records it follows: ``"document"``, the stored analysis document of a video
    (the key is the video id), or a kind another capability stores and projects itself (``"watch_event"``:
    a camera event, keyed by its id). ``clear`` deletes the rows of one key and ``apply`` writes them from
    the record; both run inside the transaction that stores the record, so a failing projection leaves
    the record and every projection as they were. ``vidlens reindex`` calls the same two to rebuild the
    projections of documents.
    """

    name: str  # unique over all capabilities; ``vidlens reindex --projection NAME``
    tables: tuple[str, ...]  # the tables it writes (and only it writes)
    apply: Callable[[Connection, str, Mapping[str, Any]], None]  # (conn, key, record)
    clear: Callable[[Connection, str], None]  # (conn, key)
    source: str = "document"  # the kind of record it follows


@dataclass(frozen=True, eq=False)
class Capability:
    """What one domain folder gives the platform. Module paths are strings: nothing heavy loads early."""

    name: str  # also the key of its settings section ("[protect]" in vidlens.toml)
    summary: str  # one line; the description of its settings section
    settings: type[BaseModel] | None = None  # the section model (extra="forbid", every field described)
    tables: str | None = None  # module that adds its Tables to ``vidlens.store.schema.metadata``
    migrations: str | None = None  # package holding its Alembic revisions (first one labelled ``name``)
    steps: str | None = None  # module whose ``@step`` functions define job kinds
    cli: str | None = None  # module exposing ``register(app: typer.Typer)``
    api: tuple[str, ...] = ()  # modules exposing ``router`` (or ``routers``) for the HTTP API
    ui: str | None = None  # module exposing ``install(app)`` and ``nav: list[NavItem]``
    services: Mapping[str, str] = field(default_factory=dict)  # service name -> "module:factory(ctx)"
    projections: str | None = None  # module exposing ``projections: list[Projection]``
    # kinds of record it stores that others project (a Projection ``source``), each with its own service whose
    # ``reproject(names, progress)`` writes those projections again for every stored record (``vidlens reindex``)
    records: Mapping[str, str] = field(default_factory=dict)
    requires: tuple[str, ...] = ()  # capabilities that must be installed (and are loaded first)

    def __post_init__(self) -> None:
        if self.tables and not self.migrations:
            raise CapabilityError(f"capability '{self.name}' declares tables but no migrations: "
                                  "its tables would never be created")
        for kind, service in self.records.items():
            if service not in self.services:
                raise CapabilityError(f"capability '{self.name}': records '{kind}' name service '{service}', "
                                      "which it does not provide")

    def modules(self) -> Iterator[tuple[Part, str]]:
        """Every module this capability declares, with the part it serves."""
        for part in ("tables", "migrations", "steps", "cli", "ui", "projections"):
            path = getattr(self, part)
            if path:
                yield part, path  # type: ignore[misc]
        for path in self.api:
            yield "api", path
        for ref in self.services.values():
            yield "services", ref.partition(":")[0]

    def parts(self) -> list[str]:
        """The names of the parts it provides ("settings", "tables", "cli" ...), sorted."""
        return sorted({part for part, _ in self.modules()} | ({"settings"} if self.settings else set()))

    def import_part(self, part: Part, path: str) -> ModuleType:
        """Import one declared module; a missing module or a missing dependency is a clear error."""
        try:
            return importlib.import_module(path)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == path or path.startswith(missing + "."):
                raise CapabilityError(f"capability '{self.name}' declares {part} module '{path}', "
                                      "which does not exist") from exc
            raise CapabilityError(f"capability '{self.name}': its {part} module '{path}' needs '{missing}', "
                                  "which is not installed (an optional extra?)") from exc

    def migrations_dir(self) -> Path | None:
        """The folder of its Alembic revisions, or None when it has no migrations."""
        if not self.migrations:
            return None
        try:
            spec = importlib.util.find_spec(self.migrations)
        except ModuleNotFoundError:
            spec = None
        if spec is None or not spec.submodule_search_locations:
            raise CapabilityError(f"capability '{self.name}' declares migrations package "
                                  f"'{self.migrations}', which does not exist")
        return Path(next(iter(spec.submodule_search_locations)))

    def service_factory(self, service: str) -> Any:
        """The factory named for ``service`` ("module:attribute.path")."""
        module_path, _, attr = self.services[service].partition(":")
        obj: Any = self.import_part("services", module_path)
        for name in attr.split("."):
            try:
                obj = getattr(obj, name)
            except AttributeError:
                raise CapabilityError(f"capability '{self.name}': service '{service}' names "
                                      f"'{self.services[service]}', which does not exist") from None
        return obj


class Capabilities:
    """The installed capabilities in load order: each after those it requires, otherwise by name."""

    def __init__(self, found: Iterable[tuple[Capability, str]]) -> None:
        by_name: dict[str, tuple[Capability, str]] = {}
        for cap, origin in found:
            if not _NAME.match(cap.name):
                raise CapabilityError(f"capability name '{cap.name}' ({origin}) must be lower case letters, "
                                      "digits and '_', starting with a letter")
            if cap.name in by_name:
                raise CapabilityError(f"duplicate capability name '{cap.name}': provided by both "
                                      f"{by_name[cap.name][1]} and {origin}")
            by_name[cap.name] = (cap, origin)
        self._origin = {name: origin for name, (_, origin) in by_name.items()}
        self._ordered = _load_order({name: cap for name, (cap, _) in by_name.items()})
        owners: dict[str, str] = {}
        for cap in self._ordered:
            for service in cap.services:
                if service in owners:
                    raise CapabilityError(f"service '{service}' is provided by both capability "
                                          f"'{owners[service]}' and '{cap.name}'")
                owners[service] = cap.name
        self._service_owner = owners

    @classmethod
    def discover(cls, eps: Iterable[EntryPoint] | None = None) -> Capabilities:
        found = []
        for ep in entry_points(group=GROUP) if eps is None else eps:
            try:
                obj = ep.load()
            except Exception as exc:
                raise CapabilityError(f"capability entry point '{ep.name} = {ep.value}' failed to load: "
                                      f"{type(exc).__name__}: {exc}") from exc
            if not isinstance(obj, Capability):
                raise CapabilityError(f"capability entry point '{ep.name} = {ep.value}' is not a Capability")
            if obj.name != ep.name:
                raise CapabilityError(f"capability entry point '{ep.name}' loads a capability named "
                                      f"'{obj.name}'; the names must match")
            found.append((obj, ep.value))
        return cls(found)

    def __iter__(self) -> Iterator[Capability]:
        return iter(self._ordered)

    def __len__(self) -> int:
        return len(self._ordered)

    def get(self, name: str) -> Capability:
        for cap in self._ordered:
            if cap.name == name:
                return cap
        raise CapabilityError(f"no capability named '{name}' (installed: {', '.join(self.names())})")

    def names(self) -> list[str]:
        return [c.name for c in self._ordered]

    def origin(self, name: str) -> str:
        """The entry point value that declared ``name``."""
        return self._origin[name]

    def service_owner(self, service: str) -> Capability:
        try:
            return self.get(self._service_owner[service])
        except KeyError:
            known = ", ".join(sorted(self._service_owner)) or "none"
            raise CapabilityError(f"no capability provides a service named '{service}' "
                                  f"(known: {known})") from None

    def import_all(self, part: Part) -> list[tuple[Capability, ModuleType]]:
        """Import the ``part`` modules of every capability, in load order."""
        out = []
        for cap in self._ordered:
            for p, path in cap.modules():
                if p == part:
                    out.append((cap, cap.import_part(part, path)))
        return out

    def projections(self, source: str = "document") -> list[Projection]:
        """Every capability's projections of ``source`` records, in load order; a name used twice (over all
        sources) is an error naming both."""
        found: dict[str, tuple[str, Projection]] = {}
        for cap, module in self.import_all("projections"):
            declared = getattr(module, "projections", None)
            if not isinstance(declared, list | tuple) or not all(isinstance(p, Projection) for p in declared):
                raise CapabilityError(f"capability '{cap.name}': projections module '{cap.projections}' must "
                                      "define `projections`, a list of Projection")
            for p in declared:
                if p.name in found:
                    raise CapabilityError(f"projection '{p.name}' is declared by both capability "
                                          f"'{found[p.name][0]}' and '{cap.name}'")
                found[p.name] = (cap.name, p)
        return [p for _, p in found.values() if p.source == source]

    def record_services(self) -> dict[str, str]:
        """Each kind of record that a capability stores and others project, with the service that re-projects
        them (``Capability.records``), in load order."""
        return {kind: service for cap in self._ordered for kind, service in cap.records.items()}

    def problems(self) -> dict[str, list[str]]:
        """Per capability, every declared module that cannot be imported (for ``vidlens plugins list``)."""
        out: dict[str, list[str]] = {}
        for cap in self._ordered:
            found = []
            for part, path in cap.modules():
                try:
                    cap.migrations_dir() if part == "migrations" else cap.import_part(part, path)
                except CapabilityError as exc:
                    found.append(exc.message)
            out[cap.name] = found
        return out


def _load_order(caps: Mapping[str, Capability]) -> list[Capability]:
    ordered: list[Capability] = []
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise CapabilityError(f"capabilities require each other in a loop: {' -> '.join((*path, name))}")
        state[name] = "visiting"
        for req in sorted(caps[name].requires):
            if req not in caps:
                raise CapabilityError(f"capability '{name}' requires '{req}', which is not installed")
            visit(req, (*path, name))
        state[name] = "done"
        ordered.append(caps[name])

    for name in sorted(caps):
        visit(name, ())
    return ordered


@cache
def installed() -> Capabilities:
    """The capabilities registered in this environment (discovered once per process)."""
    return Capabilities.discover()


def forget_installed() -> None:
    """Discover again on the next ``installed()`` call (after installing a package at run time)."""
    installed.cache_clear()
