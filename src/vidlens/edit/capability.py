"""The ``edit`` capability: silence removal, highlight reels, reframing, captions, editor export."""

from vidlens.capability import Capability
from vidlens.edit.settings import EditSettings

capability = Capability(
    name="edit",
    summary="Make: intelligent editing (`vidlens edit`).",
    settings=EditSettings,
    cli="vidlens.cli.edit",
    requires=("core", "understand", "govern"),
)
