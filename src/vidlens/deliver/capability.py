"""The ``deliver`` capability: transcoding, HLS/DASH packaging, loudness, thumbnails and live ingest."""

from vidlens.capability import Capability
from vidlens.deliver.settings import DeliverSettings

capability = Capability(
    name="deliver",
    summary="Delivery: encoding profiles, packaging and live streaming.",
    settings=DeliverSettings,
    steps="vidlens.deliver.steps",
    cli="vidlens.cli.deliver",
    api=("vidlens.deliver.routes",),
    services={"proxies": "vidlens.deliver.proxy:Proxies.from_context"},
    requires=("core",),
)
