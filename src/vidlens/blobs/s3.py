"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW ...), for API and worker roles on
several machines that share one store.

Keys are the same content addresses as on disk (``xx/<sha256>[.ext]``) under an optional prefix.
An object is only ever written whole (S3 PUT is atomic), so a reader never sees half a blob, and
storing bytes that are already there is skipped after one HEAD request.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

from vidlens.blobs.local import BlobStore
from vidlens.errors import ConfigError, NotFoundError, StoreError
from vidlens.hashing import sha256_bytes, sha256_file

_SPOOL_BYTES = 8 * 1024 * 1024  # larger objects are read into a temporary file, not memory


class S3BlobStore(BlobStore):
    def __init__(self, url: str, *, endpoint_url: str | None = None, client: Any = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ConfigError(f"blob_url {url!r}: expected s3://bucket[/prefix]")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        if client is None:
            try:
                import boto3
            except ImportError:
                raise ConfigError("an s3:// blob_url needs boto3: pip install 'vidlens[scale]'") from None
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self._errors = client.exceptions

    def _name(self, key: str) -> str:
        key = self._check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_bytes(self, data: bytes, suffix: str = "") -> str:
        digest = sha256_bytes(data)
        key = f"{digest[:2]}/{digest}{self._check_suffix(suffix)}"
        if not self.exists(key):
            self._call(self.client.put_object, Bucket=self.bucket, Key=self._name(key), Body=data)
        return key

    def put_file(self, path: str | Path, suffix: str = "") -> str:
        digest = sha256_file(path)
        key = f"{digest[:2]}/{digest}{self._check_suffix(suffix)}"
        if not self.exists(key):
            self._call(self.client.upload_file, str(path), self.bucket, self._name(key))
        return key

    def open(self, key: str) -> BinaryIO:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except self._errors.NoSuchKey:
            raise NotFoundError(f"blob '{key}' not found") from None
        except self._errors.ClientError as exc:
            raise StoreError(f"blob store s3://{self.bucket}: {exc}") from None
        out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - handed to the caller
        try:
            for chunk in iter(lambda: body.read(1 << 20), b""):
                out.write(chunk)
        finally:
            body.close()
        out.seek(0)
        return out  # type: ignore[return-value]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except self._errors.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(f"blob store s3://{self.bucket}: {exc}") from None
        return True

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=self._name(key))

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors.ClientError as exc:
            raise StoreError(f"blob store s3://{self.bucket}: {exc}") from None
        except Exception as exc:  # boto3's transfer and connection errors have no common base
            if type(exc).__module__.startswith(("boto3", "botocore", "s3transfer")):
                raise StoreError(f"blob store s3://{self.bucket}: {exc}") from None
            raise

