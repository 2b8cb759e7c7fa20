"""Plugins: every extension point is a small ABC plus an entry point.

Built-ins register exactly like third-party plugins, through the entry-point group
``vidlens.plugins`` in their package metadata. Each plugin class carries a
``manifest`` (name, version, kind, licence, what it needs). Two plugins with the
same name fail loudly instead of one silently shadowing the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from vidlens.errors import PluginError

GROUP = "vidlens.plugins"


@dataclass(frozen=True, slots=True)
class PluginManifest:
    name: str
    version: str
    kind: str  # "analyzer", "fingerprinter", "label_codec", ...
    summary: str
    license: str = "Apache-2.0"
    models: tuple[str, ...] = ()
    extras: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "kind": self.kind, "summary": self.summary,
                "license": self.license, "models": list(self.models), "extras": list(self.extras)}


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    manifest: PluginManifest
    cls: type
    entry_point: str


class PluginRegistry:
    """Plugins found through entry points (or given explicitly), by name."""

    def __init__(self, plugins: Iterable[LoadedPlugin] = ()) -> None:
        self._by_name: dict[str, LoadedPlugin] = {}
        for p in plugins:
            self.add(p)

    @classmethod
    def discover(cls, eps: Iterable[EntryPoint] | None = None) -> PluginRegistry:
        reg = cls()
        for ep in (entry_points(group=GROUP) if eps is None else eps):
            try:
                obj = ep.load()
            except Exception as exc:
                raise PluginError(f"plugin entry point '{ep.name} = {ep.value}' failed to load: "
                                  f"{type(exc).__name__}: {exc}") from exc
            manifest = getattr(obj, "manifest", None)
            if not isinstance(manifest, PluginManifest):
                raise PluginError(f"plugin '{ep.name}' ({ep.value}) has no PluginManifest 'manifest' attribute")
            if manifest.name != ep.name:
                raise PluginError(f"plugin entry point '{ep.name}' loads a plugin named '{manifest.name}'; "
                                  "the names must match")
            reg.add(LoadedPlugin(manifest, obj, ep.value))
        return reg

    def add(self, plugin: LoadedPlugin) -> None:
        name = plugin.manifest.name
        if name in self._by_name:
            other = self._by_name[name]
            raise PluginError(f"duplicate plugin name '{name}': provided by both {other.entry_point} "
                              f"and {plugin.entry_point}")
        self._by_name[name] = plugin

    def get(self, name: str, kind: str | None = None) -> LoadedPlugin:
        try:
            p = self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise PluginError(f"no plugin named '{name}' (installed: {known})") from None
        if kind is not None and p.manifest.kind != kind:
            raise PluginError(f"plugin '{name}' is a {p.manifest.kind}, expected a {kind}")
        return p

    def of_kind(self, kind: str) -> list[LoadedPlugin]:
        return [p for p in self._by_name.values() if p.manifest.kind == kind]

    def __iter__(self) -> Iterator[LoadedPlugin]:
        return iter(sorted(self._by_name.values(), key=lambda p: (p.manifest.kind, p.manifest.name)))

    def __len__(self) -> int:
        return len(self._by_name)


@cache
def discovered() -> PluginRegistry:
    """The installed plugins, discovered once per process (``discovered.cache_clear()`` to look again)."""
    return PluginRegistry.discover()
