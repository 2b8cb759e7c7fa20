"""A worker: claim a job, run its step with a heart-beating lease, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from vidlens.errors import CancelledError, JobError
from vidlens.jobs.queue import Job
from vidlens.jobs.steps import Partial, StepContext, StepFn, load_steps

if TYPE_CHECKING:
    from vidlens.platform import Platform

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, platform: Platform, *, worker_id: str | None = None,
                 import_modules: list[str] | None = None, kinds: list[str] | None = None) -> None:
        self.platform = platform
        self.queue = platform.jobs
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.steps = load_steps(import_modules, platform.capabilities)
        self.kinds = kinds or sorted(self.steps)

    def run(self, stop: threading.Event, *, max_jobs: int | None = None, idle_exit: bool = False) -> int:
        """Process jobs until ``stop`` is set (or ``max_jobs`` done / queue empty with ``idle_exit``)."""
        done = 0
        while not stop.is_set():
            job = self.queue.claim(self.worker_id, self.kinds)
            if job is None:
                if idle_exit:
                    break
                stop.wait(self.platform.settings.jobs.poll_s)
                continue
            self.run_job(job)
            done += 1
            if max_jobs is not None and done >= max_jobs:
                break
        return done

    def on_progress(self, job: Job, fraction: float, message: str | None) -> None:
        """Called on every progress report of a running step (the CLI draws its bars here)."""

    def run_job(self, job: Job, fn: StepFn | None = None) -> None:
        """Run one claimed job under the lease it was claimed with (a Ray dispatcher claims for its actors);
        ``fn`` instead of its kind's step (the merge of a job that ran as parts)."""
        owner = job.lease_owner or self.worker_id
        fn = fn or self.steps.get(job.kind)
        if fn is None:
            self.queue.fail(job.id, owner, JobError(f"no step registered for job kind '{job.kind}'"))
            return
        state = {"progress": 0.0, "message": None, "lost": False}
        beat_stop = threading.Event()

        def beat() -> None:
            while not beat_stop.wait(self.platform.settings.jobs.heartbeat_s):
                if not self.queue.heartbeat(job.id, owner, state["progress"], state["message"]):
                    state["lost"] = True
                    return

        def report(fraction: float, message: str | None) -> None:
            state["progress"] = fraction
            if message is not None:
                state["message"] = message
            self.on_progress(job, fraction, message)

        def cancelled() -> bool:
            return bool(state["lost"])

        hb = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        hb.start()
        try:
            result = fn(self.platform, StepContext(job=job, report=report, cancelled=cancelled))
        except CancelledError as exc:  # the step saw ``cancelled()`` and stopped, storing nothing
            if not state["lost"]:
                self.queue.fail(job.id, owner, exc)
                return
            result = {}
        except BaseException as exc:
            beat_stop.set()
            status = self.queue.fail(job.id, owner, exc)
            log.warning("job %s (%s) failed: %s -> %s", job.id, job.kind, exc, status)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return
        finally:
            beat_stop.set()
            hb.join(timeout=5)
        if state["lost"]:
            current = self.queue.get(job.id)
            if current.cancel_requested:
                self.queue.mark_cancelled(job.id, owner)
            return
        done = (self.queue.complete(job.id, owner, result.result, partial=result.error)
                if isinstance(result, Partial) else self.queue.complete(job.id, owner, result))
        if not done:
            log.warning("job %s finished after its lease was lost; result discarded", job.id)


def wait_for(platform: Platform, job_id: int, timeout: float = 600, poll: float = 0.2) -> Job:
    """Block until a job reaches a final state (used by the CLI's ``--wait`` and tests)."""
    from vidlens.jobs.queue import FINAL

    deadline = time.monotonic() + timeout
    while True:
        job = platform.jobs.get(job_id)
        if job.status in FINAL or time.monotonic() > deadline:
            return job
        time.sleep(poll)
