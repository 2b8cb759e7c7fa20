"""The ``serve`` capability: the HTTP API and web UI (accounts, uploads, search, review queue).

Other capabilities add their own routers and pages; ``vidlens.api.app.create_app`` mounts them all.
"""

from vidlens.api.settings import ServeSettings
from vidlens.capability import Capability

capability = Capability(
    name="serve",
    summary="HTTP API and web UI (`vidlens serve`).",
    settings=ServeSettings,
    tables="vidlens.api.tables",
    migrations="vidlens.api.migrations",
    cli="vidlens.cli.serve",
    api=("vidlens.api.routes.uploads", "vidlens.api.routes.search", "vidlens.api.routes.review",
         "vidlens.api.routes.admin"),
    ui="vidlens.ui.pages",
    projections="vidlens.api.search",
    services={
        "search": "vidlens.api.search:SearchIndex.from_context",
        "review": "vidlens.api.review:ReviewQueue.from_context",
        "uploads": "vidlens.api.uploads:UploadStore.from_context",
    },
    requires=("core", "understand", "deliver"),  # the video page shows people by name and plays proxies
)
