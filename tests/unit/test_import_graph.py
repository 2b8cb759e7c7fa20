"""The import graph of ``vidlens``: no cycles, and no arrow from a lower layer to a higher one.

Every import counts, wherever it is written: at module level, inside a function, under
``if TYPE_CHECKING:``, and ``importlib.import_module("a.literal")``. A type-only import is still a
dependency of the design, and a function-level import only hides a cycle from the interpreter.

The layers are defined here and nowhere else (docs/architecture.md draws them). Whatever is not
named below is a domain, so a new domain package (search/, edit/, watch/ ...) needs no edit here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from vidlens.capability import installed

SRC = Path(__file__).resolve().parents[2] / "src"

BASE, INFRASTRUCTURE, DOMAINS, PLATFORM, INTERFACES = range(5)
LAYER_NAMES = ("base", "infrastructure", "domains", "platform", "interfaces")
# Lowest first. A module belongs to the longest entry that is it or one of its packages.
LAYERS: dict[str, int] = {
    "vidlens": BASE,  # the package itself (``__version__``) only, not its submodules
    "vidlens.errors": BASE,
    "vidlens.types": BASE,
    "vidlens.timebase": BASE,
    "vidlens.hashing": BASE,
    "vidlens.capability": INFRASTRUCTURE,
    "vidlens.index": INFRASTRUCTURE,
    "vidlens.identity": INFRASTRUCTURE,
    "vidlens.vectors": INFRASTRUCTURE,
    "vidlens.ledger": INFRASTRUCTURE,
    "vidlens.settings": INFRASTRUCTURE,
    "vidlens.plugins": INFRASTRUCTURE,
    "vidlens.services": INFRASTRUCTURE,
    "vidlens.store": INFRASTRUCTURE,
    "vidlens.blobs": INFRASTRUCTURE,
    "vidlens.media": INFRASTRUCTURE,
    "vidlens.models": INFRASTRUCTURE,
    "vidlens.testing": INFRASTRUCTURE,
    "vidlens.jobs.queue": INFRASTRUCTURE,
    "vidlens.platform": PLATFORM,
    "vidlens.jobs": PLATFORM,  # the step registry, the worker and the process pool run on the Platform
    "vidlens.cli": INTERFACES,
    "vidlens.api": INTERFACES,
    "vidlens.ui": INTERFACES,
    "vidlens.report": INTERFACES,
    "vidlens.__main__": INTERFACES,
}
# A capability's job-steps, API and UI modules are adapters like its CLI module: they receive the
# Platform (or the app that holds it), so they sit with the interfaces wherever the capability keeps them.
ADAPTER_MODULES_LAYER = INTERFACES

# Known exceptions. Each names the change that removes it, and the tests fail once it no longer
# occurs, so these lists only shrink.
KNOWN_CYCLES: list[set[str]] = []
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "vidlens").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The vidlens modules ``name`` imports, however it imports them."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def known(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            # ``from pkg import sub`` imports the module pkg.sub; ``from mod import name`` imports mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "import_module"):
            targets = [node.args[0].value]
        for t in targets:
            if t == "vidlens" or t.startswith("vidlens."):
                found = known(t)
                if found is not None and found != name:
                    yield found


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: set(_imports(name, path, modules)) for name, path in modules.items()}


def _layer(module: str, adapter_modules: set[str]) -> int:
    if module in adapter_modules:
        return ADAPTER_MODULES_LAYER
    best = ""
    for prefix in LAYERS:
        matches = module == prefix or (prefix != "vidlens" and module.startswith(prefix + "."))
        if matches and len(prefix) > len(best):
            best = prefix
    return LAYERS[best] if best else DOMAINS


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(scc)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _a_cycle(scc: set[str], graph: dict[str, set[str]]) -> str:
    """One concrete loop through the component, for the failure message."""
    start = min(scc)
    path, seen = [start], {start}
    while True:
        nxt = min(w for w in graph[path[-1]] if w in scc)
        if nxt in seen:
            return " -> ".join([*path[path.index(nxt):], nxt])
        path.append(nxt)
        seen.add(nxt)


def test_the_graph_is_read_from_the_sources() -> None:
    graph = _graph()
    assert "vidlens.store.schema" in graph["vidlens.store.db"]  # a module-level import
    assert "vidlens.analyze.runner" in graph["vidlens.analyze.steps"]  # a function-level import
    assert "vidlens.platform" in graph["vidlens.jobs.steps"]  # a TYPE_CHECKING import


def test_no_import_cycles() -> None:
    graph = _graph()
    found = _cycles(graph)
    unexpected = [_a_cycle(c, graph) for c in found if c not in KNOWN_CYCLES]
    assert not unexpected, "import cycles:\n  " + "\n  ".join(unexpected)
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"these known cycles are gone; remove them from KNOWN_CYCLES: {gone}"


def test_no_arrow_from_a_lower_layer_to_a_higher_one() -> None:
    graph = _graph()
    adapter_modules = {c.steps for c in installed() if c.steps} | {m for c in installed() for m in c.api} \
        | {c.ui for c in installed() if c.ui}
    upward = {(a, b) for a, targets in graph.items() for b in targets
              if _layer(a, adapter_modules) < _layer(b, adapter_modules)}
    unexpected = sorted(upward - KNOWN_UPWARD)
    assert not unexpected, "imports pointing up a layer:\n  " + "\n  ".join(
        f"{a} ({LAYER_NAMES[_layer(a, adapter_modules)]}) -> {b} ({LAYER_NAMES[_layer(b, adapter_modules)]})"
        for a, b in unexpected)
    gone = sorted(KNOWN_UPWARD - upward)
    assert not gone, f"these known upward imports are gone; remove them from KNOWN_UPWARD: {gone}"


def test_settings_know_no_domain() -> None:
    """The settings module composes sections from capabilities; it names none of them."""
    graph = _graph()
    assert {m for m in graph["vidlens.settings"] if _layer(m, set()) > INFRASTRUCTURE} == set()
    assert graph["vidlens.settings"] <= {"vidlens.capability", "vidlens.errors"}
