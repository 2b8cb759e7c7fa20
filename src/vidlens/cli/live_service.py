"""``vidlens humans live`` as a service: ``LiveMatcher`` on one stream, each match stored as a Watch event
whose alerts leave through Watch's durable outbox (MQTT, webhooks), until the stream ends or SIGINT/SIGTERM.

The matcher reads the stream on its own thread; this thread stores each match (``WatchEvents.add``: the
event and its alerts in one transaction), wakes the alert senders and hands the match to the caller. A
stream that cannot be opened, stalls or ends is connected again after Watch's cameras' backoff
(``vidlens.media.backoff``: 1, 2, 4 ... 30 s, back to 1 s once it delivered), one log line per retry; a
work or human already alerted is not alerted again after a reconnect. On a signal the reader is told to
stop, what is queued is delivered (up to ``DRAIN_S``), and the run ends without an error.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.errors import MediaError, UsageError
from vidlens.humans.live import LiveAlert, LiveMatcher
from vidlens.media.backoff import Backoff
from vidlens.media.source import Source

if TYPE_CHECKING:
    from vidlens.platform import Platform

DRAIN_S = 10.0
STOP_WAIT_S = 5.0
EVENT_TYPE = "live_match"

log = logging.getLogger(__name__)


class LiveService:
    def __init__(self, platform: Platform, *, alerts_file: Path | None, stream_name: str) -> None:
        from vidlens.protect.matcher import Matcher
        from vidlens.protect.registry import Registry
        from vidlens.watch.alerts import Alerts, messages
        from vidlens.watch.settings import load_yaml

        settings = load_yaml(alerts_file) if alerts_file is not None else platform.settings.watch
        if settings.mqtt is not None and settings.mqtt.client_id == "vidlens-watch":  # beside `vidlens watch run`
            settings = settings.model_copy(update={"mqtt": settings.mqtt.model_copy(
                update={"client_id": f"vidlens-live-{stream_name}"})})
        if not stream_name or "/" in stream_name or stream_name.startswith(".") or len(stream_name) > 64:
            raise UsageError(f"--name {stream_name!r}: use up to 64 letters, digits, '-' or '_'")
        self.platform, self.stream_name = platform, stream_name
        self.events = platform.service("watch_events")
        self.events.alerts = partial(messages, settings)
        self.alerts = Alerts(self.events, settings)
        self.works = Registry(platform)
        self.humans = platform.service("humans")
        works = Matcher(self.works) if self.works.list() else None
        faces = self.humans.face_matcher() if len(self.humans.index("face")) else None
        voices = self.humans.index("voice") if len(self.humans.index("voice")) else None
        if works is None and faces is None and voices is None:
            raise UsageError("nothing to match: register a work (vidlens register) or a digital human "
                             "(vidlens humans register) first")
        if works is not None:
            works.indexes["visual"].get()  # built now, not while the stream plays
        self.found: queue.Queue[LiveAlert] = queue.Queue()
        self.matcher = LiveMatcher(self.found.put, works=works, faces=faces, voices=voices,
                                   embedders=self.humans.embedders)
        self._closed = False

    def run(self, url: str, *, listen: bool = False, open_timeout_s: float = 60.0, rtsp_transport: str = "tcp",
            backoff: Backoff | None = None) -> Iterator[dict[str, Any]]:
        """Each match as it is found (already stored and queued for delivery), until a signal; a stream that
        fails or ends is connected again after ``backoff`` (default: Watch's, 1 s doubling to 30 s)."""
        stop = threading.Event()
        failed: list[BaseException] = []
        where = Source(url, live=True).name
        options = {"listen": "1"} if listen else {}
        if url.lower().startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = rtsp_transport
        retry = backoff or Backoff()

        def read() -> None:
            started = time.monotonic()
            try:
                while not stop.is_set():
                    base = time.monotonic() - started  # a later connection's times go on from the time that passed
                    ended = self._connect(url, options, stop, open_timeout_s, base)
                    if ended is None:
                        return
                    delivered, reason = ended
                    if delivered:
                        retry.delivered()
                    log.warning("live %s: %s; connecting again in %g s (retry %d)", where, reason, retry.next_s,
                                retry.tries + 1)
                    if not retry.wait(stop.is_set):
                        return
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
                failed.append(exc)

        old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
        reader = threading.Thread(target=read, name="vidlens-live", daemon=True)
        self.alerts.start()
        reader.start()
        try:
            while True:
                try:
                    alert = self.found.get(timeout=0.2)
                except queue.Empty:
                    if stop.is_set() or not reader.is_alive():
                        break
                    continue
                yield self._store(alert, where)
            while not self.found.empty():
                yield self._store(self.found.get_nowait(), where)
        finally:
            stop.set()
            reader.join(STOP_WAIT_S)  # a reader still waiting for a publisher is a daemon: it ends with us
            for s, h in old.items():
                signal.signal(s, h)
        if failed:
            raise failed[0]

    def _connect(self, url: str, options: dict[str, str], stop: threading.Event, open_timeout_s: float,
                 base: float) -> tuple[bool, str] | None:
        """One connection, until the stream fails or ends: ``(whether it gave a picture, why it ended)``;
        None when ``stop`` ended it."""
        import av

        try:
            reason = self.matcher.run(url, options=options, stop=stop, open_timeout_s=open_timeout_s, base_t=base)
            delivered = True
        except MediaError as exc:  # it could not be opened, or gave no picture (SourceError is one)
            delivered, reason = False, exc.message
        except av.error.FFmpegError as exc:
            delivered, reason = False, f"cannot read the live stream: {exc.strerror or exc}"
        return None if stop.is_set() else (delivered, reason or "the stream ended")

    def _store(self, alert: LiveAlert, where: str) -> dict[str, Any]:
        name = (self.works.get(alert.ref).title if alert.kind == "work" else self.humans.get(alert.ref).name)
        event_id = uuid.uuid4().hex
        match = {"event": event_id, "stream": self.stream_name, "name": name, **alert.to_dict()}
        self.events.add({"id": event_id, "camera": self.stream_name, "type": EVENT_TYPE, "label": name,
                         "track_id": None, "start": alert.stream_t, "end": None, "score": alert.score,
                         "received": time.time(), "data": {**alert.to_dict(), "source": where}})
        self.alerts.poke()
        return match

    def close(self) -> None:
        """Deliver what is queued (up to ``DRAIN_S``), stop the senders, close the platform."""
        if self._closed:
            return
        self._closed = True
        try:
            self.alerts.drain(DRAIN_S)
            self.alerts.close()
        finally:
            self.platform.close()
