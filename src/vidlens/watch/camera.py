"""The body of one camera's process: connect, watch, reconnect with backoff, report.

Runs in its own process (``vidlens.watch.supervisor`` starts and restarts it), so a camera that
crashes or hangs its decoder takes no other camera with it. Everything it finds goes to the
supervisor as small dicts on a queue; it touches no database. A face list that changes while the
camera runs (the watch-list) arrives on its ``inbox``. A connection that fails or breaks
opens a ``camera_offline`` event (with the reason) and retries after 1, 2, 4 ... 30 seconds
(``vidlens.media.backoff``, which ``vidlens humans live`` follows too); the
event ends when frames flow again. A recording that cannot be written (a full disk) is reported
(``op: recording``) and retried while the camera goes on watching. Times are seconds since the camera's stream started: a later
connection goes on from the wall-clock time that passed.
"""

from __future__ import annotations

import queue as queue_mod
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlens.media.backoff import Backoff
from vidlens.watch.settings import CameraConfig

LATEST_EVERY_S = 1.0  # the live view's picture
LATEST_SIDE = 640


@dataclass(frozen=True)
class CameraJob:
    """What a camera process is given (picklable: it crosses into a spawned process)."""

    name: str
    cfg: CameraConfig
    root: Path  # this camera's folder: snapshots/, recordings/<connection>/, clips/
    until_eof: bool = False  # a local file ends the camera at its end (else it is read again, like a stream)
    fast: bool = False  # read local files as fast as they decode
    threads: int = 1
    first_backoff_s: float = 1.0
    face_matchers: tuple[Any, ...] = ()  # picklable FaceMatchers (vidlens.watch.faces) for new person tracks


def run_camera(job: CameraJob, queue: Any, inbox: Any = None) -> None:
    """Process entry point: watch ``job``'s camera until its file ends (``until_eof``) or a SIGTERM.

    ``inbox`` (a queue) brings ``{"source", "faces"}``: a newer face list of that source, or None.
    """
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    import cv2

    # OpenCV's own worker pool would start a thread per core in every camera process: with several
    # cameras on few cores they contend with each other's decode and detection
    cv2.setNumThreads(job.threads)
    from vidlens.models.detector import load_detector
    from vidlens.watch import ingest
    from vidlens.watch.pipeline import CameraPipeline

    detector = load_detector("yolov4-tiny", None, None, 416, job.threads)
    # weak boxes are kept for the tracker (they extend tracks); new tracks need the configured score
    min_conf = min(0.25, job.cfg.detect.min_score)

    def emit(msg: dict[str, Any]) -> None:
        queue.put({"camera": job.name, **msg})

    pipe = CameraPipeline(job.name, job.cfg, lambda img: detector.detect(img, min_conf, 0.45), emit,
                          job.root / "snapshots", face_matchers=job.face_matchers)
    started = time.monotonic()
    backoff = Backoff(job.first_backoff_s)
    offline: str | None = None
    connection = 0
    is_file = ingest.is_file(job.cfg.source)
    while not stop["now"]:
        connection += 1
        base = 0.0 if connection == 1 else time.monotonic() - started
        rec = None
        if job.cfg.record.enabled:
            rec = ingest.Recording(job.root / "recordings" / f"{int(time.time() * 1000):014d}", job.cfg.record.segment_s,
                                   report=lambda why: emit({"op": "recording", "reason": why}))
        emit({"op": "connection", "dir": str(rec.dir) if rec else None, "base": base})
        if connection > 1:
            pipe.reconnected(base)
        got = False
        cpu_from = flow_from = 0.0
        frames_before, runs_before = pipe.stats.frames, pipe.stats.detector_runs  # stats are sent per connection
        busy_before, tiled_before = pipe.stats.busy, pipe.stats.tiled
        coasted_before, tracked_before = pipe.stats.coasted, pipe.stats.tracked
        next_picture = 0.0
        reason = "the stream ended"
        try:
            for frame in ingest.read_stream(job.cfg.source, fps=job.cfg.detect.fps, listen=job.cfg.listen,
                                            realtime=not job.fast, recording=rec,
                                            open_timeout_s=60.0 if job.cfg.listen else 10.0,
                                            rtsp_transport=job.cfg.rtsp_transport):
                if not got:
                    cpu_from = time.process_time()  # CPU from the first frame on: decoding (its own thread) and watching
                    flow_from = time.monotonic()
                    got = True
                    backoff.delivered()
                    if offline is not None:
                        emit({"op": "end", "id": offline, "end": round(base + frame.t, 3)})
                        offline = None
                    emit({"op": "status", "state": "online", "width": frame.image.shape[1],
                          "height": frame.image.shape[0]})
                if inbox is not None:
                    _new_faces(inbox, pipe)
                pipe.process(frame.t, frame.image, frame.received)
                if time.monotonic() >= next_picture:
                    next_picture = time.monotonic() + LATEST_EVERY_S
                    write_latest(job.root / "latest.jpg", frame.image)
                if stop["now"]:
                    break
        except ingest.IngestError as exc:
            reason = exc.message
        pipe.end_all(pipe.last_t)
        emit({"op": "stats", "frames": pipe.stats.frames - frames_before,
              "cpu_s": time.process_time() - cpu_from if got else 0.0,
              "flow_s": time.monotonic() - flow_from if got else 0.0,
              "detector_runs": pipe.stats.detector_runs - runs_before,
              "busy": pipe.stats.busy - busy_before, "tiled": pipe.stats.tiled - tiled_before,
              "coasted": pipe.stats.coasted - coasted_before, "tracked": pipe.stats.tracked - tracked_before,
              "detect_s": pipe.stats.detect_s, "detect_cpu_s": pipe.stats.detect_cpu_s})
        pipe.stats.detect_s, pipe.stats.detect_cpu_s = [], []
        ending = is_file and job.until_eof  # a file is read once: its end (or its failure) ends the camera
        if stop["now"] or (ending and got):
            break
        if offline is None:
            offline = uuid.uuid4().hex
            t = pipe.last_t if got else time.monotonic() - started
            emit({"op": "event", "event": {
                "id": offline, "camera": job.name, "type": "camera_offline", "label": None, "track_id": None,
                "start": round(t, 3), "end": None, "zone": None, "line": None, "direction": None, "score": None,
                "box": None, "snapshot": None, "received": time.time(), "data": {"reason": reason}}})
        if ending:
            break
        emit({"op": "status", "state": "offline", "reason": reason, "retry_s": backoff.next_s})
        if not backoff.wait(lambda: stop["now"]):
            break
    if offline is not None:
        emit({"op": "end", "id": offline, "end": round(time.monotonic() - started, 3)})
    emit({"op": "done"})


def _new_faces(inbox: Any, pipe: Any) -> None:  # noqa: ANN401 - a queue and a CameraPipeline
    while True:
        try:
            msg = inbox.get_nowait()
        except queue_mod.Empty:
            return
        pipe.set_faces(msg["faces"], msg["source"])


def write_latest(path: Path, image: Any) -> None:  # noqa: ANN401 - a BGR array
    """The live view's picture: the frame at most ``LATEST_SIDE`` wide, written whole (temp, rename)."""
    import os

    import cv2

    h, w = image.shape[:2]
    if w > LATEST_SIDE:
        image = cv2.resize(image, (LATEST_SIDE, max(1, round(h * LATEST_SIDE / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
    tmp = path.with_name(".latest.jpg.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if ok:
            tmp.write_bytes(buf.tobytes())
            os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk costs the live picture, not the camera
