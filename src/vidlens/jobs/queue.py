"""The durable job table: the database is the truth for jobs.

- ``enqueue`` is idempotent by key: the same key returns the existing job.
- ``claim`` takes the next ready job, or one whose worker stopped heart-beating
  (its lease expired), and leases it to the caller.
- ``heartbeat`` renews the lease; it answers False when the caller lost the job
  (lease taken over) or a cancel was requested, so the worker stops.
- ``complete`` only counts if the caller still holds the lease, so a worker that
  was presumed dead and comes back cannot finish a job a second time.
- ``complete`` with ``partial=`` ends the job ``partial``: its result is kept and the error says
  what part failed (an analysis where some analyzers failed).
- ``fail`` retries with exponential backoff until ``max_attempts``; errors that
  will not get better on retry (a corrupt file) fail at once. The error's code,
  message and details stay on the row.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from vidlens.errors import (
    AnalysisFailedError,
    ConflictError,
    MediaError,
    NotFoundError,
    UsageError,
    VidLensError,
)
from vidlens.settings import JobSettings
from vidlens.store.db import Store
from vidlens.store.schema import jobs

QUEUED, RUNNING, SUCCEEDED, PARTIAL, FAILED, CANCELLED = (
    "queued", "running", "succeeded", "partial", "failed", "cancelled")
FINAL = (SUCCEEDED, PARTIAL, FAILED, CANCELLED)
STATUSES = (QUEUED, RUNNING, *FINAL)
JobStatus = Literal["queued", "running", "succeeded", "partial", "failed", "cancelled"]  # STATUSES, for schemas
RETRYABLE = (PARTIAL, FAILED, CANCELLED)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    key: str
    video_id: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_after: float
    lease_owner: str | None
    lease_expires: float | None
    progress: float
    progress_message: str | None
    cancel_requested: bool
    error_code: str | None
    error_message: str | None
    error_detail: dict[str, Any] | None
    result: dict[str, Any] | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    completions: int
    priority: int = 0

    @classmethod
    def from_row(cls, row: Any) -> Job:
        m = row._mapping
        return cls(**{k: m[k] for k in cls.__slots__})  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


def _is_permanent(error: BaseException) -> bool:
    """Errors that a retry cannot fix."""
    return isinstance(error, (MediaError, UsageError, NotFoundError, AnalysisFailedError))


class JobQueue:
    def __init__(self, store: Store, settings: JobSettings) -> None:
        self.store = store
        self.settings = settings

    # -- producer side ---------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any] | None = None, *, key: str | None = None,
                video_id: str | None = None, priority: int = 0, max_attempts: int | None = None) -> Job:
        payload = dict(payload or {})
        key = key or f"{kind}:{video_id or ''}:{time.time_ns()}"
        now = time.time()
        with self.store.tx() as conn:
            existing = conn.execute(sa.select(jobs).where(jobs.c.key == key)).first()
            if existing is not None:
                return Job.from_row(existing)
            conn.execute(jobs.insert().values(
                kind=kind, key=key, video_id=video_id, payload=payload, status=QUEUED, priority=priority,
                attempts=0, max_attempts=max_attempts or self.settings.max_attempts, run_after=now,
                progress=0.0, cancel_requested=False, created_at=now, completions=0))
            return Job.from_row(conn.execute(sa.select(jobs).where(jobs.c.key == key)).one())

    def get(self, job_id: int) -> Job:
        with self.store.read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job with id {job_id}")
        return Job.from_row(row)

    def list(self, status: str | None = None, limit: int = 50, video_id: str | None = None) -> list[Job]:
        q = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if status:
            q = q.where(jobs.c.status == status)
        if video_id:
            q = q.where(jobs.c.video_id == video_id)
        with self.store.read() as conn:
            return [Job.from_row(r) for r in conn.execute(q)]

    def cancel(self, job_id: int) -> Job:
        now = time.time()
        with self.store.tx() as conn:
            job = self._locked(conn, job_id)
            if job.status == QUEUED:
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                    status=CANCELLED, finished_at=now, cancel_requested=True))
            elif job.status == RUNNING:
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(cancel_requested=True))
            else:
                raise ConflictError(f"job {job_id} is already {job.status}; only queued or running jobs can be cancelled")
        return self.get(job_id)

    def retry(self, job_id: int) -> Job:
        with self.store.tx() as conn:
            job = self._locked(conn, job_id)
            if job.status not in RETRYABLE:
                raise ConflictError(
                    f"job {job_id} is {job.status}; only partial, failed or cancelled jobs can be retried")
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                status=QUEUED, attempts=0, run_after=time.time(), cancel_requested=False, lease_owner=None,
                lease_expires=None, error_code=None, error_message=None, error_detail=None, finished_at=None,
                progress=0.0, progress_message=None))
        return self.get(job_id)

    # -- worker side -------------------------------------------------------------
    def claim(self, worker_id: str, kinds: list[str] | None = None) -> Job | None:
        now = time.time()
        lease = now + self.settings.lease_s
        with self.store.tx() as conn:
            ready = sa.or_(
                sa.and_(jobs.c.status == QUEUED, jobs.c.run_after <= now),
                sa.and_(jobs.c.status == RUNNING, jobs.c.lease_expires < now),
            )
            q = sa.select(jobs).where(ready).order_by(jobs.c.priority.desc(), jobs.c.id).limit(1)
            if kinds:
                q = q.where(jobs.c.kind.in_(kinds))
            row = conn.execute(self.store.for_update(q)).first()
            if row is None:
                return None
            job = Job.from_row(row)
            if job.status == RUNNING and job.cancel_requested:
                conn.execute(jobs.update().where(jobs.c.id == job.id).values(
                    status=CANCELLED, finished_at=now, lease_owner=None, lease_expires=None))
                return None
            if job.attempts >= job.max_attempts:
                # its last worker died holding it: nothing left to retry
                conn.execute(jobs.update().where(jobs.c.id == job.id).values(
                    status=FAILED, finished_at=now, lease_owner=None, lease_expires=None,
                    error_code="worker_lost",
                    error_message=f"worker {job.lease_owner} stopped heart-beating on the last attempt"))
                return None
            conn.execute(jobs.update().where(jobs.c.id == job.id).values(
                status=RUNNING, lease_owner=worker_id, lease_expires=lease, attempts=job.attempts + 1,
                started_at=now, progress=0.0))
            return Job.from_row(conn.execute(sa.select(jobs).where(jobs.c.id == job.id)).one())

    def heartbeat(self, job_id: int, worker_id: str, progress: float | None = None,
                  message: str | None = None) -> bool:
        """Renew the lease. False means: stop working on it (lost, or cancel requested)."""
        values: dict[str, Any] = {"lease_expires": time.time() + self.settings.lease_s}
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, float(progress)))
        if message is not None:
            values["progress_message"] = message[:500]
        with self.store.tx() as conn:
            res = conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.lease_owner == worker_id, jobs.c.status == RUNNING,
            ).values(**values))
            if res.rowcount != 1:
                return False
            cancel = conn.execute(sa.select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar_one()
        return not cancel

    def complete(self, job_id: int, worker_id: str, result: dict[str, Any] | None = None, *,
                 partial: VidLensError | None = None) -> bool:
        """Finish the job ``succeeded``, or ``partial`` with ``partial`` as its error (never retried)."""
        values: dict[str, Any] = {"status": SUCCEEDED}
        if partial is not None:
            values.update(status=PARTIAL, error_code=partial.code, error_message=partial.message[:2000],
                          error_detail=dict(partial.details))
        with self.store.tx() as conn:
            res = conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.lease_owner == worker_id, jobs.c.status == RUNNING,
            ).values(**values, result=result or {}, progress=1.0, finished_at=time.time(),
                     lease_owner=None, lease_expires=None, completions=jobs.c.completions + 1))
            return res.rowcount == 1

    def mark_cancelled(self, job_id: int, worker_id: str) -> None:
        with self.store.tx() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.lease_owner == worker_id).values(
                status=CANCELLED, finished_at=time.time(), lease_owner=None, lease_expires=None))

    def fail(self, job_id: int, worker_id: str, error: BaseException) -> str:
        """Record the error; requeue with backoff or fail for good. Returns the new status."""
        if isinstance(error, VidLensError):
            code, message, detail = error.code, error.message, dict(error.details)
        else:
            code, message = "internal", f"{type(error).__name__}: {error}"
            detail = {"traceback": "".join(traceback.format_exception(error))[-4000:]}
        with self.store.tx() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id, jobs.c.lease_owner == worker_id)).first()
            if row is None:
                return "lost"
            job = Job.from_row(row)
            retry = not _is_permanent(error) and job.attempts < job.max_attempts
            values: dict[str, Any] = {"error_code": code, "error_message": message[:2000],
                                      "error_detail": detail, "lease_owner": None, "lease_expires": None}
            if retry:
                values.update(status=QUEUED,
                              run_after=time.time() + self.settings.backoff_s * 2 ** (job.attempts - 1))
            else:
                values.update(status=FAILED, finished_at=time.time())
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))
            return str(values["status"])

    @staticmethod
    def _locked(conn: sa.Connection, job_id: int) -> Job:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job with id {job_id}")
        return Job.from_row(row)
