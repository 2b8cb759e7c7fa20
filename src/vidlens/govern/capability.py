"""The ``govern`` capability: AIGC labels (GB 45438-2025), watermarks, triage and the audit log."""

from vidlens.capability import Capability
from vidlens.govern.settings import GovernSettings

capability = Capability(
    name="govern",
    summary="AIGC labels, watermarks, triage and the hash-chained audit log.",
    settings=GovernSettings,
    tables="vidlens.govern.tables",
    migrations="vidlens.govern.migrations",
    cli="vidlens.cli.govern",
    api=("vidlens.govern.routes",),
    ui="vidlens.govern.pages",
    requires=("core",),
)
