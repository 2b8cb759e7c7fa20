"""Recommendations: what a viewer may watch next, from what they and others played, liked and skipped,
and from what the videos show and say (docs/search.md, "Recommendations").

Three signals score every library video the viewer has not met yet:

- **co-occurrence** (behaviour): item-to-item cosine over viewers, ``|U(i) ∩ U(j)| / sqrt(|U(i)| |U(j)|)``
  where ``U(i)`` are the viewers who played or liked ``i``, summed over the viewer's history by its
  weight (like 3, play 1; a skip counts against).
- **content**: cosine of the videos' centred picture and words vectors (``Search.video_content``) to the
  history, so a video nobody has watched yet can still be recommended (cold start of items). It weighs
  fully only for such videos; for a video others have played it weighs ``content_warm``, since what
  viewers did says more about it than what it looks like.
- **popularity**: viewers who played or liked it (log-scaled), which is all a new viewer has (cold start
  of viewers).

Each signal is scaled to 0..1 over the candidates and blended; the weight of co-occurrence grows with
how much evidence of it there is. The weights are chosen on the tune half of simulated viewers and checked
on the other half (bench/bench_recommend.py, docs/benchmarks.md). The list is then walked best first and a near duplicate of a video
already taken is left out, so a re-upload, a trimmed copy or an excerpt never fills two places: two
videos are near duplicates when at least ``near_duplicate_share`` of the keyframes of one of them have a
match (cosine at least ``near_duplicate_frame_similarity``) in the other; videos without pictures when
their words vectors are that similar.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa

from vidlens.errors import NotFoundError, UsageError
from vidlens.search.settings import SearchSettings
from vidlens.search.tables import events
from vidlens.store.schema import videos

if TYPE_CHECKING:
    from vidlens.search.service import Search
    from vidlens.services import ServiceContext
    from vidlens.store.db import Store

WEIGHTS = {"play": 1.0, "like": 3.0, "skip": -2.0}
USER_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
MAX_EVENTS_READ = 200_000  # co-viewers' events read per request, newest first


@dataclass(frozen=True)
class Blend:
    """How the signals are weighed (chosen on one half of simulated viewers: bench/bench_recommend.py)."""

    content: float = 2.0  # for a video nobody has played or liked yet (cold start of items)
    behaviour: float = 1.0
    popularity: float = 0.1
    behaviour_evidence: float = 3.0  # co-viewer mass at which behaviour has half its weight
    content_warm: float = 0.0  # content's weight for a video others have played or liked


def affinities(rows: Iterable[tuple[str, str, str]]) -> dict[str, dict[str, float]]:
    """Per viewer, per video: the sum of event weights (``rows`` are ``(user, video, kind)``)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for user, video, kind in rows:
        out[user][video] += WEIGHTS[kind]
    return {u: dict(v) for u, v in out.items()}


def cooccurrence(history: Mapping[str, float], others: Mapping[str, Mapping[str, float]]
                 ) -> tuple[dict[str, float], dict[str, str], float]:
    """Item-to-item cosine over viewers, summed over ``history`` by weight.

    Returns the score per video, the history video that contributed most to it, and the co-viewer mass
    (how many other viewers share a liked or played video with this one)."""
    viewers: dict[str, set[str]] = defaultdict(set)
    for user, aff in others.items():
        for video, w in aff.items():
            if w > 0:
                viewers[video].add(user)
    scores: dict[str, float] = defaultdict(float)
    via: dict[str, tuple[float, str]] = {}
    mass: set[str] = set()
    for i, wi in history.items():
        ui = viewers.get(i)
        if not ui:
            continue
        mass |= ui
        pairs: dict[str, int] = defaultdict(int)
        for u in ui:
            for j, w in others[u].items():
                if w > 0 and j != i:
                    pairs[j] += 1
        for j, both in pairs.items():
            s = wi * both / math.sqrt(len(ui) * len(viewers[j]))
            scores[j] += s
            if s > via.get(j, (-math.inf, ""))[0]:
                via[j] = (s, i)
    return dict(scores), {j: i for j, (_, i) in via.items()}, float(len(mass))


def content_similarity(vectors: Mapping[str, Mapping[str, np.ndarray]], a: str, b: str) -> float | None:
    """Mean cosine over the kinds (picture, words) both videos have; None when they share none."""
    va, vb = vectors.get(a, {}), vectors.get(b, {})
    sims = [float(va[k] @ vb[k]) for k in ("picture", "words") if k in va and k in vb]
    return sum(sims) / len(sims) if sims else None


def content_scores(history: Mapping[str, float], vectors: Mapping[str, Mapping[str, np.ndarray]],
                   candidates: Iterable[str]) -> tuple[dict[str, float], dict[str, str]]:
    """Weighted mean similarity of each candidate to the history, and its most similar history video."""
    scores, via = {}, {}
    total = sum(abs(w) for w in history.values()) or 1.0
    for j in candidates:
        best, s = (-math.inf, ""), 0.0
        for i, w in history.items():
            sim = content_similarity(vectors, i, j)
            if sim is None:
                continue
            s += w * sim
            if w > 0 and sim > best[0]:
                best = (sim, i)
        scores[j] = s / total
        if best[1]:
            via[j] = best[1]
    return scores, via


def _scaled(values: Mapping[str, float], keys: list[str]) -> np.ndarray:
    a = np.array([values.get(k, 0.0) for k in keys], np.float64)
    lo, hi = float(a.min(initial=0.0)), float(a.max(initial=0.0))
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


@dataclass
class Ranking:
    order: list[str]
    scores: dict[str, float] = field(default_factory=dict)  # video -> blended score
    parts: dict[str, dict[str, float]] = field(default_factory=dict)  # video -> signal -> scaled value
    via: dict[str, dict[str, str]] = field(default_factory=dict)  # video -> signal -> history video


def rank(history: Mapping[str, float], others: Mapping[str, Mapping[str, float]],
         vectors: Mapping[str, Mapping[str, np.ndarray]], popularity: Mapping[str, int], library: list[str],
         blend: Blend, signals: tuple[str, ...] = ("behaviour", "content", "popularity")) -> Ranking:
    """Every library video the viewer has not met, best first (before the near-duplicate pass)."""
    candidates = [v for v in library if v not in history]
    if not candidates:
        return Ranking([])
    co, co_via, mass = cooccurrence(history, others) if "behaviour" in signals else ({}, {}, 0.0)
    ct, ct_via = content_scores(history, vectors, candidates) if "content" in signals and history else ({}, {})
    pop = {v: math.log1p(popularity.get(v, 0)) for v in candidates} if "popularity" in signals else {}
    trust = mass / (mass + blend.behaviour_evidence)
    cold = np.array([popularity.get(v, 0) <= 0 for v in candidates])
    content_w = np.where(cold, blend.content, blend.content_warm) if "behaviour" in signals else \
        np.full(len(candidates), blend.content)
    weights = {"behaviour": blend.behaviour * trust, "content": content_w, "popularity": blend.popularity}
    scaled = {"behaviour": _scaled(co, candidates), "content": _scaled(ct, candidates),
              "popularity": _scaled(pop, candidates)}
    total = sum(weights[s] * scaled[s] for s in signals)
    tie = _scaled({v: popularity.get(v, 0) for v in candidates}, candidates) * 1e-6  # stable, popular first
    idx = sorted(range(len(candidates)), key=lambda i: (-(total[i] + tie[i]), candidates[i]))
    order = [candidates[i] for i in idx]
    parts = {candidates[i]: {s: round(float(scaled[s][i]), 4) for s in signals if np.any(weights[s] > 0)}
             for i in idx}
    via = {v: {k: src for k, src in (("behaviour", co_via.get(v)), ("content", ct_via.get(v))) if src}
           for v in order}
    return Ranking(order, {candidates[i]: round(float(total[i]), 4) for i in idx}, parts, via)


@dataclass(frozen=True)
class NearDuplicates:
    """Whether two videos are copies of each other, by their keyframes (else their words)."""

    frames: Mapping[str, np.ndarray]  # video -> (n, d) unit keyframe features
    vectors: Mapping[str, Mapping[str, np.ndarray]]
    frame_similarity: float = 0.9
    share: float = 0.5

    def __call__(self, a: str, b: str) -> bool:
        fa, fb = self.frames.get(a), self.frames.get(b)
        if fa is not None and fb is not None:
            s = fa @ fb.T
            return max(float((s.max(axis=1) >= self.frame_similarity).mean()),
                       float((s.max(axis=0) >= self.frame_similarity).mean())) >= self.share
        if fa is None and fb is None:
            va, vb = self.vectors.get(a, {}), self.vectors.get(b, {})
            return "words" in va and "words" in vb and float(va["words"] @ vb["words"]) >= self.frame_similarity
        return False


def without_near_duplicates(order: list[str], twins: Callable[[str, str], bool], limit: int
                            ) -> tuple[list[str], dict[str, str]]:
    """The first ``limit`` of ``order`` with no two near duplicates; and what each left-out one duplicates."""
    taken: list[str] = []
    dropped: dict[str, str] = {}
    for v in order:
        twin = next((t for t in taken if twins(v, t)), None)
        if twin is not None:
            dropped[v] = twin
            continue
        taken.append(v)
        if len(taken) == limit:
            break
    return taken, dropped


class Recommender:
    """Records viewers' events and recommends videos to them (the ``recommend`` service)."""

    def __init__(self, store: Store, search: Search, settings: SearchSettings) -> None:
        self.store, self.search, self.settings = store, search, settings
        self._content: tuple[tuple[int, int], Any] | None = None

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> Recommender:
        return cls(ctx.store, ctx.service("search"), ctx.section(SearchSettings))

    def record(self, user: str, video_id: str, kind: str, at: float | None = None) -> dict[str, Any]:
        """Store one event; the video must be in the library."""
        if not isinstance(user, str) or not USER_ID.match(user):
            raise UsageError("user must be 1-128 characters of letters, digits and . _ : @ -")
        if kind not in WEIGHTS:
            raise UsageError(f"event kind must be one of {', '.join(WEIGHTS)}, got {kind!r}")
        when = time.time() if at is None else float(at)
        if not math.isfinite(when) or when < 0:
            raise UsageError("at must be epoch seconds")
        with self.store.tx() as conn:
            if conn.execute(sa.select(videos.c.id).where(videos.c.id == video_id)).first() is None:
                raise NotFoundError(f"no video '{video_id}' in the library")
            eid = conn.execute(events.insert().values(user_id=user, video_id=video_id, kind=kind, at=when)
                               ).inserted_primary_key[0]
        return {"id": int(eid), "user": user, "video_id": video_id, "kind": kind, "at": when}

    def _library_content(self) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
        from vidlens.search.tables import moments, text_vectors

        with self.store.read() as conn:
            mark = (conn.execute(sa.select(sa.func.count()).select_from(moments)).scalar_one(),
                    conn.execute(sa.select(sa.func.count()).select_from(text_vectors)).scalar_one())
        if self._content is None or self._content[0] != mark:
            self._content = (mark, self.search.video_content())
        return self._content[1]

    def recommend(self, user: str, limit: int = 10) -> dict[str, Any]:
        """Up to ``limit`` videos for ``user``, best first, each with why (``because``)."""
        if not isinstance(user, str) or not USER_ID.match(user):
            raise UsageError("user must be 1-128 characters of letters, digits and . _ : @ -")
        if not 1 <= limit <= 200:
            raise UsageError("limit must be 1..200")
        with self.store.read() as conn:
            mine = affinities(conn.execute(sa.select(events.c.user_id, events.c.video_id, events.c.kind)
                                           .where(events.c.user_id == user)).all()).get(user, {})
            co_users = (sa.select(events.c.user_id).where(events.c.video_id.in_(list(mine)),
                                                          events.c.user_id != user).distinct())
            others = affinities(conn.execute(
                sa.select(events.c.user_id, events.c.video_id, events.c.kind)
                .where(events.c.user_id.in_(co_users)).order_by(events.c.at.desc()).limit(MAX_EVENTS_READ)).all()
            ) if mine else {}
            popularity = dict(conn.execute(
                sa.select(events.c.video_id, sa.func.count(sa.distinct(events.c.user_id)))
                .where(events.c.kind != "skip").group_by(events.c.video_id)).all())
            library = list(conn.execute(sa.select(videos.c.id).order_by(videos.c.id)).scalars())
        vectors, frames = self._library_content()
        ranking = rank(mine, others, vectors, popularity, library, Blend())
        twins = NearDuplicates(frames, vectors, self.settings.near_duplicate_frame_similarity,
                               self.settings.near_duplicate_share)
        chosen, _ = without_near_duplicates(ranking.order, twins, limit)
        paths = self.search._paths(chosen)
        out = []
        for v in chosen:
            because = [{"signal": s, "value": val, **({"video_id": ranking.via[v][s]} if s in ranking.via[v] else {})}
                       for s, val in ranking.parts[v].items() if val > 0]
            out.append({"video_id": v, "path": paths.get(v), "score": ranking.scores[v], "because": because})
        return {"user": user, "cold_start": not mine, "videos": out}
