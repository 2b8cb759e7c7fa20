"""The stored events of Watch, and the alerts written with them.

``WatchEvents`` is the one writer and reader of ``watch_events``. Storing an event and queueing
its alerts (``vidlens.watch.alerts.messages``) is one transaction, so an event is never stored
without its alerts nor alerted without being stored; ``audit``, when set, writes its entry in that
transaction too (a watch-list sighting). ``public`` is the event's stable JSON form
(``vidlens watch events --json``, the API, alert payloads). Every write also keeps the projections of
events that other capabilities declare (``Projection(source="watch_event")``: Find's moments) in
step, in the same transaction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vidlens.capability import Projection
from vidlens.errors import NotFoundError, UsageError
from vidlens.store.db import Store
from vidlens.watch.tables import events, outbox

TYPES = ("object", "zone_enter", "zone_exit", "loiter", "line_cross", "watchlist", "camera_offline", "live_match")
REVIEWS = ("acknowledged", "false_positive")
FIELDS = ("id", "camera", "type", "label", "track_id", "start", "end", "zone", "line", "direction", "snapshot", "clip")

Alerts = Callable[[str, dict[str, Any]], Iterable[tuple[str, str, bytes, bool]]]  # (kind, event) -> messages
Audit = Callable[[sa.Connection, dict[str, Any]], None]  # (write connection, stored event)
# the files of a camera's LL-HLS restream (vidlens.deliver.live): playlists, init segments, media segments
LIVE_FILE = re.compile(r"^(master\.m3u8|hls\.min\.js|[0-9]{3,4}p/(index\.m3u8|init\.mp4|seg_[0-9]{6}\.m4s))$")


def watch_root(data_dir: Path) -> Path:
    """Where Watch keeps recordings, clips and snapshots: one folder per camera."""
    return data_dir / "watch"


def links(ev: dict[str, Any]) -> dict[str, str | None]:
    """The URLs of an event's snapshot and clip, where it has them."""
    base = f"/api/watch/events/{ev['id']}"
    return {"snapshot": f"{base}/snapshot.jpg" if ev.get("snapshot") else None,
            "clip": f"{base}/clip.mp4" if ev.get("clip") else None}


class WatchEvents:
    def __init__(self, store: Store, root: Path, alerts: Alerts | None = None, audit: Audit | None = None,
                 projections: Sequence[Projection] = ()) -> None:
        self.store = store
        self.root = root
        self.alerts = alerts
        self.audit = audit
        self.projections = list(projections)

    @classmethod
    def from_context(cls, ctx: Any) -> WatchEvents:  # noqa: ANN401 - vidlens.services.ServiceContext
        return cls(ctx.store, watch_root(ctx.data_dir), projections=ctx.store.capabilities.projections("watch_event"))

    def add(self, ev: dict[str, Any]) -> None:
        row = {"id": ev["id"], "camera": ev["camera"], "type": ev["type"], "label": ev.get("label"),
               "track_id": ev.get("track_id"), "start_s": ev["start"], "end_s": ev.get("end"),
               "zone": ev.get("zone"), "line": ev.get("line"), "direction": ev.get("direction"),
               "score": ev.get("score"), "box": ev.get("box"), "snapshot": ev.get("snapshot") or None,
               "clip": None, "review": None, "data": ev.get("data") or {}, "created_at": time.time()}
        with self.store.tx() as conn:
            conn.execute(events.insert().values(**row))
            self._queue(conn, "new", row, ev.get("received"))
            if self.audit is not None:
                self.audit(conn, self.public(row, full=True))
            self._project(conn, row["id"])

    def end(self, event_id: str, end: float) -> None:
        with self.store.tx() as conn:
            row = conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()
            if row is None or row["end_s"] is not None:
                return
            conn.execute(events.update().where(events.c.id == event_id).values(end_s=max(end, row["start_s"])))
            self._queue(conn, "end", {**row, "end_s": max(end, row["start_s"])}, None)
            self._project(conn, event_id)

    def set_clip(self, event_id: str, clip: str | None) -> None:
        with self.store.tx() as conn:
            conn.execute(events.update().where(events.c.id == event_id).values(clip=clip))
            self._project(conn, event_id)

    def review(self, event_id: str, verdict: str | None) -> dict[str, Any]:
        if verdict is not None and verdict not in REVIEWS:
            raise UsageError(f"review must be one of {', '.join(REVIEWS)} (or none to clear it)")
        with self.store.tx() as conn:
            done = conn.execute(events.update().where(events.c.id == event_id).values(review=verdict)).rowcount
            self._project(conn, event_id)
        if not done:
            raise NotFoundError(f"no watch event {event_id}")
        return self.get(event_id)

    def get(self, event_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no watch event {event_id}")
        return self.public(row, full=True)

    def list(self, *, camera: str | None = None, type_: str | None = None, label: str | None = None,
             review: str | None = None, limit: int = 1000, offset: int = 0, newest_first: bool = False,
             full: bool = False) -> list[dict[str, Any]]:
        order = (events.c.created_at, events.c.start_s, events.c.id)
        q = sa.select(events).order_by(*(c.desc() for c in order) if newest_first else order)
        for col, value in ((events.c.camera, camera), (events.c.type, type_), (events.c.label, label),
                           (events.c.review, review)):
            if value is not None:
                q = q.where(col == value)
        with self.store.read() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).mappings().all()
        return [self.public(r, full) for r in rows]

    def cameras(self) -> list[str]:
        with self.store.read() as conn:
            return [r[0] for r in conn.execute(sa.select(events.c.camera).distinct().order_by(events.c.camera))]

    def latest(self, camera: str) -> Path | None:
        """The camera's latest picture (written about once a second while it is watched)."""
        path = self.root / camera / "latest.jpg"
        return path if "/" not in camera and not camera.startswith(".") and path.is_file() else None

    def live_file(self, camera: str, name: str) -> Path | None:
        """A file of the camera's live restream (``master.m3u8``, a rung's playlist or segment), if it is there."""
        if "/" in camera or camera.startswith(".") or not LIVE_FILE.match(name):
            return None
        path = self.root / camera / "live" / name
        return path if path.is_file() else None

    def file(self, camera: str, kind: str, name: str | None) -> Path | None:
        """The snapshot or clip file ``name`` of ``camera``, if it is (still) there."""
        if not name or "/" in name or name.startswith("."):
            return None
        path = self.root / camera / kind / name
        return path if path.is_file() else None

    def public(self, row: Any, full: bool = False) -> dict[str, Any]:  # noqa: ANN401 - a row mapping
        snap = self.file(row["camera"], "snapshots", row["snapshot"])
        clip = self.file(row["camera"], "clips", row["clip"])
        out = {"id": row["id"], "camera": row["camera"], "type": row["type"], "label": row["label"],
               "track_id": row["track_id"], "start": row["start_s"], "end": row["end_s"], "zone": row["zone"],
               "line": row["line"], "direction": row["direction"], "snapshot": str(snap) if snap else None,
               "clip": str(clip) if clip else None}
        if full:
            out.update(score=row["score"], box=row["box"], review=row["review"], data=row["data"],
                       created_at=row["created_at"])
        return out

    def pending(self, channel_prefix: str, limit: int = 50) -> list[dict[str, Any]]:
        """Undelivered alerts of a channel (``mqtt``, ``webhook:0`` ...) that are due now, oldest first."""
        now = time.time()
        q = (sa.select(outbox).where(outbox.c.delivered_at.is_(None), outbox.c.next_at <= now,
                                     outbox.c.channel == channel_prefix)
             .order_by(outbox.c.id).limit(limit))
        with self.store.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def delivered(self, message_id: int) -> None:
        with self.store.tx() as conn:
            conn.execute(outbox.update().where(outbox.c.id == message_id).values(delivered_at=time.time()))

    def failed(self, message_id: int, attempts: int, error: str, retry_in: float) -> None:
        with self.store.tx() as conn:
            conn.execute(outbox.update().where(outbox.c.id == message_id).values(
                attempts=attempts, last_error=error[:500], next_at=time.time() + retry_in))

    def undelivered(self, channel: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
        if channel is not None:
            q = q.where(outbox.c.channel == channel)
        with self.store.read() as conn:
            return int(conn.execute(q).scalar_one())

    def retry_now(self) -> None:
        """Make every undelivered alert due now (a new run tries at once what an earlier one could not send)."""
        with self.store.tx() as conn:
            conn.execute(outbox.update().where(outbox.c.delivered_at.is_(None)).values(next_at=time.time(),
                                                                                        attempts=0))

    def queue_raw(self, messages: Iterable[tuple[str, str, bytes, bool]]) -> None:
        """Alerts that belong to no stored event (line counts, camera availability)."""
        with self.store.tx() as conn:
            self._insert(conn, messages)

    def reproject(self, names: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None,
                  chunk: int = 500) -> int:
        """Write the projections (all, or those ``names``) of every stored event again, oldest first, ``chunk``
        events a transaction: events stored before a projection existed get their rows (``vidlens reindex``).
        Returns how many events."""
        chosen = [p for p in self.projections if names is None or p.name in names]
        if not chosen:
            return 0
        with self.store.read() as conn:
            ids = list(conn.execute(sa.select(events.c.id).order_by(events.c.created_at, events.c.id)).scalars())
        for i in range(0, len(ids), chunk):
            with self.store.tx() as conn:
                for event_id in ids[i:i + chunk]:
                    self._project(conn, event_id, chosen)
            if progress is not None:
                progress(min(i + chunk, len(ids)), len(ids))
        return len(ids)

    def _project(self, conn: sa.Connection, event_id: str, projections: Sequence[Projection] | None = None) -> None:
        """Write the event's projections again from its stored row (with URLs for its snapshot and clip)."""
        projections = self.projections if projections is None else projections
        if not projections:
            return
        row = conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()
        record = None
        if row is not None:
            public = self.public(row, full=True)
            record = {**public, **links(public)}
        for p in projections:
            p.clear(conn, event_id)
            if record is not None:
                p.apply(conn, event_id, record)

    def _queue(self, conn: sa.Connection, kind: str, row: Any, received: float | None) -> None:  # noqa: ANN401
        if self.alerts is None:
            return
        ev = self.public(row, full=True)
        ev["received"] = received
        self._insert(conn, self.alerts(kind, ev))

    @staticmethod
    def _insert(conn: sa.Connection, messages: Iterable[tuple[str, str, bytes, bool]]) -> None:
        now = time.time()
        rows = [{"channel": ch, "topic": topic, "payload": payload, "retain": retain, "attempts": 0,
                 "next_at": now, "delivered_at": None, "last_error": None, "created_at": now}
                for ch, topic, payload, retain in messages]
        if rows:
            conn.execute(outbox.insert(), rows)
