"""Runs every camera in its own process and keeps them running; stores what they report.

The supervisor is the only process that writes to the database: cameras send their events on a
queue, and it stores each one with its alerts (``WatchEvents.add``), wakes the alert senders, and
cuts each object event's clip once the recording covers its post-roll. A camera process that dies
(a decoder crash, a kill) is recorded as a ``camera_offline`` event and restarted after
``restart_backoff_s``, doubling to a minute while it keeps dying; the other cameras go on.
``Retention`` deletes old recordings, clips and snapshots by age and by the disk quota.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue as queue_mod
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlens.watch.alerts import Alerts, availability_message, count_message
from vidlens.watch.camera import CameraJob, run_camera
from vidlens.watch.clips import ClipCutter, Retention
from vidlens.watch.events import WatchEvents
from vidlens.watch.settings import WatchSettings

log = logging.getLogger(__name__)
MAX_RESTART_S = 60.0


@dataclass
class _Camera:
    job: CameraJob
    process: Any = None  # multiprocessing.Process
    done: bool = False  # its file ended (until_eof): not restarted
    restarts: int = 0
    restart_at: float = 0.0
    state: str = "starting"
    detect_s: list[float] = field(default_factory=list)
    detect_cpu_s: list[float] = field(default_factory=list)
    frames: int = 0
    cpu_s: float = 0.0  # CPU of its watching thread while frames flowed (start-up and waits excluded)
    detector_runs: int = 0


class Supervisor:
    def __init__(self, settings: WatchSettings, events: WatchEvents, root: Path, *, until_eof: bool = False,
                 fast: bool = False, face_matchers: tuple[Any, ...] = ()) -> None:
        self.settings = settings
        self.events = events
        self.root = root
        self.ctx = mp.get_context("spawn")  # no inherited threads or connections in a camera process
        self.queue = self.ctx.Queue()
        self.cameras = {name: _Camera(CameraJob(name, cfg, root / name, until_eof=until_eof, fast=fast,
                                                face_matchers=face_matchers))
                        for name, cfg in settings.cameras.items() if cfg.enabled}
        self.alerts = Alerts(events, settings)
        self.clips = ClipCutter(events, root)
        self.retention = Retention(settings, events, root)
        self._stop = False

    def run(self, duration_s: float | None = None) -> dict[str, Any]:
        """Watch until every camera is done (``until_eof``), ``duration_s`` passes, or SIGINT/SIGTERM."""
        old = {s: signal.signal(s, lambda *_: self.stop()) for s in (signal.SIGINT, signal.SIGTERM)}
        self.alerts.start()
        for cam in self.cameras.values():
            self._start(cam)
        deadline = None if duration_s is None else time.monotonic() + duration_s
        last_sweep = 0.0
        try:
            while not self._stop and not all(c.done for c in self.cameras.values()):
                if deadline is not None and time.monotonic() > deadline:
                    break
                self._drain(0.2)
                self._watch_processes()
                self.clips.tick()
                if time.monotonic() - last_sweep > 60:
                    last_sweep = time.monotonic()
                    self.retention.sweep()
        finally:
            self._shutdown()
            for s, h in old.items():
                signal.signal(s, h)
        return self.summary()

    def stop(self) -> None:
        self._stop = True

    def summary(self) -> dict[str, Any]:
        return {name: {"state": c.state, "restarts": c.restarts, "frames": c.frames, "cpu_s": c.cpu_s,
                       "detector_runs": c.detector_runs, "detect_s": c.detect_s, "detect_cpu_s": c.detect_cpu_s}
                for name, c in self.cameras.items()}

    def _start(self, cam: _Camera) -> None:
        cam.process = self.ctx.Process(target=run_camera, args=(cam.job, self.queue), name=f"watch-{cam.job.name}",
                                       daemon=True)
        cam.process.start()

    def _watch_processes(self) -> None:
        now = time.monotonic()
        for cam in self.cameras.values():
            p = cam.process
            if cam.done or p is None:
                if not cam.done and p is None and now >= cam.restart_at:
                    self._start(cam)
                continue
            if p.is_alive():
                continue
            p.join()
            self._drain(0.0)  # what it sent before it died comes first
            if cam.done:
                continue
            cam.restarts += 1
            wait = min(MAX_RESTART_S, self.settings.restart_backoff_s * 2 ** (cam.restarts - 1))
            reason = f"the camera process died (exit code {p.exitcode}); restarting in {wait:g} s"
            log.warning("camera %s: %s", cam.job.name, reason)
            cam.state = "restarting"
            self._store({"id": uuid.uuid4().hex, "camera": cam.job.name, "type": "camera_offline", "label": None,
                         "track_id": None, "start": 0.0, "end": None, "received": time.time(),
                         "data": {"reason": reason}})
            cam.process = None
            cam.restart_at = now + wait

    def _drain(self, wait: float) -> None:
        try:
            msg = self.queue.get(timeout=wait) if wait else self.queue.get_nowait()
        except queue_mod.Empty:
            return
        while True:
            self._handle(msg)
            try:
                msg = self.queue.get_nowait()
            except queue_mod.Empty:
                return

    def _handle(self, msg: dict[str, Any]) -> None:
        cam = self.cameras.get(msg.get("camera", ""))
        if cam is None:
            return
        op = msg["op"]
        if op == "event":
            self._store(msg["event"])
        elif op == "end":
            self.events.end(msg["id"], msg["end"])
            self.clips.ended(cam.job, msg["id"], msg["end"])
            self.alerts.poke()
        elif op == "count":
            self.events.queue_raw(count_message(self.settings, cam.job.name, msg["line"], msg["label"],
                                                msg["direction"], msg["count"]))
            self.alerts.poke()
        elif op == "status":
            if msg["state"] != cam.state:
                self.events.queue_raw(availability_message(self.settings, cam.job.name, msg["state"]))
                self.alerts.poke()
                if msg["state"] == "offline":
                    log.warning("camera %s offline: %s (retry in %g s)", cam.job.name, msg.get("reason"),
                                msg.get("retry_s", 0))
            cam.state = msg["state"]
        elif op == "connection":
            self.clips.connection(cam.job, Path(msg["dir"]) if msg["dir"] else None, msg["base"])
        elif op == "stats":
            cam.frames += msg["frames"]
            cam.cpu_s += msg["cpu_s"]
            cam.detector_runs += msg["detector_runs"]
            cam.detect_s.extend(msg["detect_s"])
            cam.detect_cpu_s.extend(msg["detect_cpu_s"])
        elif op == "done":
            cam.done = True
            cam.state = "done"
            self.clips.finished(cam.job)

    def _store(self, ev: dict[str, Any]) -> None:
        self.events.add(ev)
        self.alerts.poke()

    def _shutdown(self) -> None:
        for cam in self.cameras.values():
            if cam.process is not None and cam.process.is_alive():
                cam.process.terminate()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(c.process is not None and c.process.is_alive()
                                                  for c in self.cameras.values()):
            self._drain(0.1)
        for cam in self.cameras.values():
            if cam.process is not None:
                if cam.process.is_alive():
                    cam.process.kill()
                cam.process.join()
        self._drain(0.0)
        for cam in self.cameras.values():
            self.clips.finished(cam.job)
        self.clips.tick(final=True)
        self.alerts.drain(10.0)
        self.alerts.close()
