"""``RayRunner``: queued jobs run in actors on a Ray cluster; the job table stays the truth.

A dispatcher claims a job from the database only when one of its actors is idle (back-pressure:
everything else stays queued in the table, where any other runner or worker can take it) and hands
the actor the claimed row. The actor runs the step exactly as a local worker does
(``Worker.run_job``): it renews the lease, and ``complete`` only counts while the lease is held, so
a result is never stored twice. Each actor builds its own ``Platform`` once and keeps it, so the
models its steps load (``vidlens.models.runtime``) stay warm from job to job.

When an actor's process dies mid-step, Ray restarts the actor and the dispatcher gives the job back
to the table at once (``JobQueue.fail``: retried with backoff, up to ``jobs.max_attempts``); when
the dispatcher itself dies, its actors go with it and the leases run out, so another runner
reclaims the jobs. Nothing but ids and small results travels through Ray's object store.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

from vidlens.errors import ConfigError, JobError
from vidlens.jobs.queue import Job, JobQueue
from vidlens.jobs.steps import load_steps
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

    def run(self, job: dict[str, Any]) -> int:
        """Run one job claimed for this actor (its ``lease_owner``); returns this process's id."""
        self.worker.run_job(Job(**job))
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
        pending: dict[Any, tuple[int, Job | None]] = {a.pid.remote(): (i, None) for i, a in enumerate(actors)}
        idle: list[int] = []
        poll = self.settings.jobs.poll_s
        try:
            while not stop.is_set():
                while idle:
                    job = self.queue.claim(f"{self.runner_id}/{idle[-1]}", self.kinds)
                    if job is None:
                        break
                    slot = idle.pop()
                    pending[actors[slot].run.remote(job.to_dict())] = (slot, job)
                done, _ = ray.wait(list(pending), num_returns=1, timeout=poll)
                restarting = []
                for ref in done:
                    slot, job = pending.pop(ref)
                    if self._settle(ray, ref, job):
                        idle.append(slot)
                    else:  # its process died: Ray restarts it; no job goes to it until it answers
                        restarting.append(slot)
                if restarting:
                    stop.wait(poll)
                    pending.update({actors[i].pid.remote(): (i, None) for i in restarting})
        finally:
            self._drain(ray, {r: v for r, v in pending.items() if v[1] is not None})
            for a in actors:
                ray.kill(a)

    def _settle(self, ray: Any, ref: Any, job: Job | None) -> bool:
        """The actor returned: its worker recorded the outcome. False when its process died (the job, if
        any, goes back to the table)."""
        try:
            ray.get(ref)
            return True
        except ray.exceptions.RayError as exc:
            if job is None:
                return False
            reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            status = self.queue.fail(job.id, str(job.lease_owner), JobError(
                f"the Ray actor running job {job.id} died: {reason}", details={"runner": self.runner_id}))
            log.warning("job %s: actor died (%s) -> %s", job.id, reason, status)
            return False

    def _drain(self, ray: Any, running: dict[Any, tuple[int, Job | None]], timeout: float = 30.0) -> None:
        """On stop, let running steps finish (as ``LocalRunner`` joins its processes)."""
        if running:
            done, _ = ray.wait(list(running), num_returns=len(running), timeout=timeout)
            for ref in done:
                self._settle(ray, ref, running.pop(ref)[1])
