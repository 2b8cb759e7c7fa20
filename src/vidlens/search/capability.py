"""The ``search`` capability (Find): one index of moments, hybrid search, image and face search, similar videos; recommendations."""

from vidlens.capability import Capability
from vidlens.search.settings import SearchSettings

capability = Capability(
    name="search",
    summary="Find moments by words (Chinese and English), meaning, image and face; similar videos; recommendations.",
    settings=SearchSettings,
    tables="vidlens.search.tables",
    migrations="vidlens.search.migrations",
    cli="vidlens.cli.search",
    api=("vidlens.api.routes.search",),
    ui="vidlens.search.pages",
    projections="vidlens.search.projections",
    services={"search": "vidlens.search.service:Search.from_context",
              "recommend": "vidlens.search.recommend:Recommender.from_context"},
    requires=("core", "understand"),
)
