"""``LocalRunner``: a pool of worker processes on this machine.

Each process builds its own ``Platform`` from the same settings (nothing is shared
but the database), so a crashed or killed process loses nothing: its job's lease
runs out and another process reclaims it. Retries belong to the job table, not
to the engine.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
from typing import TYPE_CHECKING, Any

from vidlens.jobs.queue import Job, JobQueue
from vidlens.settings import Settings, settings_model

if TYPE_CHECKING:
    from vidlens.jobs.ray_runner import RayRunner


def _worker_main(settings_json: str, import_modules: list[str], stop: Any) -> None:
    from vidlens.jobs.worker import Worker
    from vidlens.platform import Platform

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    settings = settings_model().model_validate_json(settings_json)
    platform = Platform.from_settings(settings)
    worker = Worker(platform, import_modules=import_modules)
    local_stop = threading.Event()

    def watch() -> None:
        stop.wait()
        local_stop.set()

    threading.Thread(target=watch, daemon=True).start()
    worker.run(local_stop)


class LocalRunner:
    """Runner protocol: ``submit``, ``cancel``, ``serve``."""

    def __init__(self, settings: Settings, queue: JobQueue, *, import_modules: list[str] | None = None) -> None:
        self.settings = settings
        self.queue = queue
        self.import_modules = list(import_modules or [])

    def submit(self, kind: str, payload: dict[str, Any], *, key: str | None = None,
               video_id: str | None = None) -> Job:
        return self.queue.enqueue(kind, payload, key=key, video_id=video_id)

    def cancel(self, job_id: int) -> Job:
        return self.queue.cancel(job_id)

    def serve(self, stop: threading.Event, processes: int | None = None) -> None:
        """Run ``processes`` workers until ``stop`` is set; restart any that die."""
        ctx = mp.get_context("spawn")
        mp_stop = ctx.Event()
        n = processes or self.settings.workers
        payload = self.settings.model_dump_json()
        procs = [ctx.Process(target=_worker_main, args=(payload, self.import_modules, mp_stop), daemon=True)
                 for _ in range(n)]
        for p in procs:
            p.start()
        try:
            while not stop.wait(1.0):
                for i, p in enumerate(procs):
                    if not p.is_alive():  # supervised: a dead worker is replaced
                        procs[i] = ctx.Process(target=_worker_main, args=(payload, self.import_modules, mp_stop),
                                               daemon=True)
                        procs[i].start()
        finally:
            mp_stop.set()
            for p in procs:
                p.join(timeout=30)
                if p.is_alive():
                    p.terminate()


def make_runner(settings: Settings, queue: JobQueue, *,
                import_modules: list[str] | None = None) -> LocalRunner | RayRunner:
    """The runner ``settings.runner`` names (``VIDLENS_RUNNER``)."""
    if settings.runner == "ray":
        from vidlens.jobs.ray_runner import RayRunner

        return RayRunner(settings, queue, import_modules=import_modules)
    return LocalRunner(settings, queue, import_modules=import_modules)
