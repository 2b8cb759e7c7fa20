"""Find registered works inside an upload and say which part copies which.

Two passes per kind of fingerprint (picture, sound): that kind's index nominates works
(visual anchors within a Hamming radius, or shared audio landmarks), then each nominated
work's full fingerprint is aligned against the upload. Picture and sound segments of the
same work that cover the same stretch are fused into one ``visual+audio`` match.

Each kind's index is saved as a blob tagged with the registry's checkpoint (the ledger
head); a ``Matcher`` that outlives registrations reloads or rebuilds it as soon as the
checkpoint moves, and an index file from another index version is rebuilt and replaced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vidlens.index import CorruptIndexError, HotIndex, Index
from vidlens.media.probe import probe
from vidlens.protect.fingerprint import Fingerprint, Fingerprinter, Segment, fingerprinter
from vidlens.protect.registry import KINDS, Registry, Work, check_media, fingerprints
from vidlens.protect.tables import index_checkpoints, matches
from vidlens.timebase import format_timecode
from vidlens.types import Video

MIN_SCORE = 0.3
MIN_SEGMENT_S = 1.0


@dataclass(frozen=True)
class Match:
    work: Work
    segment: Segment
    kind: str

    @property
    def decision(self) -> str:
        return self.work.policy

    def to_dict(self) -> dict[str, Any]:
        """The public shape (checked by outside scripts): keys are only ever added.

        ``reference_end_s - reference_start_s == speed * (query_end_s - query_start_s)``;
        ``placement`` is "ambiguous" when another place in the work fits the copied frames
        nearly as well (``placement_confidence`` below 0.25), as still footage does.
        """
        s = self.segment
        return {"work_id": self.work.id, "title": self.work.title, "query_start_s": round(s.query_start_s, 3),
                "query_end_s": round(s.query_end_s, 3), "reference_start_s": round(s.reference_start_s, 3),
                "reference_end_s": round(s.reference_end_s, 3), "score": round(s.score, 4),
                "speed": round(s.speed, 3), "placement": s.placement,
                "placement_confidence": round(s.confidence, 3)}


class Matcher:
    def __init__(self, registry: Registry, *, min_score: float = MIN_SCORE) -> None:
        self.registry = registry
        self.min_score = min_score
        self.fingerprinters: dict[str, Fingerprinter] = {kind: fingerprinter(kind) for kind in KINDS}
        self.indexes: dict[str, HotIndex[Index[Fingerprint]]] = {
            kind: HotIndex(lambda kind=kind: self._current(kind)) for kind in KINDS}
        self._fps: dict[str, Fingerprint] = {}
        self._works: dict[str, Work] = {}

    # -- indexes --------------------------------------------------------------
    def _current(self, kind: str) -> tuple[str, Callable[[], Index[Fingerprint]]]:
        checkpoint = self.registry.checkpoint()
        return checkpoint, lambda: self._load_or_build(kind, checkpoint)

    def _load_or_build(self, kind: str, checkpoint: str) -> Index[Fingerprint]:
        """The saved index of ``kind`` if it is of ``checkpoint`` and readable, else a rebuilt and saved one."""
        store, blobs = self.registry.store, self.registry.blobs
        index_cls = self.fingerprinters[kind].index_cls()
        with store.read() as conn:
            row = conn.execute(sa.select(index_checkpoints).where(index_checkpoints.c.kind == kind)).first()
        self._works = {w.id: w for w in self.registry.list()}
        if row is not None and row.checkpoint == checkpoint and blobs.exists(row.blob):
            try:
                return index_cls.from_bytes(blobs.get_bytes(row.blob), source=f"{kind} index {row.blob}")
            except CorruptIndexError:
                pass  # damaged or of an earlier version: rebuilt below from the works' own fingerprints
        entries = [(w.id, fp) for w in self._works.values() if (fp := self._fingerprint(w, kind)) is not None]
        index = index_cls.build(entries, checkpoint=checkpoint)
        key = blobs.put_bytes(index.to_bytes(), ".npz")
        with store.tx() as conn:
            conn.execute(index_checkpoints.delete().where(index_checkpoints.c.kind == kind))
            conn.execute(index_checkpoints.insert().values(kind=kind, checkpoint=checkpoint, blob=key,
                                                           built_at=time.time()))
        return index

    def _fingerprint(self, work: Work, kind: str) -> Fingerprint | None:
        key = work.visual_blob if kind == "visual" else work.audio_blob
        if key is None:
            return None
        if key not in self._fps:
            fp = self.registry.load_fingerprint(work, kind)
            assert fp is not None
            self._fps[key] = fp
        return self._fps[key]

    # -- matching -------------------------------------------------------------
    def match_file(self, path: str | Path, *, record: bool = True) -> list[Match]:
        video = probe(path, require_video=False)
        check_media(video, need_video=False)
        visual, audio = fingerprints(video)
        found = self.match_fingerprints({"visual": visual, "audio": audio})
        if record:
            self._record(video.sha256, video.uri, found)
        return found

    def match_fingerprints(self, query: Mapping[str, Fingerprint | None]) -> list[Match]:
        """Matches of the upload whose fingerprints of each kind are ``query`` (a kind may be None)."""
        per_work: dict[str, list[tuple[Segment, str]]] = {}
        for kind, fper in self.fingerprinters.items():
            fp = query.get(kind)
            index = self.indexes[kind].get()
            if fp is None or fp.empty:
                continue
            for hit in index.query(fp):
                ref = self._fingerprint(self._works[hit.id], kind)
                if ref is not None:
                    per_work.setdefault(hit.id, []).extend((s, kind) for s in fper.compare(fp, ref))
        out: list[Match] = []
        for work_id, segs in per_work.items():
            for seg, kind in _fuse(segs):
                if seg.score >= self.min_score and seg.query_duration_s >= MIN_SEGMENT_S - 1e-6:
                    out.append(Match(self._works[work_id], seg, kind))
        return sorted(out, key=lambda m: (m.segment.query_start_s, -m.segment.score))

    def _record(self, sha: str, uri: str, found: list[Match]) -> None:
        if not found:
            return
        now = time.time()
        with self.registry.store.tx() as conn:
            conn.execute(matches.insert(), [
                {"query_sha256": sha, "query_uri": uri, "work_id": m.work.id,
                 "query_start_s": m.segment.query_start_s, "query_end_s": m.segment.query_end_s,
                 "reference_start_s": m.segment.reference_start_s, "reference_end_s": m.segment.reference_end_s,
                 "score": m.segment.score, "kind": m.kind, "decision": m.decision,
                 "hints": {**m.segment.hints, "speed": m.segment.speed, "placement": m.segment.placement,
                           "placement_confidence": m.segment.confidence},
                 "created_at": now} for m in found])


def report_document(video: Video, found: list[Match]) -> dict[str, Any]:
    """An analysis-report document whose one lane shows the upload's copied stretches."""
    spans = [{"start_s": m.segment.query_start_s, "end_s": m.segment.query_end_s,
              "label": f"{m.work.title} ({m.decision})",
              "title": f"{m.work.title} by {m.work.owner} {format_timecode(m.segment.reference_start_s)}–"
                       f"{format_timecode(m.segment.reference_end_s)}, score {m.segment.score:.2f}, {m.kind}"
                       + (", place in the work uncertain" if m.segment.placement == "ambiguous" else "")}
             for m in found]
    return {"schema": "vidlens.protect.match", "version": 1,
            "video": {"uri": video.uri, "duration_s": video.duration_s, "width": video.width,
                      "height": video.height},
            "matches": [m.to_dict() | {"decision": m.decision, "kind": m.kind} for m in found],
            "extra_lanes": {"copied works": spans}}


def _overlap(a: Segment, b: Segment) -> float:
    inter = min(a.query_end_s, b.query_end_s) - max(a.query_start_s, b.query_start_s)
    return max(0.0, inter) / max(1e-9, min(a.query_duration_s, b.query_duration_s))


def _fuse(segs: list[tuple[Segment, str]]) -> list[tuple[Segment, str]]:
    """Merge an audio segment into the visual one covering the same stretch of the same work."""
    visual = [s for s, k in segs if k == "visual"]
    fused: list[tuple[Segment, str]] = [(s, "visual") for s in visual]
    for a in (s for s, k in segs if k == "audio"):
        hit = next((i for i, (v, _) in enumerate(fused) if _overlap(v, a) > 0.5
                    and abs((v.reference_start_s - v.query_start_s) - (a.reference_start_s - a.query_start_s)) < 1.5),
                   None)
        if hit is None:
            fused.append((a, "audio"))
        else:
            v, _ = fused[hit]
            fused[hit] = (Segment(v.query_start_s, v.query_end_s, v.reference_start_s, v.reference_end_s,
                                  max(v.score, a.score), v.speed, {**v.hints, "audio": True}), "visual+audio")
    return fused
