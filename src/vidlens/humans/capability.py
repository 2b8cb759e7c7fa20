"""The ``humans`` capability: digital humans (likeness, voice, consent) registered, signed and found in media."""

from vidlens.capability import Capability
from vidlens.humans.settings import HumansSettings

capability = Capability(
    name="humans",
    summary="Digital humans: likeness and voice registry with consent records, found in media.",
    settings=HumansSettings,
    tables="vidlens.humans.tables",
    migrations="vidlens.humans.migrations",
    cli="vidlens.cli.humans",
    api=("vidlens.api.routes.humans",),
    ui="vidlens.humans.pages",
    services={"humans": "vidlens.humans.registry:HumanRegistry.from_context"},
    requires=("core", "protect"),
)
