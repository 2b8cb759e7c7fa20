"""The ``core`` capability: the catalogue of videos, the job queue and analysis results.

Its settings are the top-level fields of ``vidlens.settings.Settings`` (data_dir, workers, media,
jobs ...), so it declares no section of its own.
"""

from vidlens.capability import Capability

capability = Capability(
    name="core",
    summary="The catalogue of videos, the durable job queue and stored analysis results.",
    tables="vidlens.store.schema",
    migrations="vidlens.store.migrations.versions",
    cli="vidlens.cli.core",
    api=("vidlens.api.routes.videos", "vidlens.api.routes.jobs", "vidlens.api.routes.blobs"),
    services={"catalog": "vidlens.catalog:Catalog.from_context"},
)
