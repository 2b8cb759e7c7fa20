"""Blob stores: a local directory by default, an S3-compatible bucket as an option."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from vidlens.blobs.local import BlobStore, LocalBlobStore
from vidlens.errors import ConfigError


def blob_store(data_dir: Path, url: str | None, endpoint_url: str | None = None) -> BlobStore:
    """The blob store ``settings.blob_url`` names: the data dir's ``blobs`` folder by default."""
    if url is None:
        return LocalBlobStore(data_dir / "blobs")
    if url.startswith("s3://"):
        from vidlens.blobs.s3 import S3BlobStore

        return S3BlobStore(url, endpoint_url=endpoint_url)
    if url.startswith("file://"):
        return LocalBlobStore(Path(urlparse(url).path))
    raise ConfigError(f"blob_url {url!r}: expected s3://bucket[/prefix] or file:///path")
