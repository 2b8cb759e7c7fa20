"""The ``understand`` capability: analyzers (shots, speech, objects, faces, OCR, tags ...), the
``analyze`` and ``reindex`` jobs, the stored analysis document and its shots, people and tracks
projections. Analyzers themselves are plugins (entry-point group ``vidlens.plugins``) configured
under ``[plugins.<name>]``, so this capability has no settings section."""

from vidlens.capability import Capability

capability = Capability(
    name="understand",
    summary="Analyse videos: shots, keyframes, speech, objects, faces, OCR, tags.",
    tables="vidlens.analyze.tables",
    migrations="vidlens.analyze.migrations",
    steps="vidlens.analyze.steps",
    cli="vidlens.cli.analyze",
    services={"documents": "vidlens.analyze.documents:DocumentStore.from_context",
              "identities": "vidlens.analyze.identities:Identities.from_context"},
    projections="vidlens.analyze.projections",
    api=("vidlens.analyze.routes",),
    ui="vidlens.analyze.pages",
    requires=("core",),
)
