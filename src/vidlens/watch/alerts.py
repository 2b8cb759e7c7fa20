"""Alerts: MQTT messages in Frigate's shape and signed webhooks, delivered from the durable outbox.

Topics (``<prefix>`` is ``mqtt.topic_prefix``, ``vidlens`` by default):

| topic | payload |
|---|---|
| ``<prefix>/events`` | JSON ``{"type": "new" or "end", "after": event}``, the event with ``snapshot_url`` and ``clip_url`` (a ``watchlist`` event also ``match``: source, ref, score and the entry's reason) |
| ``<prefix>/<camera>/<label>/snapshot`` | the new object's snapshot, JPEG with its box drawn (retained) |
| ``<prefix>/<camera>/watchlist/snapshot`` | the snapshot of a face-list match (retained) |
| ``<prefix>/<camera>/<line>/<label>/<direction>`` | the line's running count, e.g. ``7`` (retained) |
| ``<prefix>/<camera>/available`` | ``online`` / ``offline`` (retained) |

A webhook receives ``{"type", "event"}`` as a JSON POST, signed with HMAC-SHA256 of the body under
its ``secret`` in ``X-VidLens-Signature: sha256=<hex>``. Each channel (the broker, each webhook)
has its own sender thread reading the outbox, so a slow receiver never holds up detection or the
other channels; a failed delivery is retried after 1, 2, 4 ... 60 seconds, and a message is
marked delivered only when the broker acknowledged it (QoS 1) or the receiver answered 2xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from vidlens.watch.events import WatchEvents
from vidlens.watch.settings import WatchSettings

log = logging.getLogger(__name__)
MAX_RETRY_S = 60.0


def _link(settings: WatchSettings, ev: dict[str, Any], what: str) -> str:
    return f"{settings.base_url.rstrip('/')}/api/watch/events/{ev['id']}/{what}"


def messages(settings: WatchSettings, kind: str, ev: dict[str, Any]) -> Iterator[tuple[str, str, bytes, bool]]:
    """The outbox rows (channel, topic or URL, payload, retain) for one stored event."""
    public = {k: v for k, v in ev.items() if k not in ("snapshot", "clip", "data")}
    public["snapshot_url"] = _link(settings, ev, "snapshot.jpg") if ev.get("snapshot") else None
    public["clip_url"] = _link(settings, ev, "clip.mp4") if ev["type"] == "object" else None
    public["detected_at"] = ev.get("received")
    if ev["type"] == "watchlist":
        public["match"] = (ev.get("data") or {}).get("match")
    if settings.mqtt is not None:
        prefix = settings.mqtt.topic_prefix
        yield "mqtt", f"{prefix}/events", json.dumps({"type": kind, "after": public}).encode(), False
        snap = ev.get("snapshot")
        if kind == "new" and snap and ev["type"] in ("object", "watchlist"):
            what = ev["label"] if ev["type"] == "object" else "watchlist"  # a person's name is no topic level
            try:
                with open(snap, "rb") as f:
                    yield "mqtt", f"{prefix}/{ev['camera']}/{what}/snapshot", f.read(), True
            except OSError:
                pass
    for i, hook in enumerate(settings.webhooks):
        if hook.types is None or ev["type"] in hook.types:
            yield f"webhook:{i}", hook.url, json.dumps({"type": kind, "event": public}).encode(), False


def count_message(settings: WatchSettings, camera: str, line: str, label: str, direction: str,
                  count: int) -> list[tuple[str, str, bytes, bool]]:
    if settings.mqtt is None:
        return []
    return [("mqtt", f"{settings.mqtt.topic_prefix}/{camera}/{line}/{label}/{direction}", str(count).encode(), True)]


def availability_message(settings: WatchSettings, camera: str, state: str) -> list[tuple[str, str, bytes, bool]]:
    if settings.mqtt is None:
        return []
    return [("mqtt", f"{settings.mqtt.topic_prefix}/{camera}/available", state.encode(), True)]


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Sender(threading.Thread):
    """Delivers one channel's outbox rows in order; waits on ``wake`` between rounds."""

    def __init__(self, store: WatchEvents, channel: str, wake: threading.Event, stop: threading.Event) -> None:
        super().__init__(name=f"watch-{channel}", daemon=True)
        self.store = store
        self.channel = channel
        self.wake = wake
        self.stop_event = stop

    def run(self) -> None:
        while not self.stop_event.is_set():
            sent_all = self.round()
            if sent_all:
                self.wake.wait(0.5)
                self.wake.clear()
            else:
                time.sleep(0.2)

    def round(self) -> bool:
        """Try every due message once, in order, stopping at the first failure; True when none is left."""
        try:
            due = self.store.pending(self.channel)
        except Exception as exc:  # a locked database: try again in a moment
            log.warning("watch alerts: cannot read the outbox: %s", exc)
            return False
        for msg in due:
            if self.stop_event.is_set():
                return False
            try:
                self.deliver(msg)
            except Exception as exc:  # noqa: BLE001 - any failure of the broker or receiver means: retry later
                attempts = msg["attempts"] + 1
                retry = min(MAX_RETRY_S, 2.0 ** (attempts - 1))
                self.store.failed(msg["id"], attempts, f"{type(exc).__name__}: {exc}", retry)
                if attempts in (1, 5) or attempts % 20 == 0:
                    log.warning("watch alerts: %s delivery failed (%s), retrying in %.0f s", self.channel, exc, retry)
                return False
            self.store.delivered(msg["id"])
        return len(due) == 0

    def deliver(self, msg: dict[str, Any]) -> None:
        raise NotImplementedError


class MqttSender(Sender):
    def __init__(self, store: WatchEvents, settings: WatchSettings, wake: threading.Event,
                 stop: threading.Event) -> None:
        super().__init__(store, "mqtt", wake, stop)
        import paho.mqtt.client as mqtt

        cfg = settings.mqtt
        assert cfg is not None
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id)
        if cfg.username:
            self.client.username_pw_set(cfg.username, cfg.password)
        self.client.will_set(f"{cfg.topic_prefix}/available", b"offline", qos=1, retain=True)
        self.client.reconnect_delay_set(1, 30)
        self.client.connect_async(cfg.host, cfg.port, keepalive=30)
        self.client.loop_start()

    def deliver(self, msg: dict[str, Any]) -> None:
        deadline = time.monotonic() + 2.0  # the client (re)connects on its own thread: give it a moment
        while not self.client.is_connected() and time.monotonic() < deadline and not self.stop_event.is_set():
            time.sleep(0.05)
        if not self.client.is_connected():
            raise ConnectionError("not connected to the MQTT broker")
        info = self.client.publish(msg["topic"], msg["payload"], qos=1, retain=bool(msg["retain"]))
        info.wait_for_publish(timeout=5.0)
        if not info.is_published():
            raise TimeoutError("the broker did not acknowledge the message")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class WebhookSender(Sender):
    def __init__(self, store: WatchEvents, index: int, secret: str | None, wake: threading.Event,
                 stop: threading.Event) -> None:
        super().__init__(store, f"webhook:{index}", wake, stop)
        self.secret = secret

    def deliver(self, msg: dict[str, Any]) -> None:
        body = bytes(msg["payload"])
        headers = {"Content-Type": "application/json", "User-Agent": "vidlens-watch"}
        if self.secret:
            headers["X-VidLens-Signature"] = signature(self.secret, body)
        req = urllib.request.Request(msg["topic"], data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the configured http(s) URL
            if not 200 <= resp.status < 300:
                raise urllib.error.HTTPError(msg["topic"], resp.status, "not 2xx", resp.headers, None)


class Alerts:
    """The sender threads of every configured channel."""

    def __init__(self, store: WatchEvents, settings: WatchSettings) -> None:
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self.senders: list[Sender] = []
        if settings.mqtt is not None:
            self.senders.append(MqttSender(store, settings, threading.Event(), self.stop_event))
        for i, hook in enumerate(settings.webhooks):
            self.senders.append(WebhookSender(store, i, hook.secret, threading.Event(), self.stop_event))

    def start(self) -> None:
        if self.senders:
            self.senders[0].store.retry_now()
        for s in self.senders:
            s.start()

    def poke(self) -> None:
        """New messages are in the outbox."""
        for s in self.senders:
            s.wake.set()

    def drain(self, timeout_s: float) -> None:
        """Give the senders up to ``timeout_s`` to deliver what is queued (at shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(s.store.undelivered(s.channel) for s in self.senders):
            self.poke()
            time.sleep(0.1)

    def close(self) -> None:
        self.stop_event.set()
        self.poke()
        for s in self.senders:
            s.join(timeout=6)
            if isinstance(s, MqttSender):
                s.close()
