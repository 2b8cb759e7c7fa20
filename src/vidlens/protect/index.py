"""Candidate retrieval over many references' binary codes.

``BinaryIndex`` keeps two 64-bit codes (canonical and centre) per reference per
second (the "anchors") and finds the anchors within a Hamming radius of any query code.
Small indexes are scanned exhaustively; large ones use multi-index hashing
(Norouzi et al.): the code is cut into four 16-bit chunks, each with a table
sorted by chunk value, and any anchor sharing one exact chunk with a query code
is a candidate. The aligner then verifies candidates frame by frame on the
works' full fingerprints, so the index only has to nominate works.

Files are ``.npz`` archives with a JSON header and plain arrays, read with
``allow_pickle=False``. ``HotIndex`` reloads the file when the registry's
checkpoint moves on, so a long-running matcher sees new registrations.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.protect.fingerprint import CorruptFingerprintError, Fingerprint
from vidlens.protect.codes import ANCHOR_SLOTS, hamming

INDEX_FORMAT = "vidlens-protect-index"
INDEX_VERSION = 2
CHUNKS = 4
EXHAUSTIVE_LIMIT = 20_000_000  # query codes × anchors below which a full scan is cheaper


@dataclass(frozen=True)
class Candidate:
    ref: int           # position in ``BinaryIndex.refs``
    hits: int          # min(query frames, distinct anchors) within the radius
    best: int          # smallest distance seen


class BinaryIndex:
    """Anchors (code, reference, time) plus multi-index hash tables."""

    def __init__(self, codes: np.ndarray, ref: np.ndarray, times: np.ndarray, refs: Sequence[str], *,
                 kind: str = "visual", checkpoint: str = "", tables: list[tuple[np.ndarray, np.ndarray]] | None
                 = None) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64)
        self.ref = np.ascontiguousarray(ref, dtype=np.uint32)
        self.times = np.ascontiguousarray(times, dtype=np.float32)
        self.refs = list(refs)
        self.kind = kind
        self.checkpoint = checkpoint
        self.tables = tables if tables is not None else self._build_tables(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    @staticmethod
    def _build_tables(codes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        tables = []
        for t in range(CHUNKS):
            chunk = ((codes >> np.uint64(16 * t)) & np.uint64(0xFFFF)).astype(np.uint16)
            order = np.argsort(chunk, kind="stable").astype(np.uint32)
            starts = np.zeros(65537, dtype=np.int64)
            np.cumsum(np.bincount(chunk, minlength=65536), out=starts[1:])
            tables.append((order, starts))
        return tables

    @classmethod
    def build(cls, entries: Sequence[tuple[str, Fingerprint]], *, anchor_rate: float = 1.0,
              checkpoint: str = "") -> BinaryIndex:
        """Index each reference's canonical and centre codes at ``anchor_rate`` per second."""
        codes, ref, times = [], [], []
        for pos, (_ref_id, fp) in enumerate(entries):
            t = fp.arrays["times"]
            valid = fp.arrays["valid"]
            step = max(1, int(round(float(fp.meta.get("rate", 5.0)) / anchor_rate)))
            keep = np.zeros(len(t), dtype=bool)
            keep[::step] = True
            keep &= valid
            for slot in ANCHOR_SLOTS:
                codes.append(fp.arrays["codes"][keep, slot])
                ref.append(np.full(int(keep.sum()), pos, dtype=np.uint32))
                times.append(t[keep])
        if not codes:
            return cls(np.zeros(0, np.uint64), np.zeros(0, np.uint32), np.zeros(0, np.float32), [],
                       checkpoint=checkpoint)
        return cls(np.concatenate(codes), np.concatenate(ref), np.concatenate(times),
                   [r for r, _ in entries], checkpoint=checkpoint)

    # -- search ---------------------------------------------------------------
    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query position, anchor position, distance) for every anchor within ``radius``."""
        q = np.ascontiguousarray(queries, dtype=np.uint64)
        if len(q) == 0 or len(self) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        if len(q) * len(self) <= EXHAUSTIVE_LIMIT:
            d = hamming(q[:, None], self.codes[None, :])
            qi, ai = np.nonzero(d <= radius)
            return qi.astype(np.int64), ai.astype(np.int64), d[qi, ai]
        qi_parts, ai_parts = [], []
        for t, (order, starts) in enumerate(self.tables):
            chunk = ((q >> np.uint64(16 * t)) & np.uint64(0xFFFF)).astype(np.int64)
            lo, hi = starts[chunk], starts[chunk + 1]
            counts = hi - lo
            total = int(counts.sum())
            if total == 0:
                continue
            first = np.cumsum(counts) - counts
            pos = np.arange(total, dtype=np.int64) - np.repeat(first - lo, counts)
            ai_parts.append(order[pos].astype(np.int64))
            qi_parts.append(np.repeat(np.arange(len(q), dtype=np.int64), counts))
        if not qi_parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        qi = np.concatenate(qi_parts)
        ai = np.concatenate(ai_parts)
        d = hamming(q[qi], self.codes[ai])
        ok = d <= radius
        qi, ai, d = qi[ok], ai[ok], d[ok]
        key = np.unique(qi * len(self) + ai, return_index=True)[1]
        return qi[key], ai[key], d[key]

    def candidates(self, query: Fingerprint, *, radius: int = 12, min_hits: int = 2,
                   limit: int = 20) -> list[Candidate]:
        """References worth aligning against ``query``: most query frames with a near anchor first."""
        if query.empty or len(self) == 0:
            return []
        codes = query.arrays["codes"]
        frames = np.flatnonzero(query.arrays["valid"])
        flat = codes[frames].reshape(-1)
        uniq, inverse = np.unique(flat, return_inverse=True)
        qi, ai, d = self.search(uniq, radius)
        if len(qi) == 0:
            return []
        # back to query frames: a unique code may stand for several (frame, variant) slots
        slot_of = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(uniq))
        starts = np.cumsum(counts) - counts
        reps = counts[qi]
        slots = slot_of[np.repeat(starts[qi], reps) + _ranges(reps)]
        frame = frames[slots // codes.shape[1]]
        anchor = np.repeat(ai, reps)
        ref = self.ref[anchor].astype(np.int64)
        dist = np.repeat(d, reps).astype(np.int64)
        # a copy hits many query frames AND many anchors; a static query near one stray anchor hits one
        n_refs = len(self.refs)
        frames_hit = np.bincount(np.unique(ref * (len(codes) + 1) + frame) // (len(codes) + 1), minlength=n_refs)
        anchors_hit = np.bincount(self.ref[np.unique(anchor)].astype(np.int64), minlength=n_refs)
        score = np.minimum(frames_hit, anchors_hit)
        best = np.full(n_refs, 255, dtype=np.int64)
        np.minimum.at(best, ref, dist)
        found = [Candidate(int(r), int(score[r]), int(best[r])) for r in np.flatnonzero(score >= min_hits)]
        return sorted(found, key=lambda c: (-c.hits, c.best))[:limit]

    # -- persistence ----------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {"format": INDEX_FORMAT, "version": INDEX_VERSION, "kind": self.kind,
                "checkpoint": self.checkpoint, "count": len(self), "refs": self.refs, "chunks": CHUNKS}

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays: dict[str, np.ndarray] = {"codes": self.codes, "ref": self.ref, "times": self.times}
        for t, (order, starts) in enumerate(self.tables):
            arrays[f"order{t}"] = order
            arrays[f"starts{t}"] = starts
        np.savez(buf, __header__=np.frombuffer(json.dumps(self.header()).encode(), np.uint8), **arrays)
        return buf.getvalue()

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "index") -> BinaryIndex:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                header = json.loads(bytes(z["__header__"]).decode())
                arrays = {k: z[k] for k in z.files if k != "__header__"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise CorruptFingerprintError(f"{source}: not a readable index ({exc})") from None
        if header.get("format") != INDEX_FORMAT or header.get("version") != INDEX_VERSION:
            raise CorruptFingerprintError(f"{source}: not a version-{INDEX_VERSION} VidLens index")
        n = int(header.get("count", -1))
        try:
            tables = [(arrays[f"order{t}"], arrays[f"starts{t}"]) for t in range(CHUNKS)]
            ok = (arrays["codes"].dtype == np.uint64 and arrays["codes"].shape == (n,)
                  and arrays["ref"].shape == (n,) and arrays["times"].shape == (n,)
                  and all(o.shape == (n,) and s.shape == (65537,) and s[-1] == n for o, s in tables)
                  and (n == 0 or int(arrays["ref"].max()) < len(header["refs"])))
        except KeyError as exc:
            raise CorruptFingerprintError(f"{source}: index lacks array {exc}") from None
        if not ok:
            raise CorruptFingerprintError(f"{source}: index arrays do not match its header")
        return cls(arrays["codes"], arrays["ref"], arrays["times"], header["refs"], kind=header["kind"],
                   checkpoint=header["checkpoint"], tables=tables)

    @classmethod
    def load(cls, path: Path) -> BinaryIndex:
        return cls.from_bytes(Path(path).read_bytes(), source=str(path))


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(c)`` for each count."""
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(first, counts)


class HotIndex:
    """Holds the loaded index and swaps it when ``current()`` reports a new checkpoint.

    ``current`` returns ``(checkpoint, loader)`` where ``loader()`` produces the index
    for that checkpoint (reading a blob, or rebuilding when none is saved yet).
    """

    def __init__(self, current: Callable[[], tuple[str, Callable[[], BinaryIndex]]]) -> None:
        self._current = current
        self._index: BinaryIndex | None = None
        self._lock = threading.Lock()
        self.loads = 0

    def get(self) -> BinaryIndex:
        checkpoint, loader = self._current()
        with self._lock:
            if self._index is None or self._index.checkpoint != checkpoint:
                self._index = loader()
                self.loads += 1
            return self._index


class LandmarkIndex:
    """Inverted index of audio landmark hashes: which references share hashes with a query."""

    def __init__(self, hashes: np.ndarray, ref: np.ndarray, refs: Sequence[str], checkpoint: str = "") -> None:
        order = np.argsort(hashes, kind="stable")
        self.hashes = np.ascontiguousarray(hashes[order], dtype=np.uint32)
        self.ref = np.ascontiguousarray(ref[order], dtype=np.uint32)
        self.refs = list(refs)
        self.checkpoint = checkpoint

    @classmethod
    def build(cls, entries: Sequence[tuple[str, Fingerprint]], *, checkpoint: str = "") -> LandmarkIndex:
        hashes = [fp.arrays["hashes"] for _, fp in entries]
        ref = [np.full(len(h), i, np.uint32) for i, h in enumerate(hashes)]
        return cls(np.concatenate(hashes) if hashes else np.zeros(0, np.uint32),
                   np.concatenate(ref) if ref else np.zeros(0, np.uint32), [r for r, _ in entries], checkpoint)

    def candidates(self, query: Fingerprint, *, min_hits: int = 10, limit: int = 20) -> list[Candidate]:
        if query.empty or len(self.hashes) == 0:
            return []
        qh = np.unique(query.arrays["hashes"])
        lo = np.searchsorted(self.hashes, qh, side="left")
        hi = np.searchsorted(self.hashes, qh, side="right")
        counts = hi - lo
        pos = _ranges(counts) + np.repeat(lo, counts)
        per_ref = np.bincount(self.ref[pos].astype(np.int64), minlength=len(self.refs))
        found = [Candidate(int(r), int(per_ref[r]), 0) for r in np.flatnonzero(per_ref >= min_hits)]
        return sorted(found, key=lambda c: -c.hits)[:limit]
