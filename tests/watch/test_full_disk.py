"""A full disk under one camera's folder: the camera goes on detecting, says why it does not record, and
records again once there is room; the camera beside it, on a healthy disk, is untouched.

The full disk is real: a 1 MiB tmpfs mounted on ``watch/front`` and filled to the last byte, so
this test needs root (``mount``).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.watch.conftest import events, ffmpeg, start_vidlens, stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def car_park(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of the aerial car park where people, a bicycle and cars move (a keyframe every second)."""
    out = tmp_path_factory.mktemp("clips") / "car_park.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-ss", "22", "-t", "12", "-i",
                    str(shared_media / "surveillance" / "intel_person-bicycle-car-detection.mp4"), "-an",
                    "-c:v", "libx264", "-preset", "veryfast", "-g", "25", str(out)], check=True)
    return out


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """``data/watch/front`` on its own 1 MiB filesystem, filled up; ``filler`` in it frees the room."""
    if os.geteuid() != 0:
        pytest.fail("test_full_disk needs root: it mounts a small tmpfs to fill a real filesystem "
                    "(run it as root)")
    mount = tmp_path / "data" / "watch" / "front"
    mount.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        with open(mount / "filler", "wb", buffering=0) as f:
            try:
                while f.write(b"\0" * 4096):
                    pass
            except OSError as exc:
                assert exc.errno == 28  # No space left on device
        assert os.statvfs(mount).f_bavail == 0
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _decodes(path: Path) -> int:
    """Frames of ``path``, decoded to the end (a truncated file raises or has none)."""
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def test_a_full_disk_costs_the_recording_only(car_park: Path, full_disk: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    cam = f"    source: {car_park}\n    detect: {{fps: 4, objects: [person, car, bicycle]}}\n" \
          "    record: {pre_s: 1, post_s: 1, segment_s: 2}\n"
    config = tmp_path / "c.yml"
    config.write_text(f"cameras:\n  front:\n{cam}  back:\n{cam}")
    # in real time (12 s), so that the room made when the disk is seen full comes while the camera runs
    proc = start_vidlens("watch", "run", str(config), "--until-eof", "--json", data_dir=data)
    lines: list[str] = []

    def read() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("camera front: recording stopped" in line for line in lines):
            assert proc.poll() is None, f"watch ended before the full disk was reported:\n{''.join(lines)[-3000:]}"
            assert time.monotonic() < deadline, f"no report of the full disk:\n{''.join(lines)[-3000:]}"
            time.sleep(0.1)
        (full_disk / "filler").unlink()  # room again
        proc.wait(timeout=180)
        out = proc.stdout.read()  # type: ignore[union-attr]
    finally:
        stop(proc)
    reader.join(5)
    log = "".join(lines)
    assert proc.returncode == 0, log[-3000:]
    assert "Traceback" not in log and "process died" not in log, log[-3000:]
    # the reason, naming the folder on the full disk, once; then recording resumes
    stopped = [line for line in lines if "camera front: recording stopped" in line]
    assert len(stopped) == 1 and str(full_disk) in stopped[0] and "No space left on device" in stopped[0], log
    assert any("camera front: recording resumed" in line for line in lines), log
    assert not any("camera back: recording" in line for line in lines), log

    summary = json.loads(out)["cameras"]
    for name in ("front", "back"):  # neither crashed nor was restarted, and both saw the whole clip
        assert summary[name]["state"] == "done" and summary[name]["restarts"] == 0, summary
        assert summary[name]["frames"] >= 40 and summary[name]["events"] > 0, summary
    front, back = events(data, "--camera", "front"), events(data, "--camera", "back")
    # the camera on the full disk still detects: its events are stored and listed, like the other camera's
    assert {e["label"] for e in front if e["type"] == "object"} >= {"person", "car"}
    assert {e["label"] for e in back if e["type"] == "object"} >= {"person", "car"}
    assert not [e for e in front + back if e["type"] == "camera_offline"]
    back_objects = [e for e in back if e["type"] == "object"]
    assert all(e["clip"] and e["snapshot"] for e in back_objects)  # the healthy disk: every clip and snapshot

    # nothing half-written is listed or left: every listed clip and recorded piece decodes to its end
    front_clips = [Path(e["clip"]) for e in front if e["clip"]]
    assert front_clips, "no clip after the disk had room again"
    for clip in front_clips:
        assert clip.parent.parent == full_disk and _decodes(clip) > 0
    for e in front:
        assert e["snapshot"] is None or Path(e["snapshot"]).stat().st_size > 0
    assert not [f for f in full_disk.rglob(".*") if f.is_file()]  # no temporary .part files
    pieces = sorted(full_disk.glob("recordings/*/seg*.ts"))
    assert pieces, "recording did not resume"
    for piece in pieces:
        assert _decodes(piece) > 0
