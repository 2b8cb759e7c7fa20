"""The ``protect`` capability: the copyright registry, fingerprints, copy matching and certificates."""

from vidlens.capability import Capability

capability = Capability(
    name="protect",
    summary="Copyright registry: fingerprints, copy-segment matching and signed certificates.",
    tables="vidlens.protect.tables",
    migrations="vidlens.protect.migrations",
    steps="vidlens.protect.steps",
    cli="vidlens.cli.protect",
    api=("vidlens.protect.routes",),
    ui="vidlens.protect.pages",
    requires=("core",),
)
