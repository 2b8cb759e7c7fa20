"""The ``presenters`` capability: digital humans that speak (``vidlens humans speak``, ``humans trace``, the
presenter page). Its own capability because a presenter needs what the registry must not: Make's voices and
captions and Govern's labels and watermark, which themselves use the registry's faces."""

from vidlens.capability import Capability

capability = Capability(
    name="presenters",
    summary="Presenters: a registered digital human (or a portrait) speaking a script, labelled, watermarked "
            "and recorded with its consent.",
    cli="vidlens.cli.presenters",
    steps="vidlens.humans.presenter.steps",
    ui="vidlens.humans.presenter_pages",
    requires=("core", "humans", "govern", "edit"),
)
