from __future__ import annotations

from pathlib import Path

import pytest

from vidlens.errors import ModelError, UsageError
from vidlens.hashing import sha256_file
from vidlens.models import whisper


def test_tiny_en_is_found_in_its_wheel() -> None:
    d = whisper.model_dir("tiny.en")
    assert (d / "model.bin").is_file() and (d / "tokenizer.json").is_file()


def test_base_is_joined_once_verified_and_rebuilt_when_damaged(cache_env: Path) -> None:
    d = whisper.model_dir("base")
    assert d.parent == cache_env and (d / "model.bin").stat().st_size == 145_217_607
    assert {p.name for p in d.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    mtime = (d / "model.bin").stat().st_mtime_ns
    assert whisper.model_dir("base") == d and (d / "model.bin").stat().st_mtime_ns == mtime  # reused
    with (d / "model.bin").open("r+b") as f:  # flip bytes in place: same size, wrong digest
        f.seek(1000)
        f.write(b"\x00garbage\x00")
    d2 = whisper.model_dir("base")
    assert d2 == d and sha256_file(d / "model.bin") == whisper.BASE.model_sha256


def test_cache_dir_prefers_env_then_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VIDLENS_CACHE_DIR", raising=False)
    assert whisper.cache_dir(tmp_path) == tmp_path / "cache"
    monkeypatch.setenv("VIDLENS_CACHE_DIR", str(tmp_path / "c"))
    assert whisper.cache_dir(tmp_path) == tmp_path / "c"


def test_user_directory_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"speech.whisper.*expected model.bin"):
        whisper.model_dir("tiny.en", override=tmp_path)
    with pytest.raises(UsageError, match="unknown Whisper model 'large'"):
        whisper.model_dir("large")
    (tmp_path / "model.bin").write_bytes(b"\x00" * 4096)
    with pytest.raises(ModelError, match="speech.whisper.*cannot load Whisper"):
        whisper.load_whisper("tiny.en", override=tmp_path)
