"""Job steps: plain idempotent functions, looked up by the job's ``kind``.

Each capability names the module of its steps (``Capability.steps``); ``load_steps`` imports
those, and a worker can also import a module of steps by name (``vidlens worker --import
mymodule``), like ``celery -A``. Step modules import this one, never the other way round.

A step may also say how one of its jobs runs as parts on several workers at once (``register_split``):
the Ray runner uses that for a long video's analysis; a local worker always runs the step whole.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vidlens.capability import Capabilities, installed
from vidlens.errors import PluginError, VidLensError

if TYPE_CHECKING:
    from vidlens.jobs.queue import Job
    from vidlens.platform import Platform


@dataclass
class StepContext:
    """What a running step may use: progress reporting and the cancel flag."""

    job: Job
    report: Callable[[float, str | None], None]
    cancelled: Callable[[], bool]


@dataclass(frozen=True)
class Partial:
    """What a step returns when part of its work failed and the rest is kept: the job ends
    ``partial`` with ``result``, and ``error`` (code, message, details) says what failed."""

    result: dict[str, Any]
    error: VidLensError


StepFn = Callable[["Platform", "StepContext"], "dict[str, Any] | Partial"]
_STEPS: dict[str, StepFn] = {}


@dataclass(frozen=True)
class Split:
    """How a job can run as parts on several workers, giving what its step would.

    ``plan(platform, job)``: the parts (JSON-able payloads), or None to run the step whole.
    ``part(platform, job, part)``: one part's result (picklable; it travels to the merge).
    ``merge(platform, ctx, results)``: the results in plan order -> what the step returns.
    """

    plan: Callable[[Platform, Job], list[dict[str, Any]] | None]
    part: Callable[[Platform, Job, dict[str, Any]], Any]
    merge: Callable[[Platform, StepContext, list[Any]], dict[str, Any] | Partial]


_SPLITS: dict[str, Split] = {}


def register_split(kind: str, split: Split) -> None:
    """Let jobs of ``kind`` (a registered step) run as parts (see ``Split``)."""
    if kind in _SPLITS and _SPLITS[kind] != split:
        raise PluginError(f"job step '{kind}' has two ways to split")
    _SPLITS[kind] = split


def splits() -> dict[str, Split]:
    """The job kinds that can run as parts (those of the step modules imported so far)."""
    return dict(_SPLITS)


def step(kind: str) -> Callable[[StepFn], StepFn]:
    """Register ``fn`` as the step for jobs of ``kind``. Duplicate kinds fail loudly."""

    def deco(fn: StepFn) -> StepFn:
        if kind in _STEPS and _STEPS[kind] is not fn:
            raise PluginError(f"job step '{kind}' is registered twice ({_STEPS[kind].__module__} and {fn.__module__})")
        _STEPS[kind] = fn
        return fn

    return deco


def load_steps(extra_modules: list[str] | None = None,
               capabilities: Capabilities | None = None) -> dict[str, StepFn]:
    """Every capability's steps, plus those of ``extra_modules``, by job kind."""
    (installed() if capabilities is None else capabilities).import_all("steps")
    for name in extra_modules or []:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise PluginError(f"cannot import step module '{name}': {exc}") from exc
    return dict(_STEPS)
