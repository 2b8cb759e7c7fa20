"""The ``govern`` capability: AIGC labels (GB 45438-2025), watermarks, triage, the face watch-list and the audit log."""

from vidlens.capability import Capability
from vidlens.govern.settings import GovernSettings

capability = Capability(
    name="govern",
    summary="AIGC labels, watermarks, triage, the face watch-list and the hash-chained audit log.",
    settings=GovernSettings,
    tables="vidlens.govern.tables",
    migrations="vidlens.govern.migrations",
    cli="vidlens.cli.govern",
    api=("vidlens.govern.routes", "vidlens.govern.watchlist_routes"),
    ui="vidlens.govern.pages",
    services={"watchlist": "vidlens.govern.watchlist:WatchList.from_context"},
    requires=("core", "humans"),
)
