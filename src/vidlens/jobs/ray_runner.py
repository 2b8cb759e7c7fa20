"""``RayRunner``: queued jobs run in actors on a Ray cluster; the job table stays the truth.

A dispatcher claims a job from the database only when one of its actors is idle (back-pressure:
everything else stays queued in the table, where any other runner or worker can take it) and hands
the actor the claimed row. The actor runs the step exactly as a local worker does
(``Worker.run_job``): it renews the lease, and ``complete`` only counts while the lease is held, so
a result is never stored twice. Each actor builds its own ``Platform`` once and keeps it, so the
models its steps load (``vidlens.models.runtime``) stay warm from job to job.

A job whose kind can run as parts (``vidlens.jobs.steps.Split``: a long video's analysis in time
ranges) is planned by the actor it was handed to; when the plan has parts, the dispatcher hands them to
idle actors as they come free (before it claims anything new), renews the job's lease meanwhile, and
hands the parts' results to one actor that merges them and completes the job as a step would. A part
that fails or whose actor dies fails the job's attempt (the table retries it whole, with backoff).

When an actor's process dies mid-step, Ray restarts the actor and the dispatcher gives the job back to
the table at once (``JobQueue.fail``: retried with backoff, up to ``jobs.max_attempts``); when the
dispatcher itself dies, its actors go with it and the leases run out, so another runner reclaims the
jobs. Through Ray's object store travel ids, small results and a split job's part results.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from vidlens.errors import ConfigError, JobError
from vidlens.jobs.queue import Job, JobQueue
from vidlens.jobs.steps import load_steps, splits
from vidlens.settings import Settings, settings_model

log = logging.getLogger(__name__)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("runner = 'ray' needs Ray: pip install 'vidlens[scale]'") from None
    return ray


class StepActor:
    """One long-lived Ray actor: its own ``Platform`` and a ``Worker`` that runs claimed jobs."""

    def __init__(self, settings_json: str, import_modules: list[str]) -> None:
        from vidlens.jobs.worker import Worker
        from vidlens.platform import Platform

        settings = settings_model().model_validate_json(settings_json)
        self.platform = Platform.from_settings(settings)
        self.worker = Worker(self.platform, import_modules=import_modules)

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job claimed for this actor (its ``lease_owner``), or only plan it when it runs as parts
        (``{"parts": [...]}``). Returns this process's id with it."""
        claimed = Job(**job)
        split = splits().get(claimed.kind)
        if split is not None:
            try:
                parts = split.plan(self.platform, claimed)
            except Exception as exc:  # noqa: BLE001 - the step, run whole, reports a real error itself
                log.warning("job %s: no plan for parts (%s); it runs whole", claimed.id, exc)
                parts = None
            if parts and len(parts) > 1:
                return {"pid": os.getpid(), "parts": parts}
        self.worker.run_job(claimed)
        return {"pid": os.getpid()}

    def run_part(self, job: dict[str, Any], part: dict[str, Any]) -> tuple[int, Any]:
        """One part of a job that runs as parts: (this process's id, the part's result)."""
        claimed = Job(**job)
        return os.getpid(), splits()[claimed.kind].part(self.platform, claimed, part)

    def merge(self, job: dict[str, Any], *results: Any) -> int:
        """Merge the parts' results and complete the job under its lease, as a step would."""
        claimed = Job(**job)
        split = splits()[claimed.kind]
        self.worker.run_job(claimed, fn=lambda platform, ctx: split.merge(platform, ctx, list(results)))
        return os.getpid()

    def pid(self) -> int:
        return os.getpid()


def connect(settings: Settings, cpus: int) -> Any:
    """Join ``settings.ray_address``, or start a local Ray instance with ``cpus`` CPUs."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    common: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": logging.WARNING, "configure_logging": False}
    if settings.ray_address:
        ray.init(address=settings.ray_address, **common)
    else:
        ray.init(num_cpus=cpus, object_store_memory=settings.ray_object_store_mb * 1024 * 1024, **common)
    return ray


@dataclass
class _Parts:
    """A job running as parts: the dispatcher holds its lease until an actor takes the merge."""

    job: Job
    parts: list[dict[str, Any]]
    results: list[Any] = field(default_factory=list)  # a result ref per part handed out, in plan order
    finished: int = 0
    beat: float = 0.0
    dead: bool = False  # failed, cancelled or its lease lost: what is still running is discarded

    @property
    def owner(self) -> str:
        return str(self.job.lease_owner)


@dataclass
class _Call:
    """What an awaited actor call was: a ping after (re)start, a job, a part, or a merge."""

    slot: int
    what: str  # ping | run | part | merge
    job: Job | None = None
    split: _Parts | None = None


class RayRunner:
    """Runner protocol: ``submit``, ``cancel``, ``serve`` (as ``LocalRunner``), on Ray actors."""

    def __init__(self, settings: Settings, queue: JobQueue, *, import_modules: list[str] | None = None) -> None:
        self.settings = settings
        self.queue = queue
        self.import_modules = list(import_modules or [])
        self.runner_id = f"ray:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.kinds = sorted(load_steps(self.import_modules))

    def submit(self, kind: str, payload: dict[str, Any], *, key: str | None = None,
               video_id: str | None = None) -> Job:
        return self.queue.enqueue(kind, payload, key=key, video_id=video_id)

    def cancel(self, job_id: int) -> Job:
        return self.queue.cancel(job_id)

    def serve(self, stop: threading.Event, processes: int | None = None) -> None:
        """Run ``processes`` actors (one CPU each) until ``stop`` is set."""
        n = processes or self.settings.workers
        ray = connect(self.settings, n)
        actor_cls = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(StepActor)
        payload = self.settings.model_dump_json()
        actors = [actor_cls.remote(payload, self.import_modules) for _ in range(n)]
        # an actor is idle once it answers a ping: after start (it built its platform) and after a restart
        pending: dict[Any, _Call] = {a.pid.remote(): _Call(i, "ping") for i, a in enumerate(actors)}
        idle: list[int] = []
        split_jobs: list[_Parts] = []
        poll = self.settings.jobs.poll_s
        try:
            while not stop.is_set():
                self._renew(split_jobs)
                while idle:
                    handed = self._hand(actors, idle[-1], split_jobs)
                    if handed is None:
                        break
                    idle.pop()
                    pending[handed[0]] = handed[1]
                done, _ = ray.wait(list(pending), num_returns=1, timeout=poll)
                restarting = []
                for ref in done:
                    call = pending.pop(ref)
                    if self._settle(ray, ref, call, split_jobs):
                        idle.append(call.slot)
                    else:  # its process died: Ray restarts it; no job goes to it until it answers
                        restarting.append(call.slot)
                if restarting:
                    stop.wait(poll)
                    pending.update({actors[i].pid.remote(): _Call(i, "ping") for i in restarting})
        finally:
            self._drain(ray, {r: c for r, c in pending.items() if c.job is not None}, split_jobs)
            for a in actors:
                ray.kill(a)

    def _hand(self, actors: list[Any], slot: int, split_jobs: list[_Parts]) -> tuple[Any, _Call] | None:
        """Give the idle actor ``slot`` work: a merge that is due, else a part, else a newly claimed job."""
        for s in split_jobs:
            if s.finished == len(s.parts):
                split_jobs.remove(s)  # the merging actor's worker renews the lease from here on
                return actors[slot].merge.remote(s.job.to_dict(), *s.results), _Call(slot, "merge", s.job)
        for s in split_jobs:
            if len(s.results) < len(s.parts):
                status, result = actors[slot].run_part.options(num_returns=2).remote(
                    s.job.to_dict(), s.parts[len(s.results)])
                s.results.append(result)
                return status, _Call(slot, "part", s.job, s)
        job = self.queue.claim(f"{self.runner_id}/{slot}", self.kinds)
        if job is None:
            return None
        return actors[slot].run.remote(job.to_dict()), _Call(slot, "run", job)

    def _renew(self, split_jobs: list[_Parts]) -> None:
        """Renew the leases of the jobs running as parts; give up those lost or cancelled."""
        now = time.monotonic()
        for s in list(split_jobs):
            if now - s.beat < self.settings.jobs.heartbeat_s:
                continue
            s.beat = now
            message = f"{s.finished}/{len(s.parts)} parts done"
            if not self.queue.heartbeat(s.job.id, s.owner, 0.95 * s.finished / len(s.parts), message):
                s.dead = True
                split_jobs.remove(s)
                if self.queue.get(s.job.id).cancel_requested:
                    self.queue.mark_cancelled(s.job.id, s.owner)

    def _settle(self, ray: Any, ref: Any, call: _Call, split_jobs: list[_Parts]) -> bool:
        """Note what an actor call gave. False when the actor's process died (its job, if any, goes back to
        the table)."""
        try:
            value = ray.get(ref)
        except ray.exceptions.RayError as exc:
            died = not isinstance(exc, ray.exceptions.RayTaskError)  # else the actor is alive: a part raised
            if call.job is not None and (call.split is None or not call.split.dead):
                self._give_back(call, exc, died, split_jobs)
            return not died
        if call.what == "run" and value.get("parts") and call.job is not None:
            split_jobs.append(_Parts(call.job, value["parts"], beat=time.monotonic()))
        elif call.what == "part" and call.split is not None:
            call.split.finished += 1
        return True

    def _give_back(self, call: _Call, exc: BaseException, died: bool, split_jobs: list[_Parts]) -> None:
        assert call.job is not None
        job = call.job
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        what = f"the Ray actor running job {job.id} died" if died else f"a part of job {job.id} failed"
        if call.split is not None:
            call.split.dead = True
            if call.split in split_jobs:
                split_jobs.remove(call.split)
        status = self.queue.fail(job.id, str(job.lease_owner), JobError(
            f"{what}: {first}", details={"runner": self.runner_id}))
        log.warning("job %s: %s (%s) -> %s", job.id, what, first, status)

    def _drain(self, ray: Any, running: dict[Any, _Call], split_jobs: list[_Parts], timeout: float = 30.0) -> None:
        """On stop, let running steps finish (as ``LocalRunner`` joins its processes). A job running as parts
        that has not reached its merge is left to its lease, so another runner takes it up."""
        for s in split_jobs:
            s.dead = True
        if running:
            done, _ = ray.wait(list(running), num_returns=len(running), timeout=timeout)
            for ref in done:
                self._settle(ray, ref, running.pop(ref), [])
