"""Retention: recordings after five minutes, clips and snapshots after retain_days, then the quota."""

from __future__ import annotations

import os
import time
from pathlib import Path

from vidlens.watch.clips import Retention
from vidlens.watch.settings import WatchSettings


def _file(path: Path, size: int, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_age_then_quota(tmp_path: Path) -> None:
    settings = WatchSettings.model_validate({"cameras": {"lobby": {"source": "x.mp4", "record": {"retain_days": 1}}},
                                            "quota_gb": 250e-9})  # 250 bytes
    cam = tmp_path / "lobby"
    old_seg = _file(cam / "recordings" / "1" / "seg000000.ts", 10, 600)
    new_seg = _file(cam / "recordings" / "1" / "seg000001.ts", 10, 5)
    old_clip = _file(cam / "clips" / "a.mp4", 10, 2 * 86400)
    clips = [_file(cam / "clips" / f"c{i}.mp4", 100, 1000 - i) for i in range(3)]  # 300 bytes: over the quota
    snap = _file(cam / "snapshots" / "s.jpg", 10, 10)
    deleted = Retention(settings, None, tmp_path).sweep()  # type: ignore[arg-type]
    assert not old_seg.exists() and not old_clip.exists()  # past their time
    assert not clips[0].exists() and clips[1].exists() and clips[2].exists()  # the oldest goes for the quota
    assert new_seg.exists() and snap.exists()
    assert deleted == 3
