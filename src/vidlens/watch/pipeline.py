"""One camera's brain: motion, detection around it, tracking, zones, lines and the events they make.

Idle cameras cost almost nothing: each sampled frame first goes to a ``MotionMap`` (a small grey
thumbnail, three-frame differencing); the detector runs only where something moves, on at most
``MAX_REGIONS`` square regions cut around the motion and the tracked objects at the camera's own
resolution (``vidlens.analyze.regions``, the planner the objects analyzer uses for small objects).
Objects that stand still are looked at again once every ``recheck_s``; between looks their
tracks are kept as they are. ``motion_gated: false`` detects on every sampled whole frame (the
baseline ``bench/bench_watch.py`` compares against).

Each region is one detector run, as the whole frame is, so a crowd cut into three regions on every
frame would cost three times detection on every whole frame. Regions and tiles are therefore
budgeted: every sampled frame adds ``detect.max_runs`` (0.75 by default) to a bucket holding at most
two seconds of them; regions and tiles are paid from it, and a frame whose regions the bucket cannot
pay for is detected on the whole frame (one run, always allowed; paid from the bucket while it holds
anything) instead. Over ``n`` sampled frames the detector thus runs about as often as the larger of
the frames it looks at and ``max_runs * n``: never more than on every whole frame (beyond the bucket),
fewer wherever more than a quarter of the frames are skipped.

The frames it skips are a still view, and frames the tracker can carry: a sampled frame in which
every moving blob lies (``COVERED``) in the boxes that objects tracked at the last look sweep from
there to their predicted place is not detected; the tracker moves its tracks on by their velocity,
at most ``detect.carry`` frames in a row (1 by default; 0 turns carrying off). A walker crossing the
view is detected on every other sampled frame, and anything new that moves is detected at once
(Frigate likewise detects only where motion is not explained by what it already tracks).

A busy view (most of it moves: camera shake, a pan, a light switched on; or more than
``MAX_MOVERS`` separate things move: rain, leaves, a crowd; or small movers that the regions cannot
cover) is not cut into regions: the detector sees the whole frame. Where the whole-frame pass
shrinks the picture a lot (a 720p camera for a 416-px detector), small objects vanish in it, so
at most once every ``TILES_EVERY_S`` of a busy stretch, when the bucket has saved the runs for them,
the frame is covered by full-resolution tiles instead, and the tracker carries what they found in
between. Movers too large for a region are seen well by the whole frame: they never cost tiles.

Tracking is the shared ``vidlens.analyze.tracking.Tracker`` (the one offline analysis uses). A
track that is seen ``min_hits`` times becomes one ``object`` event, with a snapshot (the frame with
its box drawn); it ends when the track ends. ``face_matchers`` are asked about each person
track's box once every ``FACE_EVERY_S``, up to ``FACE_LOOKS`` times until each has named it (a face
turned away may turn to the camera later); a match is a ``watchlist`` event (the registered digital
humans are one matcher, the govern watch-list another: ``vidlens.watch.faces``).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vidlens.analyze.motion import MotionMap
from vidlens.analyze.object_priors import reach
from vidlens.analyze.regions import RegionPlanner, detect_regions, merge
from vidlens.analyze.tracking import Tracker, TrackState
from vidlens.types import Detections
from vidlens.watch.settings import CameraConfig
from vidlens.watch.zones import Happening, ZoneWatcher

log = logging.getLogger(__name__)
BUSY_SHARE = 0.3  # more of the view than this moving (a light switched on, a pan): look at the whole frame
MAX_MOVERS = 12  # more separate moving blobs than this is clutter (rain, leaves, a crowd): no regions
MAX_REGIONS = 3  # detector runs on regions per sampled frame, at most
COVER = 0.25  # a moving blob a track explains lies in the box it sweeps grown by this share a side ...
BLOB_PX = 3  # ... and by this many motion-map pixels (a blob is dilated and blurred beyond what moved)
COVERED = 0.9  # share of a moving blob that such boxes (together) must cover
TILES_EVERY_S = 1.0  # in a busy view, a tiled pass at most this often (the whole frame in between) ...
TILE_GAIN = 2.0  # ... where tiles see the picture at least this many times finer than the whole-frame pass
MIN_HITS_S = 0.4  # a track is an object after being seen this long (at least 2 looks)
BUCKET_S = 2.0  # the detector budget saved up while quiet: this many seconds of it
FACE_EVERY_S = 1.0  # a person track's face is looked at this often (a face turned away may turn later) ...
FACE_LOOKS = 8  # ... at most this many times, until every face list has named it


@dataclass(frozen=True, slots=True)
class FaceMatch:
    name: str  # who: the registered human's or the watch-list entry's name
    ref: str  # their id in the registry that matched
    score: float
    source: str  # which matcher: "humans", "watchlist" ...
    reason: str | None = None  # why the face is listed (a watch-list entry's reason)


class FaceMatcher(Protocol):
    """Anything that tells who a person in a frame is: ``match(bgr, box_xyxy) -> [FaceMatch]``; ``source``
    names the list it matches against (a newer list of the same source replaces it)."""

    source: str

    def match(self, image: np.ndarray, box: np.ndarray) -> Sequence[FaceMatch]: ...


Detect = Callable[[np.ndarray], Detections]
Emit = Callable[[dict[str, Any]], None]


@dataclass
class Stats:
    frames: int = 0
    detector_runs: int = 0  # detector calls (each region is one)
    detect_s: list[float] | None = None  # per frame with detection: wall seconds spent detecting
    detect_cpu_s: list[float] | None = None  # ... and CPU seconds of this thread (steadier on a shared machine)
    busy: int = 0  # frames detected as a busy view (whole frame or tiles instead of regions)
    tiled: int = 0  # ... of which on tiles
    coasted: int = 0  # frames with motion that the tracker's predictions explained: not detected
    tracked: int = 0  # object tracks in view, summed over sampled frames (``CameraPipeline.seen``)


class CameraPipeline:
    def __init__(self, name: str, cfg: CameraConfig, detect: Detect, emit: Emit, snapshots: Path, *,
                 model_size: int = 416, face_matchers: Sequence[FaceMatcher] = (), recheck_s: float = 1.0) -> None:
        self.name = name
        self.cfg = cfg
        self.detect = detect
        self.emit = emit
        self.snapshots = snapshots
        self.face_matchers = list(face_matchers)
        fps = cfg.detect.fps
        self.motion = MotionMap(ignore=cfg.motion_mask)
        self.planner = RegionPlanner(model_size=model_size, max_regions=MAX_REGIONS)
        self.tracker = Tracker(high_conf=cfg.detect.min_score, max_gap=max(2, round(1.5 * fps)),
                               min_hits=max(2, round(MIN_HITS_S * fps)), reach=reach)
        self.zones = ZoneWatcher(cfg.zones, cfg.lines)
        self.recheck = max(1, round(recheck_s * fps))
        self.objects = set(cfg.detect.objects)
        self.events: dict[int, str] = {}  # track id -> its object event's id
        self._face_looks: dict[int, tuple[float, int, set[str]]] = {}  # person track -> (next look, looks left,
        #                                                                 face lists that named it)
        self._next_tiles = 0.0
        self._budget = cfg.detect.max_runs  # detector runs a sampled frame adds to the bucket
        self._bucket = 0.0
        self._tiles: dict[tuple[int, ...], np.ndarray] = {}  # frame shape -> its tiles
        self.stats = Stats(detect_s=[], detect_cpu_s=[])
        self._since_look = 0
        self._coasted = 0  # frames carried by the tracker since the detector last ran
        self._base = 0.0  # seconds of earlier connections: times run on across reconnects
        self.last_t = 0.0

    def reconnected(self, base: float) -> None:
        """A new connection starts at ``base`` seconds of the camera's stream: tracks do not span the gap."""
        self.end_all(self.last_t)
        self._base = base
        self.motion.reset()

    def process(self, t_stream: float, image: np.ndarray, received: float) -> None:
        import time

        t = self._base + t_stream
        self.last_t = t
        self.stats.frames += 1
        dets = None
        if not self.cfg.detect.motion_gated:
            started, cpu = time.perf_counter(), time.thread_time()
            dets = self._whole(image)
        else:
            m = self.motion.update(image)
            self._since_look += 1
            room = max(BUCKET_S * self.cfg.detect.fps * self._budget, len(self._tiles_of(image.shape)))
            self._bucket = min(room, self._bucket + self._budget)
            needs = (not m.known) or (m.changed and (len(m.boxes) or self.tracker.live)) or (
                self.tracker.live and self._since_look >= self.recheck)
            if needs and self._explained(m.boxes, m.share, m.known, image.shape):
                self._coasted += 1
                self.stats.coasted += 1
                self._track(t, Detections.empty(), image, received)
                needs = False
            if needs:
                started, cpu = time.perf_counter(), time.thread_time()
                dets = self._around(image, m.boxes, m.share, m.known, t)
        if dets is not None:
            self._since_look = self._coasted = 0
            self.stats.detect_s.append(time.perf_counter() - started)  # type: ignore[union-attr]
            self.stats.detect_cpu_s.append(time.thread_time() - cpu)  # type: ignore[union-attr]
            keep = np.array([str(c) in self.objects for c in dets.class_name], bool)
            self._track(t, dets[np.flatnonzero(keep)] if len(dets) else dets, image, received)
        self.stats.tracked += len(self.seen())

    def seen(self) -> list[tuple[TrackState, np.ndarray]]:
        """The object tracks (those with an event) in view now, each with its box: seen at the camera's last
        look, or carried by the tracker since without a miss (at its predicted box)."""
        return [(tr, tr.box if not tr.misses else tr.predicted()) for tr in self.tracker.live
                if tr.id in self.events and tr.misses <= self._coasted]

    def _explained(self, movers: np.ndarray, share: float, known: bool, shape: tuple[int, ...]) -> bool:
        """Whether the tracker can carry this frame: every moving blob lies (``COVERED``) in the boxes that
        objects tracked at the last look sweep from there to their predicted place (grown by ``COVER``), the
        view is not busy, no still object is due a look, and fewer than ``detect.carry`` frames before were
        carried."""
        if (not known or self._coasted >= self.cfg.detect.carry or self._since_look >= self.recheck
                or share > BUSY_SHARE or len(movers) > MAX_MOVERS):
            return False
        looked = [tr for tr in self.tracker.live if tr.id in self.events and tr.misses == 0]
        if not looked:
            return False
        # where each object was at the last look and where it is predicted now: what its motion sweeps
        was = np.stack([tr.box for tr in looked]).astype(np.float32)
        now = np.stack([tr.predicted() for tr in looked]).astype(np.float32)
        boxes = np.concatenate([np.minimum(was[:, :2], now[:, :2]), np.maximum(was[:, 2:], now[:, 2:])], axis=1)
        # ... with a margin: a share of its size, and the few motion-map pixels a blob's dilation adds
        grow = (boxes[:, 2:] - boxes[:, :2]) * COVER + BLOB_PX * max(shape[:2]) / self.motion.side
        grown = np.concatenate([boxes[:, :2] - grow, boxes[:, 2:] + grow], axis=1)
        return all(_covered(b, grown) >= COVERED for b in np.asarray(movers, np.float32).reshape(-1, 4))

    def _whole(self, image: np.ndarray) -> Detections:
        self.stats.detector_runs += 1
        self._bucket = max(0.0, self._bucket - 1)  # always affordable, and never a debt that regions pay later
        return self.detect(image)

    def _on(self, image: np.ndarray, regions: np.ndarray) -> Detections:
        self.stats.detector_runs += len(regions)
        self._bucket -= len(regions)
        return merge(detect_regions(self.detect, image, regions))

    def _tiles_of(self, shape: tuple[int, ...]) -> np.ndarray:
        key = tuple(shape[:2])
        if key not in self._tiles:
            self._tiles[key] = self.planner.tiles(shape)
        return self._tiles[key]

    def _around(self, image: np.ndarray, movers: np.ndarray, share: float, known: bool, t: float) -> Detections:
        """Detections from regions around ``movers`` and live tracks, or the busy view's pass where they cannot do."""
        h, w = image.shape[:2]
        if not known:  # nothing to compare with yet (a first frame): the whole frame, as in a quiet view
            return self._whole(image)
        movers = np.asarray(movers, np.float32).reshape(-1, 4)
        live = np.asarray([tr.predicted() for tr in self.tracker.live], np.float32).reshape(-1, 4)
        if share > BUSY_SHARE or len(movers) > MAX_MOVERS:
            return self._busy(image, t)
        aims = np.concatenate([movers, live])
        if not len(aims):
            return self._whole(image)
        aims[:, [0, 2]] = aims[:, [0, 2]].clip(0, w)
        aims[:, [1, 3]] = aims[:, [1, 3]].clip(0, h)
        regions = self.planner.around(image.shape, aims, min_gain=1.0)
        left = np.array([not _within(a, regions) for a in aims], bool)
        if left.any() and self.planner.is_small(image.shape, aims[left]).any():
            return self._busy(image, t)  # small movers the regions cannot cover: the busy view's pass
        if left.any() or not len(regions) or len(regions) > self._bucket:
            return self._whole(image)  # large movers (seen well whole), or regions over the budget: one run
        return self._on(image, regions)

    def _busy(self, image: np.ndarray, t: float) -> Detections:
        """A busy view: the whole frame, or full-resolution tiles (a large frame, at most once every
        ``TILES_EVERY_S``, when the bucket holds a run for each tile)."""
        self.stats.busy += 1
        tiles = self._tiles_of(image.shape)
        if self.planner.gain(image.shape) < TILE_GAIN or t < self._next_tiles or len(tiles) > self._bucket:
            return self._whole(image)
        self._next_tiles = t + TILES_EVERY_S
        self.stats.tiled += 1
        return self._on(image, tiles)

    def _track(self, t: float, dets: Detections, image: np.ndarray, received: float) -> None:
        before = {tr.id: tr for tr in self.tracker.live}
        matched = self.tracker.update(t, dets)
        h, w = image.shape[:2]
        for tr, _ in matched:
            if tr.id not in self.events and tr.hits >= self.tracker.min_hits:
                self._new_object(tr, image, received)
            if tr.id in self.events and tr.label == "person" and self.face_matchers:
                self._look_at_face(tr, t, image, received)
            if tr.id in self.events:
                x = float((tr.box[0] + tr.box[2]) / 2 / w)
                y = float(tr.box[3] / h)
                for hp in self.zones.look(tr.id, tr.label, t, (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))):
                    self._happened(hp, tr, image, received)
        alive = {tr.id for tr in self.tracker.live}
        for tid, tr in before.items():
            if tid not in alive:
                self._ended(tr, tr.last_t)

    def end_all(self, t: float) -> None:
        """End every live track at ``t`` (the stream ended or broke)."""
        for tr in self.tracker.live:
            self._ended(tr, max(tr.last_t, min(t, tr.last_t + 1.0)))
        self.tracker.cut()

    def _ended(self, tr: TrackState, t: float) -> None:
        event = self.events.pop(tr.id, None)
        self._face_looks.pop(tr.id, None)
        for hp in self.zones.gone(tr.id, tr.label, t):
            self._emit_event(hp.type, hp.label, hp.track_id, hp.t, hp.t, zone=hp.zone)
        if event is not None:
            self.emit({"op": "end", "id": event, "end": round(t, 3)})

    def _new_object(self, tr: TrackState, image: np.ndarray, received: float) -> None:
        ev = self._emit_event("object", tr.label, tr.id, tr.start_t, None, image=image, box=tr.box,
                              score=float(tr.best_conf), received=received)
        self.events[tr.id] = ev

    def _look_at_face(self, tr: TrackState, t: float, image: np.ndarray, received: float) -> None:
        """Ask every face list who the person of ``tr`` is; each list names a track once (a ``watchlist`` event)."""
        due, left, named = self._face_looks.get(tr.id, (t, FACE_LOOKS, set()))
        todo = [m for m in self.face_matchers if m.source not in named]
        if t < due or left <= 0 or not todo:
            return
        self._face_looks[tr.id] = (t + FACE_EVERY_S, left - 1, named)
        for matcher in todo:
            found = matcher.match(image, tr.box)
            if found:
                named.add(matcher.source)
            for fm in found:
                match = {"ref": fm.ref, "source": fm.source, "score": round(fm.score, 4)}
                if fm.reason is not None:
                    match["reason"] = fm.reason
                self._emit_event("watchlist", fm.name, tr.id, t, t, image=image, box=tr.box, score=fm.score,
                                 received=received, extra={"match": match})

    def set_faces(self, matcher: FaceMatcher | None, source: str) -> None:
        """Replace the face list of ``source`` (the list changed while the camera runs); None: no such list."""
        self.face_matchers = [m for m in self.face_matchers if m.source != source] + ([matcher] if matcher else [])

    def _happened(self, hp: Happening, tr: TrackState, image: np.ndarray, received: float) -> None:
        self._emit_event(hp.type, hp.label, hp.track_id, hp.t, hp.t, zone=hp.zone, line=hp.line,
                         direction=hp.direction, image=image, box=tr.box, received=received)
        if hp.type == "line_cross":
            count = self.zones.counts[(hp.line, hp.label, hp.direction)]
            self.emit({"op": "count", "camera": self.name, "line": hp.line, "label": hp.label,
                       "direction": hp.direction, "count": count})

    def _emit_event(self, type_: str, label: str, track_id: int | None, start: float, end: float | None, *,
                    zone: str | None = None, line: str | None = None, direction: str | None = None,
                    image: np.ndarray | None = None, box: np.ndarray | None = None, score: float | None = None,
                    received: float | None = None, extra: dict[str, Any] | None = None) -> str:
        eid = uuid.uuid4().hex
        snapshot = None
        if image is not None and box is not None and type_ in ("object", "watchlist", "loiter", "line_cross"):
            snapshot = write_snapshot(self.snapshots / f"{eid}.jpg", image, box, label)
        self.emit({"op": "event", "event": {
            "id": eid, "camera": self.name, "type": type_, "label": label, "track_id": track_id,
            "start": round(start, 3), "end": None if end is None else round(end, 3), "zone": zone, "line": line,
            "direction": direction, "score": None if score is None else round(score, 4),
            "box": None if box is None or image is None else _fraction_box(box, image.shape),
            "snapshot": snapshot, "received": received, "data": extra or {}}})
        return eid


def _within(box: np.ndarray, regions: np.ndarray, slack: float = 2.0) -> bool:
    return any(box[0] >= r[0] - slack and box[1] >= r[1] - slack and box[2] <= r[2] + slack
               and box[3] <= r[3] + slack for r in regions)


def _covered(box: np.ndarray, boxes: np.ndarray, n: int = 12) -> float:
    """The share of ``box`` that the union of ``boxes`` covers (on an ``n`` x ``n`` grid of points): a blob
    where two walkers' motion merged lies in neither box alone but in both together."""
    xs, ys = np.meshgrid(np.linspace(box[0], box[2], n), np.linspace(box[1], box[3], n))
    x, y = xs.reshape(-1, 1), ys.reshape(-1, 1)
    inside = (x >= boxes[:, 0]) & (x <= boxes[:, 2]) & (y >= boxes[:, 1]) & (y <= boxes[:, 3])
    return float(inside.any(1).mean())


def _fraction_box(box: np.ndarray, shape: tuple[int, ...]) -> list[float]:
    h, w = shape[:2]
    return [round(float(box[0]) / w, 4), round(float(box[1]) / h, 4), round(float(box[2]) / w, 4),
            round(float(box[3]) / h, 4)]


def write_snapshot(path: Path, image: np.ndarray, box: np.ndarray, label: str) -> str | None:
    """The frame as a JPEG with ``box`` drawn and labelled; written whole (temp, rename). Returns the file name."""
    import cv2

    img = image.copy()
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    thick = max(2, img.shape[0] // 240)
    cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 255), thick)
    cv2.putText(img, label, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, max(0.5, img.shape[0] / 900),
                (0, 0, 255), max(1, thick // 2))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return None
    tmp = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buf.tobytes())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk costs the snapshot, not the camera
        log.warning("snapshot %s not written: %s", path, exc)
        tmp.unlink(missing_ok=True)
        return None
    return path.name
