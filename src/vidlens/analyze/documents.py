"""The stored analysis document: one per video, composed from stored results, written with its projections.

Analyzers store their own results (``results``, also the analysis cache). When an analysis ends, the
runner asks for the video's document: it is composed from the newest stored result of each analyzer
(preferring the versions and settings that run used), and written to ``documents`` together with every
projection (``Capability.projections``) in one transaction: the document and the tables derived from it
change together or not at all. The CLI, the API and the web UI read the stored document; nothing
rebuilds it on the way out. ``reindex`` builds documents and projections again from the stored results,
for data dirs analysed before documents were stored and after a projection is added or changed; with no
videos named it also has the projections of other stored records (camera events: Find's moments of
events) written again by the service that stores them (``Capability.records``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vidlens.analyze.document import VERSION, build_document
from vidlens.analyze.tables import documents
from vidlens.capability import Projection
from vidlens.errors import NotFoundError, StoreError, UsageError
from vidlens.services import ServiceContext
from vidlens.store.db import Store
from vidlens.store.schema import results, videos
from vidlens.types import Video

ANALYSED, PARTIAL, FAILED = "analysed", "partial", "failed"
ResultKey = tuple[str, str]  # (analyzer version, config hash)


@dataclass(frozen=True)
class StoredDocument:
    video_id: str
    version: int
    status: str  # analysed | partial | failed
    analyzers: dict[str, dict[str, Any]]  # name -> version, config_hash, status (and error) of its result
    document: dict[str, Any]
    created_at: float

    @property
    def failed(self) -> list[str]:
        """The analyzers whose result is a failure."""
        return failed_analyzers(self.analyzers)


@dataclass
class ReindexCounts:
    documents: int = 0  # videos whose document was built again from their results
    projected: int = 0  # videos whose projections were rebuilt from the stored document
    skipped: int = 0  # videos with nothing to index (never analysed; or no document for --projection)
    records: dict[str, int] = field(default_factory=dict)  # record kind (watch_event ...) -> records re-projected

    def to_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "projected": self.projected, "skipped": self.skipped,
                **({"records": self.records} if any(self.records.values()) else {})}


def failed_analyzers(analyzers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted(n for n, a in analyzers.items() if a.get("status") != "ok")


def document_status(analyzers: Mapping[str, Mapping[str, Any]]) -> str:
    """``failed`` when every analyzer failed, ``partial`` when some did, else ``analysed``."""
    failed = failed_analyzers(analyzers)
    if not failed:
        return ANALYSED
    return FAILED if len(failed) == len(analyzers) else PARTIAL


class DocumentStore:
    """Composes, stores and reads analysis documents; keeps the projections in step with them."""

    def __init__(self, store: Store, projections: Sequence[Projection],
                 records: Mapping[str, tuple[Callable[[], Any], Sequence[str]]] | None = None) -> None:
        """``records``: per other kind of stored record, the service that re-projects it (built on first use)
        and the names of its projections."""
        self.store = store
        self.projections = list(projections)
        self.records = dict(records or {})

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> DocumentStore:
        caps = ctx.store.capabilities
        records = {kind: (lambda s=service: ctx.service(s), [p.name for p in caps.projections(kind)])
                   for kind, service in caps.record_services().items()}
        return cls(ctx.store, caps.projections(), records)

    # -- reading -----------------------------------------------------------------
    def get(self, video_id: str) -> StoredDocument | None:
        with self.store.read() as conn:
            row = conn.execute(sa.select(documents).where(documents.c.video_id == video_id)).first()
        return _stored(row) if row is not None else None

    # -- writing -----------------------------------------------------------------
    def write(self, video_id: str, prefer: Mapping[str, ResultKey] | None = None) -> StoredDocument:
        """Compose the video's document from its stored results and store it with every projection.

        ``prefer`` names the result (version, config hash) to take for an analyzer that has several;
        others take their newest. An unchanged document is not written again."""
        with self.store.tx() as conn:
            return self._write(conn, video_id, prefer, force=False)

    def _write(self, conn: Connection, video_id: str, prefer: Mapping[str, ResultKey] | None,
               *, force: bool) -> StoredDocument:
        probe = conn.execute(sa.select(videos.c.probe).where(videos.c.id == video_id)).scalar()
        if probe is None:
            raise NotFoundError(f"no video '{video_id}' in the library")
        row = conn.execute(sa.select(documents).where(documents.c.video_id == video_id)).first()
        current = _stored(row) if row is not None else None
        if prefer is None and current is not None:
            prefer = {n: (a["version"], a["config_hash"]) for n, a in current.analyzers.items()}
        chosen = _chosen_results(conn, video_id, prefer or {})
        found = {n: r.data for n, r in chosen.items() if r.status == "ok" and r.data}
        errors = {n: r.error or {"code": "internal", "message": "failed without an error record"}
                  for n, r in chosen.items() if r.status != "ok"}
        doc = json.loads(json.dumps(build_document(Video.from_dict(probe), found, errors)))
        analyzers = {n: {"version": r.version, "config_hash": r.config_hash, "status": r.status,
                         **({"error": errors[n]} if n in errors else {})} for n, r in sorted(chosen.items())}
        if not force and current is not None and current.document == doc and current.analyzers == analyzers:
            return current
        new = StoredDocument(video_id, VERSION, document_status(analyzers), analyzers, doc, time.time())
        conn.execute(documents.delete().where(documents.c.video_id == video_id))
        conn.execute(documents.insert().values(video_id=video_id, version=new.version, status=new.status,
                                               analyzers=analyzers, document=doc, created_at=new.created_at))
        self._project(conn, video_id, doc, self.projections)
        return new

    @staticmethod
    def _project(conn: Connection, video_id: str, doc: Mapping[str, Any], projections: Sequence[Projection]) -> None:
        for p in projections:
            try:
                p.clear(conn, video_id)
                p.apply(conn, video_id, doc)
            except Exception as exc:  # the transaction rolls back: document and projections stay as they were
                raise StoreError(f"projection '{p.name}' failed for video {video_id[:12]}: "
                                 f"{type(exc).__name__}: {exc}", details={"projection": p.name}) from exc

    # -- rebuilding --------------------------------------------------------------
    def projection_names(self) -> list[str]:
        """Projections of documents, then those of other stored records."""
        return [p.name for p in self.projections] + [n for _, names in self.records.values() for n in names]

    def reindex(self, video_ids: Sequence[str] | None = None, projections: Sequence[str] | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> ReindexCounts:
        """Build documents and all projections again from stored results (every video, or ``video_ids``).

        With ``projections``, only those are rebuilt, from each video's stored document. Unless videos are
        named, the chosen projections of other records (every camera event ...) are written again too."""
        only = None
        if projections:
            unknown = sorted(set(projections) - set(self.projection_names()))
            if unknown:
                raise UsageError(f"unknown projection(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(self.projection_names())}")
            only = [p for p in self.projections if p.name in projections]
        counts = ReindexCounts()
        if video_ids is None:
            for kind, (service, names) in self.records.items():
                chosen = [n for n in names if not projections or n in projections]
                if chosen:
                    counts.records[kind] = service().reproject(
                        chosen, None if progress is None else lambda d, t, k=kind: progress(d, t, k))
        if only == []:  # only projections of other records were asked for
            return counts
        if video_ids is None:
            with self.store.read() as conn:
                video_ids = list(conn.execute(sa.select(videos.c.id).order_by(videos.c.created_at, videos.c.id))
                                 .scalars())
        for i, video_id in enumerate(video_ids):
            with self.store.tx() as conn:
                row = conn.execute(sa.select(documents).where(documents.c.video_id == video_id)).first()
                analysed = conn.execute(sa.select(results.c.id).where(results.c.video_id == video_id)
                                        .limit(1)).first() is not None
                if only is None and analysed:
                    self._write(conn, video_id, None, force=True)
                    counts.documents += 1
                elif row is not None:  # only some projections, or results gone: keep the stored document
                    self._project(conn, video_id, row.document, self.projections if only is None else only)
                    counts.projected += 1
                else:
                    counts.skipped += 1
            if progress is not None:
                progress(i + 1, len(video_ids), video_id)
        return counts


def _stored(row: Any) -> StoredDocument:
    return StoredDocument(row.video_id, row.version, row.status, row.analyzers, row.document, row.created_at)


def _chosen_results(conn: Connection, video_id: str, prefer: Mapping[str, ResultKey]) -> dict[str, Any]:
    """Per analyzer, its result for ``prefer[analyzer]`` when stored, else its newest."""
    rows = conn.execute(sa.select(results).where(results.c.video_id == video_id)
                        .order_by(results.c.created_at, results.c.id)).all()
    chosen: dict[str, Any] = {}
    for r in rows:
        if r.analyzer not in chosen or prefer.get(r.analyzer) != (chosen[r.analyzer].version,
                                                                   chosen[r.analyzer].config_hash):
            chosen[r.analyzer] = r
    return chosen
