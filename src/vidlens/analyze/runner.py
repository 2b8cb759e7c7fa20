"""Run analyzers over a video: one decode, every analyzer concurrently, results cached.

Several videos may be analysed at once by one runner (``vidlens analyze`` does so for
a batch): analyzers keep no per-video state, and models load under one lock.

The cache key is (content sha256, analyzer name@version, config hash): asking
again for the same analysis of the same bytes is free. A failing analyzer stores
its error and the others finish normally. When a video's analysis ends, its
document is composed from the stored results and stored with its projections
(``vidlens.analyze.documents``); the outcome carries that stored document.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from vidlens.analyze.base import AnalysisContext, Analyzer
from vidlens.errors import PRIVATE_DETAILS, CancelledError, VidLensError, public_details
from vidlens.media.decode import FrameFanout
from vidlens.store.schema import results
from vidlens.types import FrameSample, Video

if TYPE_CHECKING:
    from vidlens.blobs.local import BlobStore
    from vidlens.plugins import PluginRegistry
    from vidlens.settings import Settings
    from vidlens.store.db import Store


class RunnerServices(Protocol):
    """What a runner uses: the analyzer plugins and their settings, the store, blobs and the documents service.

    A ``Platform`` provides them; so can anything narrower (a test, a camera supervisor).
    """

    plugins: PluginRegistry
    settings: Settings
    store: Store
    blobs: BlobStore

    def service(self, name: str) -> Any: ...

log = logging.getLogger(__name__)
OK, FAILED = "ok", "failed"
_loading = threading.Lock()  # videos analysed at once load each model once, not once each


@dataclass
class AnalyzerOutcome:
    name: str
    version: str
    status: str  # ok | failed
    cached: bool
    seconds: float
    document: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    cpu_seconds: float = 0.0  # CPU time of the analyzer's own thread (models run single-threaded in it)


@dataclass
class AnalysisOutcome:
    video: Video
    analyzers: dict[str, AnalyzerOutcome] = field(default_factory=dict)
    decode_seconds: float = 0.0
    load_seconds: float = 0.0
    frames: int = 0
    document: dict[str, Any] | None = None  # the video's stored document, written when the analysis ended
    status: str | None = None  # the stored document's status: analysed | partial | failed

    def summary(self) -> dict[str, Any]:
        return {
            "video_id": self.video.id,
            "status": self.status,
            "frames": self.frames,
            "decode_seconds": round(self.decode_seconds, 3),
            "load_seconds": round(self.load_seconds, 3),
            "analyzers": {n: {"status": o.status, "cached": o.cached, "seconds": round(o.seconds, 3),
                              "cpu_seconds": round(o.cpu_seconds, 3), **({"error": o.error} if o.error else {})} for n, o in self.analyzers.items()},
        }


def _error_doc(exc: BaseException) -> dict[str, Any]:
    """The error an analyzer's result and the document keep; libav's log and paths go to the log only."""
    if isinstance(exc, VidLensError):
        if exc.details.keys() & PRIVATE_DETAILS:
            log.info("%s: %s", exc.message, {k: exc.details[k] for k in exc.details.keys() & PRIVATE_DETAILS})
        return {"code": exc.code, "message": exc.message, "details": public_details(exc.details)}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}


class AnalysisRunner:
    def __init__(self, services: RunnerServices, analyzers: list[str] | None = None) -> None:
        self.services = services
        registered = {p.manifest.name: p for p in services.plugins.of_kind("analyzer")}
        names = analyzers or sorted(registered)
        self.analyzers: list[Analyzer] = []
        for name in names:
            plugin = services.plugins.get(name, kind="analyzer")
            cls: type[Analyzer] = plugin.cls
            self.analyzers.append(cls.from_dict(services.settings.plugins.get(name)))

    def run(self, video: Video, *, progress: Callable[[float], None] | None = None,
            cancelled: Callable[[], bool] | None = None, force: bool = False,
            analyzer_progress: Callable[[str, float], None] | None = None) -> AnalysisOutcome:
        """Analyse ``video``. ``progress`` follows the decode; ``analyzer_progress(name, fraction)`` each analyzer."""
        outcome = AnalysisOutcome(video)
        todo: list[Analyzer] = []
        for a in self.analyzers:
            cached = None if force else self.cached(video, a)
            if cached is not None:
                outcome.analyzers[a.name] = AnalyzerOutcome(a.name, a.manifest.version, OK, True, 0.0, cached)
            else:
                todo.append(a)
        stopped = threading.Event()

        def is_cancelled() -> bool:
            if cancelled is not None and cancelled():
                stopped.set()
            return stopped.is_set()

        ctx = AnalysisContext(video=video, blobs=self.services.blobs, cancelled=is_cancelled)
        t_load = time.perf_counter()
        docs: dict[str, Any] = {}
        with _loading:
            for a in list(todo):
                try:
                    a.prepare(ctx)
                except BaseException as exc:  # a model that does not load fails its analyzer only
                    docs[a.name] = exc
        outcome.load_seconds = time.perf_counter() - t_load
        if len(docs) == len(todo):
            self._record(video, todo, docs, {}, outcome)
            self._store_document(video, outcome)
            return outcome
        duration = max(video.duration_s, 1e-6)
        fan = FrameFanout(video, threads=self.services.settings.decode_threads)
        last_report = [0.0]

        def on_frame(index: int, t: float) -> None:
            if index % 50 == 0 and is_cancelled():
                fan.stop()
            if progress is not None and t - last_report[0] >= max(0.5, duration / 200):
                last_report[0] = t
                progress(min(0.99, t / duration))

        fan.on_frame = on_frame
        timings: dict[str, tuple[float, float]] = {}
        frameless: list[threading.Thread] = []
        for a in todo:
            if a.name in docs:
                continue
            sampling, sound = a.sampling_for(video), a.audio_for(video)
            if sampling is None and sound is None:  # neither frames nor sound to hand it: runs beside the decode
                call = self._timed(a, ctx, timings, analyzer_progress)
                frameless.append(threading.Thread(
                    target=lambda a=a, call=call: docs.__setitem__(a.name, call(iter(()))),
                    name=f"vidlens-{a.name}", daemon=True))
                continue
            if sampling is not None and not video.width:  # audio-only: nothing to see, picture analyzers don't run
                continue
            # frames and sound from the one decode, in one queue (speech and technical hear it there)
            heard = replace(ctx, sound_in_frames=sound is not None)
            fan.subscribe(a.name, sampling, self._timed(a, heard, timings, analyzer_progress), audio=sound)
        for t in frameless:
            t.start()
        t0 = time.perf_counter()
        if fan.names:  # only analyzers of frames or sound need a decode
            try:
                docs.update(fan.run())
            except VidLensError as exc:  # the decode itself failed: every frame analyzer fails with it
                docs.update({name: exc for name in fan.names})
        outcome.decode_seconds = time.perf_counter() - t0
        outcome.frames = fan.frames_decoded
        for t in frameless:
            t.join()
        if stopped.is_set():  # the analyzers saw part of the video: caching it would serve it as the whole
            raise CancelledError(f"analysis of {video.uri} was cancelled; nothing was stored",
                                 details={"video_id": video.id})
        self._record(video, todo, docs, timings, outcome)
        self._store_document(video, outcome)
        if progress is not None:
            progress(1.0)
        return outcome

    def record(self, video: Video, docs: dict[str, Any],
               timings: dict[str, tuple[float, float]] | None = None) -> AnalysisOutcome:
        """Store results made elsewhere (documents or errors by analyzer name: the merged ranges of a split
        analysis, ``vidlens.analyze.ranges``) as ``run`` stores its own, then the video's document."""
        outcome = AnalysisOutcome(video)
        self._record(video, [a for a in self.analyzers if a.name in docs], docs, timings or {}, outcome)
        self._store_document(video, outcome)
        return outcome

    def _store_document(self, video: Video, outcome: AnalysisOutcome) -> None:
        """Store the video's document, built from the results of this run's analyzers (and any others stored)."""
        stored = self.services.service("documents").write(
            video.id, prefer={a.name: (a.manifest.version, a.config_hash()) for a in self.analyzers})
        outcome.document, outcome.status = stored.document, stored.status

    def _record(self, video: Video, todo: list[Analyzer], docs: dict[str, Any],
                timings: dict[str, tuple[float, float]], outcome: AnalysisOutcome) -> None:
        """Store each analyzer's document, or its error, and note it in ``outcome``."""
        for a in todo:
            if a.name not in docs:  # a picture analyzer on an audio-only file
                continue
            doc = docs[a.name]
            if isinstance(doc, BaseException):
                err = _error_doc(doc)
                wall, cpu = timings.get(a.name, (0.0, 0.0))
                outcome.analyzers[a.name] = AnalyzerOutcome(a.name, a.manifest.version, FAILED, False, wall,
                                                            error=err, cpu_seconds=cpu)
                self._store(video, a, FAILED, None, err)
            else:
                wall, cpu = timings.get(a.name, (0.0, 0.0))
                outcome.analyzers[a.name] = AnalyzerOutcome(a.name, a.manifest.version, OK, False, wall, doc,
                                                            cpu_seconds=cpu)
                self._store(video, a, OK, doc, None)

    @staticmethod
    def _timed(a: Analyzer, ctx: AnalysisContext, timings: dict[str, tuple[float, float]],
               report: Callable[[str, float], None] | None = None) -> Callable[[Iterator[FrameSample]], Any]:
        if report is not None:
            ctx = replace(ctx, progress=lambda f: report(a.name, f))

        def call(frames: Iterator[FrameSample]) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return a.analyze(ctx, frames)
            except BaseException as exc:  # stored as this analyzer's failure
                return exc
            finally:
                timings[a.name] = (time.perf_counter() - t0, time.thread_time() - c0)

        return call

    def cached(self, video: Video, a: Analyzer) -> dict[str, Any] | None:
        """``a``'s stored result for ``video`` at its version and config, if it succeeded."""
        with self.services.store.read() as conn:
            row = conn.execute(sa.select(results.c.data).where(
                results.c.video_id == video.id, results.c.analyzer == a.name,
                results.c.version == a.manifest.version, results.c.config_hash == a.config_hash(),
                results.c.status == OK)).first()
        return row[0] if row is not None else None

    def _store(self, video: Video, a: Analyzer, status: str, doc: dict[str, Any] | None,
               err: dict[str, Any] | None) -> None:
        key = dict(video_id=video.id, analyzer=a.name, version=a.manifest.version, config_hash=a.config_hash())
        with self.services.store.tx() as conn:
            conn.execute(results.delete().where(*(getattr(results.c, k) == v for k, v in key.items())))
            conn.execute(results.insert().values(**key, status=status, data=doc, error=err, created_at=time.time()))
