"""Event clips cut from the rolling recording, and retention of everything Watch writes.

Each camera connection records into its own folder of MPEG-TS segments (``vidlens.watch.ingest``).
When an object event ends, its clip is due once the finished segments reach ``end + post_s`` (or
the camera stopped): the segments that overlap ``[start - pre_s, end + post_s]`` are joined by
stream copy, never re-encoded, into ``clips/<event id>.mp4``, written under a temporary name and
renamed, so a listed clip is always whole. Cutting runs on its own thread.

``Retention.sweep`` deletes recording segments once no clip can need them, clips and snapshots
older than the camera's ``retain_days``, and then the oldest files until the whole folder fits
``quota_gb``.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from vidlens.watch import ingest
from vidlens.watch.camera import CameraJob
from vidlens.watch.events import WatchEvents
from vidlens.watch.settings import WatchSettings

log = logging.getLogger(__name__)
SEGMENT_KEEP_S = 300.0  # recording segments older than this (by file time) can no longer be needed by a clip


@dataclass
class _Pending:
    job: CameraJob
    event_id: str
    start: float
    end: float
    queued: float = field(default_factory=time.monotonic)


class ClipCutter:
    def __init__(self, events: WatchEvents, root: Path) -> None:
        self.events = events
        self.root = root
        self.pending: list[_Pending] = []
        self.connections: dict[str, list[tuple[Path, float]]] = {}
        self.stopped: set[str] = set()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="watch-clips")

    def connection(self, job: CameraJob, rec_dir: Path | None, base: float) -> None:
        if rec_dir is not None:
            self.connections.setdefault(job.name, []).append((rec_dir, base))

    def ended(self, job: CameraJob, event_id: str, end: float) -> None:
        if not job.cfg.record.enabled:
            return
        try:
            ev = self.events.get(event_id)
        except Exception:  # noqa: BLE001 - an unknown id: nothing to cut
            return
        if ev["type"] == "object":
            rec = job.cfg.record
            self.pending.append(_Pending(job, event_id, max(0.0, ev["start"] - rec.pre_s), end + rec.post_s))

    def finished(self, job: CameraJob) -> None:
        self.stopped.add(job.name)

    def tick(self, final: bool = False) -> None:
        """Cut every clip whose footage is complete (all of them when ``final``)."""
        keep = []
        for p in self.pending:
            parts = self._parts(p.job.name)
            recorded_to = max((e for _, s, e in parts), default=-1.0)
            if final or p.job.name in self.stopped or recorded_to >= p.end:
                job = self.pool.submit(self._cut, p, parts)
                if final:
                    job.result()
            else:
                keep.append(p)
        self.pending = keep
        if final:
            self.pool.shutdown(wait=True)

    def _parts(self, camera: str) -> list[tuple[Path, float, float]]:
        out = []
        for rec_dir, base in self.connections.get(camera, []):
            out.extend((f, base + s, base + e) for f, s, e in ingest.segments(rec_dir) if f.exists())
        return out

    def _cut(self, p: _Pending, parts: list[tuple[Path, float, float]]) -> None:
        use = [(f, s, e) for f, s, e in parts if e > p.start and s < p.end]
        if not use:
            log.info("clip of event %s: no recording covers %.1f-%.1f s", p.event_id, p.start, p.end)
            return
        # one connection only: segments of two connections do not join into one timeline
        same = [u for u in use if u[0].parent == use[-1][0].parent]
        base = next(b for d, b in self.connections[p.job.name] if d == same[0][0].parent)
        same = [(f, s - base, e - base) for f, s, e in same]  # back to the connection's own stream time
        dest = self.root / p.job.name / "clips" / f"{p.event_id}.mp4"
        try:
            ingest.cut_clip([(f, s) for f, s, _ in same], p.start - base, p.end - base, dest)
        except (ingest.IngestError, OSError) as exc:
            log.warning("clip of event %s not cut: %s", p.event_id, exc)
            return
        self.events.set_clip(p.event_id, dest.name)


class Retention:
    def __init__(self, settings: WatchSettings, events: WatchEvents, root: Path) -> None:
        self.settings = settings
        self.events = events
        self.root = root

    def sweep(self, now: float | None = None) -> int:
        """Delete what is past its time or over the quota; returns the number of files deleted."""
        now = time.time() if now is None else now
        deleted = 0
        for cam_dir in (d for d in self.root.iterdir() if d.is_dir()) if self.root.exists() else []:
            cfg = self.settings.cameras.get(cam_dir.name)
            retain_s = (cfg.record.retain_days if cfg else 7.0) * 86400
            for f in (cam_dir / "recordings").glob("*/seg*.ts"):
                deleted += _unlink_if(f, now - f.stat().st_mtime > SEGMENT_KEEP_S)
            for kind in ("clips", "snapshots"):
                for f in (cam_dir / kind).glob("*"):
                    deleted += _unlink_if(f, now - f.stat().st_mtime > retain_s)
            for d in (cam_dir / "recordings").glob("*"):
                if d.is_dir() and not any(d.glob("seg*.ts")) and now - d.stat().st_mtime > SEGMENT_KEEP_S:
                    for f in d.iterdir():
                        f.unlink(missing_ok=True)
                    d.rmdir()
        files = sorted((f for f in self.root.rglob("*") if f.is_file()), key=lambda f: f.stat().st_mtime) \
            if self.root.exists() else []
        total = sum(f.stat().st_size for f in files)
        quota = self.settings.quota_gb * 1e9
        for f in files:  # oldest first: recordings, then clips and snapshots, by age alone
            if total <= quota:
                break
            if f.suffix in (".ts", ".mp4", ".jpg"):
                total -= f.stat().st_size
                deleted += _unlink_if(f, True)
        return deleted


def _unlink_if(f: Path, cond: bool) -> int:
    if not cond:
        return 0
    try:
        f.unlink()
        return 1
    except OSError:
        return 0
