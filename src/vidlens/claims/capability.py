"""The ``claims`` capability: policies per work or digital human, claims made from matches, disputes."""

from vidlens.capability import Capability
from vidlens.claims.settings import ClaimsSettings

capability = Capability(
    name="claims",
    summary="Content ID-style claims: a policy per work or digital human, claims from matches, disputes.",
    settings=ClaimsSettings,
    tables="vidlens.claims.tables",
    migrations="vidlens.claims.migrations",
    cli="vidlens.cli.claims",
    api=("vidlens.claims.routes",),
    ui="vidlens.claims.pages",
    services={"claims": "vidlens.claims.book:ClaimBook.from_context"},
    requires=("core", "govern", "protect", "humans"),
)
