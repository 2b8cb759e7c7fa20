"""Runs every camera in its own process and keeps them running; stores what they report.

The supervisor is the only process that writes to the database: cameras send their events on a
queue, and it stores each one with its alerts (``WatchEvents.add``), wakes the alert senders, and
cuts each object event's clip once the recording covers its post-roll. A camera process that dies
(a decoder crash, a kill) is recorded as a ``camera_offline`` event and restarted after
``restart_backoff_s``, doubling to a minute while it keeps dying; the other cameras go on.
``Retention`` deletes old recordings, clips and snapshots by age and by the disk quota.

Cameras with ``watchlist: true`` are given the face watch-list's faces; the supervisor looks at the
list every ``WATCHLIST_POLL_S`` and sends a changed list to those cameras, and it drops a sighting
of an entry removed meanwhile, so a face taken off the list is not alerted on. Cameras with
``live`` enabled are restreamed as low-latency HLS into ``<camera>/live/`` by Deliver's live
transcoder (``vidlens.deliver.live.StreamSupervisor``), from a second connection to the camera.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue as queue_mod
import shutil
import signal
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vidlens.watch.alerts import Alerts, availability_message, count_message
from vidlens.watch.camera import CameraJob, run_camera
from vidlens.watch.clips import ClipCutter, Retention
from vidlens.watch.events import WatchEvents
from vidlens.watch.faces import WATCHLIST, KnownFaces
from vidlens.watch.settings import CameraConfig, WatchSettings

log = logging.getLogger(__name__)
MAX_RESTART_S = 60.0
WATCHLIST_POLL_S = 5.0


@dataclass
class _Camera:
    job: CameraJob
    inbox: Any = None  # multiprocessing.Queue: face lists that changed
    process: Any = None  # multiprocessing.Process
    done: bool = False  # its file ended (until_eof): not restarted
    restarts: int = 0
    restart_at: float = 0.0
    state: str = "starting"
    detect_s: list[float] = field(default_factory=list)
    detect_cpu_s: list[float] = field(default_factory=list)
    frames: int = 0
    cpu_s: float = 0.0  # CPU of its watching thread while frames flowed (start-up and waits excluded)
    flow_s: float = 0.0  # wall time while frames flowed: a camera that keeps real time samples fps x this
    detector_runs: int = 0
    busy: int = 0  # frames of a busy view (whole frame or tiles instead of regions) ...
    tiled: int = 0  # ... of which on tiles
    coasted: int = 0  # frames with motion that the tracker carried without the detector
    tracked: int = 0  # object tracks seen, summed over sampled frames


class Supervisor:
    def __init__(self, settings: WatchSettings, events: WatchEvents, root: Path, *, until_eof: bool = False,
                 fast: bool = False, face_matchers: tuple[Any, ...] = (), watchlist: Any = None) -> None:
        """``face_matchers`` go to every camera; ``watchlist`` (``vidlens.govern.watchlist.WatchList``) is
        followed for the cameras that opted in."""
        self.settings = settings
        self.events = events
        self.root = root
        self.ctx = mp.get_context("spawn")  # no inherited threads or connections in a camera process
        self.queue = self.ctx.Queue()
        self.watchlist = watchlist if any(c.watchlist and c.enabled for c in settings.cameras.values()) else None
        self._listed: KnownFaces | None = None
        self._listed_version: str | None = None
        self._listed_ids: set[str] = set()
        if self.watchlist is not None:
            self._load_watchlist()
        self.cameras = {name: _Camera(CameraJob(name, cfg, root / name, until_eof=until_eof, fast=fast,
                                                face_matchers=face_matchers + self._faces_for(cfg)),
                                      inbox=self.ctx.Queue() if cfg.watchlist and self.watchlist else None)
                        for name, cfg in settings.cameras.items() if cfg.enabled}
        self.restreams = {name: _restream(name, cfg, root / name / "live")
                          for name, cfg in settings.cameras.items() if cfg.enabled and cfg.live.enabled}
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
        for restream in self.restreams.values():
            shutil.rmtree(restream.outdir, ignore_errors=True)  # a new run is a new live stream
            restream.start()
        deadline = None if duration_s is None else time.monotonic() + duration_s
        last_sweep = last_poll = time.monotonic()
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
                if self.watchlist is not None and time.monotonic() - last_poll > WATCHLIST_POLL_S:
                    last_poll = time.monotonic()
                    self._follow_watchlist()
        finally:
            self._shutdown()
            for s, h in old.items():
                signal.signal(s, h)
        return self.summary()

    def stop(self) -> None:
        self._stop = True

    def summary(self) -> dict[str, Any]:
        return {name: {"state": c.state, "restarts": c.restarts, "frames": c.frames, "cpu_s": c.cpu_s,
                       "flow_s": c.flow_s,
                       "detector_runs": c.detector_runs, "busy": c.busy, "tiled": c.tiled,
                       "coasted": c.coasted, "tracked": c.tracked, "detect_s": c.detect_s,
                       "detect_cpu_s": c.detect_cpu_s,
                       "live": self.restreams[name].status().to_dict() if name in self.restreams else None}
                for name, c in self.cameras.items()}

    def _start(self, cam: _Camera) -> None:
        cam.process = self.ctx.Process(target=run_camera, args=(cam.job, self.queue, cam.inbox),
                                       name=f"watch-{cam.job.name}", daemon=True)
        cam.process.start()

    # -- the watch-list -------------------------------------------------------------------------
    def _faces_for(self, cfg: CameraConfig) -> tuple[Any, ...]:
        return (self._listed,) if cfg.watchlist and self._listed is not None else ()

    def _load_watchlist(self) -> None:
        self._listed_version = self.watchlist.version()
        self._listed = KnownFaces.from_watchlist(self.watchlist)
        self._listed_ids = set(self._listed.names) if self._listed is not None else set()

    def _follow_watchlist(self) -> None:
        """Send a changed watch-list to the cameras that watch for it (a restarted one starts with it)."""
        try:
            if self.watchlist.version() == self._listed_version:
                return
            self._load_watchlist()
        except Exception as exc:  # noqa: BLE001 - a locked database or a face file gone: try again later
            log.warning("the face watch-list could not be read again: %s", exc)
            return
        for cam in self.cameras.values():
            if cam.inbox is None:
                continue
            others = tuple(m for m in cam.job.face_matchers if getattr(m, "source", None) != WATCHLIST)
            cam.job = replace(cam.job, face_matchers=others + self._faces_for(cam.job.cfg))
            cam.inbox.put({"source": WATCHLIST, "faces": self._listed})

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
        elif op == "recording":  # its recording could not be written (a full disk), or writes again
            if msg["reason"] is not None:
                log.warning("camera %s: recording stopped, detection goes on: %s (retrying)", cam.job.name,
                            msg["reason"])
            else:
                log.warning("camera %s: recording resumed", cam.job.name)
        elif op == "connection":
            self.clips.connection(cam.job, Path(msg["dir"]) if msg["dir"] else None, msg["base"])
        elif op == "stats":
            cam.frames += msg["frames"]
            cam.cpu_s += msg["cpu_s"]
            cam.flow_s += msg["flow_s"]
            cam.detector_runs += msg["detector_runs"]
            cam.busy += msg["busy"]
            cam.tiled += msg["tiled"]
            cam.coasted += msg["coasted"]
            cam.tracked += msg["tracked"]
            cam.detect_s.extend(msg["detect_s"])
            cam.detect_cpu_s.extend(msg["detect_cpu_s"])
        elif op == "done":
            cam.done = True
            cam.state = "done"
            self.clips.finished(cam.job)

    def _store(self, ev: dict[str, Any]) -> None:
        match = (ev.get("data") or {}).get("match") or {}
        if match.get("source") == WATCHLIST and match.get("ref") not in self._listed_ids:
            log.info("camera %s: a sighting of watch-list entry %s, removed meanwhile, is dropped", ev["camera"],
                     match.get("ref"))
            return
        self.events.add(ev)
        self.alerts.poke()

    def _shutdown(self) -> None:
        for restream in self.restreams.values():
            restream.stop()
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


def _restream(name: str, cfg: CameraConfig, outdir: Path) -> Any:  # noqa: ANN401 - a StreamSupervisor
    """Deliver's live transcoder pulling the camera (``cfg.live``): LL-HLS into ``outdir``."""
    from vidlens.deliver.live import LiveOptions, StreamSupervisor

    opts = LiveOptions(name=name, protocol="rtsp", url=cfg.source, rtsp_transport=cfg.rtsp_transport,
                       max_height=cfg.live.max_height, rungs=cfg.live.rungs, fps=cfg.live.fps, speed=cfg.live.speed)
    return StreamSupervisor(opts, outdir)
