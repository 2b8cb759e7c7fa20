"""The ``understand`` capability: analyzers (shots, speech, objects, faces, OCR, tags ...) and the
``analyze`` job. Analyzers themselves are plugins (entry-point group ``vidlens.plugins``) configured
under ``[plugins.<name>]``, so this capability has no settings section."""

from vidlens.capability import Capability

capability = Capability(
    name="understand",
    summary="Analyse videos: shots, keyframes, speech, objects, faces, OCR, tags.",
    steps="vidlens.analyze.steps",
    cli="vidlens.cli.analyze",
    requires=("core",),
)
