"""The ``core`` capability: the video library, the job queue and analysis results.

Its settings are the top-level fields of ``vidlens.settings.Settings`` (data_dir, workers, media,
jobs ...), so it declares no section of its own.
"""

from vidlens.capability import Capability

capability = Capability(
    name="core",
    summary="The video library, the durable job queue and stored analysis results.",
    tables="vidlens.store.schema",
    migrations="vidlens.store.migrations.versions",
    cli="vidlens.cli.core",
    api=("vidlens.api.routes.videos", "vidlens.api.routes.jobs", "vidlens.api.routes.blobs"),
    services={"library": "vidlens.library:Library.from_context"},
)
