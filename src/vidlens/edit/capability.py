"""The ``edit`` capability: silence removal, highlight reels, reframing, captions, editor export, dubbing."""

from vidlens.capability import Capability
from vidlens.edit.settings import EditSettings

capability = Capability(
    name="edit",
    summary="Make: intelligent editing (`vidlens edit`).",
    settings=EditSettings,
    cli="vidlens.cli.edit",
    steps="vidlens.edit.steps",
    api=("vidlens.edit.api",),
    ui="vidlens.edit.pages",
    requires=("core", "understand", "govern"),
)
