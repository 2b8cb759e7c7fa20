"""The ``watch`` capability: surveillance cameras, their events, alerts and clips (docs/watch.md)."""

from vidlens.capability import Capability
from vidlens.watch.settings import WatchSettings

capability = Capability(
    name="watch",
    summary="Watch cameras: motion-gated detection, tracking, zones, line counts, alerts and event clips.",
    settings=WatchSettings,
    tables="vidlens.watch.tables",
    migrations="vidlens.watch.migrations",
    cli="vidlens.cli.watch",
    api=("vidlens.api.routes.watch",),
    ui="vidlens.watch.pages",
    services={"watch_events": "vidlens.watch.events:WatchEvents.from_context"},
    records={"watch_event": "watch_events"},
    requires=("core", "understand", "humans", "govern", "deliver"),
)
