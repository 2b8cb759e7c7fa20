"""The review queue: items other domains raise for a person to approve, reject or relabel.

Any domain may call ``platform.service("review").create(...)`` in-process or ``POST /api/review``
over HTTP. A decision is final (deciding twice is a conflict) and is written together with
its audit row in one transaction.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.api import audit
from vidlens.api.tables import review_items
from vidlens.errors import ConflictError, NotFoundError, UsageError
from vidlens.store.schema import videos

if TYPE_CHECKING:
    from vidlens.api.auth import Principal
    from vidlens.services import ServiceContext
    from vidlens.store.db import Store

OPEN = "open"
DECISIONS = {"approve": "approved", "reject": "rejected", "relabel": "relabelled"}
STATUSES = (OPEN, *DECISIONS.values())


class ReviewQueue:
    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> ReviewQueue:
        return cls(ctx.store)

    def create(
        self,
        *,
        kind: str,
        reason: str,
        subject: str | None = None,
        video_id: str | None = None,
        source: str = "api",
        label: str | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        payload: dict[str, Any] | None = None,
        created_by: str | None = None,
    ) -> dict[str, Any]:
        if not kind.strip() or not reason.strip():
            raise UsageError("a review item needs a kind and a reason")
        if subject is None and video_id is None:
            raise UsageError("a review item needs a subject or a video_id")
        if start_s is not None and end_s is not None and end_s < start_s:
            raise UsageError(f"end_s ({end_s}) is before start_s ({start_s})")
        with self.store.tx() as conn:
            if (
                video_id is not None
                and conn.execute(sa.select(videos.c.id).where(videos.c.id == video_id)).first() is None
            ):
                raise NotFoundError(f"no video '{video_id}' in the library")
            res = conn.execute(
                review_items.insert().values(
                    subject=subject or f"video:{video_id}",
                    video_id=video_id,
                    kind=kind,
                    source=source,
                    reason=reason,
                    label=label,
                    start_s=start_s,
                    end_s=end_s,
                    payload=payload,
                    status=OPEN,
                    created_by=created_by,
                    created_at=time.time(),
                )
            )
            item_id = res.inserted_primary_key[0]
        return self.get(int(item_id))

    def get(self, item_id: int) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(review_items).where(review_items.c.id == item_id)).first()
        if row is None:
            raise NotFoundError(f"no review item {item_id}")
        return dict(row._mapping)

    def list(
        self,
        status: str | None = OPEN,
        video_id: str | None = None,
        kind: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise UsageError(f"unknown review status '{status}': expected one of {', '.join(STATUSES)}")
        q = sa.select(review_items).order_by(review_items.c.id).limit(limit).offset(offset)
        if status:
            q = q.where(review_items.c.status == status)
        if video_id:
            q = q.where(review_items.c.video_id == video_id)
        if kind:
            q = q.where(review_items.c.kind == kind)
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def decide(
        self,
        item_id: int,
        decision: str,
        *,
        principal: Principal,
        reason: str,
        label: str | None = None,
        method: str = "POST",
        path: str = "",
    ) -> dict[str, Any]:
        if decision not in DECISIONS:
            raise UsageError(f"unknown decision '{decision}': expected one of {', '.join(DECISIONS)}")
        if not reason.strip():
            raise UsageError("a decision needs a reason")
        if decision == "relabel" and not (label or "").strip():
            raise UsageError("relabel needs the new label")
        with self.store.tx() as conn:
            row = conn.execute(sa.select(review_items).where(review_items.c.id == item_id)).first()
            if row is None:
                raise NotFoundError(f"no review item {item_id}")
            if row.status != OPEN:
                raise ConflictError(f"review item {item_id} was already {row.status} by {row.decided_by}")
            conn.execute(
                review_items.update()
                .where(review_items.c.id == item_id)
                .values(
                    status=DECISIONS[decision],
                    decision=decision,
                    decided_label=label if decision == "relabel" else None,
                    decided_by=principal.name,
                    decided_at=time.time(),
                    decision_reason=reason,
                )
            )
            audit.record(
                conn,
                principal=principal,
                method=method,
                path=path or f"/api/review/{item_id}/decision",
                action=f"review.{decision}",
                subject=f"review:{item_id}",
                status_code=200,
                detail={"reason": reason, "label": label, "item_subject": row.subject, "kind": row.kind},
            )
        return self.get(item_id)
