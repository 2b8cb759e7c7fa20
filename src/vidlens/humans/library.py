"""Registered humans across the analysed library, without decoding a frame again.

The ``faces`` analyzer already stores one embedding per distinct person of every analysed video
(the ``people`` projection) and their spans (``tracks``). Each person's embedding is compared with
every registered face sample; a person whose best similarity to a human passes ``face_threshold``
is that human for every span they appear in. Uploads are covered once their analysis has run.
The person's embedding must come from the same face model as the registry's (the default SFace):
a library analysed with a user's own recognizer is not comparable and is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import sqlalchemy as sa

from vidlens.analyze.tables import people, tracks
from vidlens.humans.matching import FaceHit, FaceMatcher
from vidlens.humans.registry import Human, HumanRegistry
from vidlens.humans.scan import Match
from vidlens.store.db import Store

FACE_DIM = 128


def people_matches(store: Store, matcher: FaceMatcher,
                   video_id: str | None = None) -> dict[str, list[tuple[float, float, FaceHit]]]:
    """``{video_id: [(start, end, hit), ...]}``: each analysed person (of every video, or one) whom
    ``matcher`` takes for one of its people, once per span they appear in. One person is one known
    person at most (the best)."""
    if not len(matcher):
        return {}
    q = sa.select(people.c.video_id, people.c.person_id, people.c.embedding).where(people.c.embedding.is_not(None))
    if video_id is not None:
        q = q.where(people.c.video_id == video_id)
    with store.read() as conn:
        persons = [r for r in conn.execute(q) if len(r.embedding) == FACE_DIM * 4]
        if not persons:
            return {}
        spans: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        tq = sa.select(tracks.c.video_id, tracks.c.ref, tracks.c.start_s, tracks.c.end_s).where(tracks.c.kind == "person")
        if video_id is not None:
            tq = tq.where(tracks.c.video_id == video_id)
        for t in conn.execute(tq):
            spans[(t.video_id, t.ref)].append((float(t.start_s), float(t.end_s)))
    vectors = np.stack([np.frombuffer(r.embedding, np.float32) for r in persons])
    found: dict[str, list[tuple[float, float, FaceHit]]] = defaultdict(list)
    for person, hits in zip(persons, matcher.match_many(vectors), strict=True):
        for start, end in sorted(spans.get((person.video_id, str(person.person_id)), [])) if hits else []:
            found[person.video_id].append((start, end, hits[0]))
    return {v: sorted(found[v], key=lambda x: (x[0], x[2].ref)) for v in sorted(found)}


def library_matches(registry: HumanRegistry, *, use: str | None = None, territory: str | None = None,
                    video_id: str | None = None) -> dict[str, list[Match]]:
    """``{video_id: [Match, ...]}`` for every analysed video (or one) in which a registered face appears."""
    known: dict[str, Human] = {}
    out: dict[str, list[Match]] = {}
    for vid, found in people_matches(registry.store, registry.face_matcher(), video_id).items():
        for start, end, hit in found:
            human = known.get(hit.ref) or known.setdefault(hit.ref, registry.get(hit.ref))
            out.setdefault(vid, []).append(Match(human, "face", start, end, hit.score,
                                                 human.authorised(use, territory)))
    return out


def to_json(found: dict[str, list[Match]]) -> dict[str, Any]:
    return {"videos": [{"video_id": v, "matches": [m.to_dict() for m in ms]} for v, ms in found.items()]}
