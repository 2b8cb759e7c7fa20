from pathlib import Path

import pytest

from vidlens.blobs.local import LocalBlobStore
from vidlens.errors import NotFoundError, UsageError


def test_content_addressed_and_atomic(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    k1 = store.put_bytes(b"hello", ".jpg")
    assert store.put_bytes(b"hello", ".jpg") == k1
    assert store.get_bytes(k1) == b"hello" and store.exists(k1)
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 3_000_000)
    k2 = store.put_file(src, ".bin")
    assert store.path(k2).stat().st_size == 3_000_000
    assert not list(tmp_path.rglob(".tmp-*"))
    store.delete(k1)
    with pytest.raises(NotFoundError):
        store.open(k1)


@pytest.mark.parametrize("key", ["../etc/passwd", "ab/../../x", "zz/" + "0" * 64, ""])
def test_hostile_keys_are_rejected(tmp_path: Path, key: str) -> None:
    with pytest.raises(UsageError):
        LocalBlobStore(tmp_path).path(key)


def test_hostile_suffix_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        LocalBlobStore(tmp_path).put_bytes(b"x", "/../../x")
