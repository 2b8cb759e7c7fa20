"""The head revisions of the installed migrations, read from the revision files without running them.

Every command opens the store, and Alembic's ``upgrade heads`` on a database that is already current
still imports Alembic, runs every revision file and builds the revision graph: a noticeable part of a
short command's start-up. The heads are simply the revisions no other revision names as its
``down_revision``, and the files state both as literals, so they are read here with ``ast``; a database
whose version rows are exactly these heads has nothing to upgrade. Anything this reading is not sure of
(a value that is not a literal, a file that does not parse) gives None, and the store runs Alembic.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path


def _literal(tree: ast.Module, name: str) -> object:
    """The literal assigned to ``name`` at module level; ``ValueError`` when absent or not a literal."""
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == name and value is not None:
            return ast.literal_eval(value)
    raise ValueError(f"no literal {name}")


def _names(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"not a revision name: {value!r}")


def heads(dirs: Iterable[str | Path]) -> frozenset[str] | None:
    """The head revisions of the revision files in ``dirs`` (Alembic's version locations), or None when a
    file cannot be read for certain."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for folder in dirs:
            for path in sorted(Path(folder).glob("*.py")):
                if path.name == "__init__.py":
                    continue
                tree = ast.parse(path.read_bytes(), str(path))
                revision = _literal(tree, "revision")
                if not isinstance(revision, str) or revision in revisions:
                    return None
                revisions.add(revision)
                parents.update(_names(_literal(tree, "down_revision")))
    except (OSError, SyntaxError, ValueError):
        return None
    if not revisions or not parents <= revisions:
        return None
    return frozenset(revisions - parents)
