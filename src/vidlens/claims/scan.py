"""Claims from matches: the registered works copied in a piece of media (protect's ``Matcher``) and the
digital humans seen or heard in it without consent for the stated use (humans' ``Scanner``), each
filed as one claim per subject under that subject's policy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens.claims.book import ClaimBook, Segment, Subject
from vidlens.media.probe import probe

if TYPE_CHECKING:
    from vidlens.humans.registry import Human, HumanRegistry
    from vidlens.humans.scan import Scanner
    from vidlens.protect.matcher import Matcher
    from vidlens.protect.registry import Registry, Work


def work_subject(work: Work) -> Subject:
    return Subject("work", work.id, work.title, work.owner, work.policy)


def human_subject(human: Human) -> Subject:
    return Subject("human", human.id, human.name, human.owner, "track")


def subject(kind: str, ref: str, works: Registry, humans: HumanRegistry) -> Subject:
    """A registered work or digital human by id (or unique prefix)."""
    from vidlens.errors import UsageError

    if kind == "work":
        return work_subject(works.get(ref))
    if kind == "human":
        return human_subject(humans.get(ref))
    raise UsageError(f"a claim subject is a work or a human, got {kind!r}")


def claim_media(book: ClaimBook, matcher: Matcher, scanner: Scanner, media: str | Path, /, *, uploader: str,
                video_id: str | None = None, use: str | None = None, territory: str | None = None,
                **who: Any) -> list[dict[str, Any]]:
    """Match ``media`` against both registries and file (or find) a claim for each subject found."""
    video = probe(media, require_video=False)
    found: dict[tuple[str, str], tuple[Subject, list[Segment]]] = {}
    for m in matcher.match_file(video.uri):
        s = m.segment
        found.setdefault(("work", m.work.id), (work_subject(m.work), []))[1].append(
            Segment(m.kind, s.query_start_s, s.query_end_s, s.score))
    for h in scanner.scan(video.uri, use=use, territory=territory):
        if not h.authorised:  # a use the person consented to is not claimed
            found.setdefault(("human", h.human.id), (human_subject(h.human), []))[1].append(
                Segment(h.kind, h.start, h.end, h.score))
    out = []
    for subj, segments in found.values():
        claim = book.file(subj, segments, media_sha256=video.sha256, media_name=Path(media).name,
                          uploader=uploader, video_id=video_id, **who)
        if claim is not None:
            out.append(claim)
    return out
