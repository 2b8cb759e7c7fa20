"""Reading the registry for people and the API: works with their certificates checked, and stored matches.

A match row is stored by ``vidlens match`` (``Matcher.match_file``); its query is identified by content
sha256, which is also the id of a library video, so a match links to the query's page when the library
holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.errors import NotFoundError, VidLensError
from vidlens.protect import certificate as certs
from vidlens.protect.tables import matches, works
from vidlens.store.schema import videos

if TYPE_CHECKING:
    from vidlens.protect.registry import Registry


def public_work(work: Any) -> dict[str, Any]:
    """A work as viewers see it: the file's name, never its server path."""
    d = work.to_dict()
    d["source_name"] = d.pop("source_uri").rsplit("/", 1)[-1]
    return d


def work_with_certificate(registry: Registry, ref: str) -> dict[str, Any]:
    """A work, its signed certificate, and whether the signature verifies under this install's trusted keys
    (its identity, and earlier own keys kept in ``keys/trusted``)."""
    work = registry.get(ref)
    try:
        certs.verify(work.certificate, [k.public for k in registry.identity.trusted()])
        check: dict[str, Any] = {"valid": True, "message": "signature valid with this install's keys"}
    except VidLensError as exc:
        check = {"valid": False, "message": exc.message}
    return {**public_work(work), "certificate": work.certificate, "certificate_check": check}


def _match_query() -> sa.Select[Any]:
    return (sa.select(matches, works.c.title.label("work_title"), works.c.owner.label("work_owner"),
                      works.c.duration_s.label("work_duration_s"),
                      sa.func.coalesce(videos.c.title, videos.c.filename).label("query_title"),
                      videos.c.id.label("query_video_id"), works.c.content_sha256.label("work_sha256"))
            .select_from(matches.outerjoin(works, works.c.id == matches.c.work_id)
                         .outerjoin(videos, videos.c.id == matches.c.query_sha256)))


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["query_name"] = d["query_title"] or d["query_uri"].rsplit("/", 1)[-1]
    d.pop("query_uri", None)  # a server path is no business of a viewer
    return d


def library_ids(registry: Registry, shas: list[str]) -> set[str]:
    """Which of these content hashes are library videos (a video's id is its content sha256)."""
    if not shas:
        return set()
    with registry.store.read() as conn:
        return set(conn.execute(sa.select(videos.c.id).where(videos.c.id.in_(shas))).scalars())


def list_matches(registry: Registry, *, work_id: str | None = None, query_sha256: str | None = None,
                 limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Stored matches, newest first."""
    q = _match_query().order_by(matches.c.created_at.desc(), matches.c.id.desc()).limit(limit).offset(offset)
    if work_id:
        q = q.where(matches.c.work_id == work_id)
    if query_sha256:
        q = q.where(matches.c.query_sha256 == query_sha256)
    with registry.store.read() as conn:
        return [_row(r) for r in conn.execute(q)]


def get_match(registry: Registry, match_id: int) -> dict[str, Any]:
    with registry.store.read() as conn:
        row = conn.execute(_match_query().where(matches.c.id == match_id)).first()
    if row is None:
        raise NotFoundError(f"no match {match_id}")
    return _row(row)
