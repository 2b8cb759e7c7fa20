"""Job steps: plain idempotent functions, looked up by the job's ``kind``.

Built-in steps register here; packages add theirs through the entry-point group
``vidlens.steps``; a worker can also import a module of steps by name
(``vidlens worker --import mymodule``), like ``celery -A``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from vidlens.errors import PluginError

if TYPE_CHECKING:
    from vidlens.jobs.queue import Job
    from vidlens.platform import Platform


@dataclass
class StepContext:
    """What a running step may use: progress reporting and the cancel flag."""

    job: Job
    report: Callable[[float, str | None], None]
    cancelled: Callable[[], bool]


StepFn = Callable[["Platform", "StepContext"], dict[str, Any]]
_STEPS: dict[str, StepFn] = {}


def step(kind: str) -> Callable[[StepFn], StepFn]:
    """Register ``fn`` as the step for jobs of ``kind``. Duplicate kinds fail loudly."""

    def deco(fn: StepFn) -> StepFn:
        if kind in _STEPS and _STEPS[kind] is not fn:
            raise PluginError(f"job step '{kind}' is registered twice ({_STEPS[kind].__module__} and {fn.__module__})")
        _STEPS[kind] = fn
        return fn

    return deco


def load_steps(extra_modules: list[str] | None = None) -> dict[str, StepFn]:
    importlib.import_module("vidlens.jobs.builtin_steps")
    for ep in entry_points(group="vidlens.steps"):
        ep.load()
    for name in extra_modules or []:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise PluginError(f"cannot import step module '{name}': {exc}") from exc
    return dict(_STEPS)
