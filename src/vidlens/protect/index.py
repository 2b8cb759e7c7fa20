"""Candidate retrieval over many references' fingerprints: the two ``Index`` plugins of protect.

``BinaryIndex`` keeps the anchor codes (``codes.ANCHOR_SLOTS``) of each reference second and finds
the anchors within a Hamming radius of any query code. Small indexes are scanned exhaustively;
large ones use multi-index hashing (Norouzi et al.): the code is cut into four 16-bit chunks, each
with a table sorted by chunk value, and any anchor sharing one exact chunk with a query code is a
candidate. ``LandmarkIndex`` is an inverted list of audio landmark hashes. Both only nominate works:
the aligner then verifies each candidate frame by frame on the work's full fingerprint.

Both are saved in the versioned ``vidlens.index`` file format (header + plain arrays, never pickle).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from vidlens.index import CorruptIndexError, Hit, Index, IndexExample
from vidlens.plugins import PluginManifest
from vidlens.protect.codes import ANCHOR_SLOTS, VARIANTS, hamming, widened
from vidlens.protect.fingerprint import CorruptFingerprintError, Fingerprint

CHUNKS = 4
EXHAUSTIVE_LIMIT = 20_000_000  # query codes × anchors below which a full scan is cheaper


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(c)`` for each count."""
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(first, counts)


def _need(fp: Fingerprint, arrays: dict[str, Any], index: str) -> None:
    """Refuse a value that is not a fingerprint with these arrays (dtype, number of dimensions)."""
    if not isinstance(fp, Fingerprint):
        raise CorruptFingerprintError(f"{index} index: expected a Fingerprint, got {type(fp).__name__}")
    for name, (dtype, ndim) in arrays.items():
        a = fp.arrays.get(name)
        if a is None or a.dtype != dtype or a.ndim != ndim:
            raise CorruptFingerprintError(f"{index} index: a '{fp.kind}' fingerprint without a {ndim}-D "
                                          f"{np.dtype(dtype)} array '{name}'")


class BinaryIndex(Index[Fingerprint]):
    """Anchors (code, entry, time) of visual fingerprints, plus multi-index hash tables.

    ``query(fingerprint, threshold)`` nominates the entries with anchors within ``threshold`` bits of
    the query's codes; a hit's ``score`` is how many query frames AND distinct anchors agree (a copy
    hits many of both, a still query near one stray anchor only one), its ``distance`` the closest.
    """

    name = "visual-codes"
    version = 3  # 2: the same arrays in the format "vidlens-protect-index"
    former_formats = ("vidlens-protect-index",)
    manifest = PluginManifest(name, str(version), "index",
                              "Anchor codes of visual fingerprints within a Hamming radius "
                              "(multi-index hashing over 16-bit chunks).")
    measure = "Hamming bits of 64"
    default_threshold = 12.0

    def __init__(self, *, checkpoint: str = "", anchor_rate: float = 1.0) -> None:
        super().__init__(checkpoint=checkpoint)
        self.anchor_rate = anchor_rate
        self._codes = np.zeros(0, np.uint64)
        self._ref = np.zeros(0, np.uint32)  # the entry (position) of each anchor
        self._times = np.zeros(0, np.float32)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # added, not yet concatenated
        self._tables: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_anchors(cls, codes: np.ndarray, ref: np.ndarray, times: np.ndarray, ids: list[str], *,
                     checkpoint: str = "") -> BinaryIndex:
        """An index over ready-made anchors (entry position per anchor), its hash tables built now as a
        loaded index has them: for synthetic scale tests."""
        index = cls(checkpoint=checkpoint)
        index._ids, index._payloads = list(ids), [{} for _ in ids]
        index._positions = {i: n for n, i in enumerate(ids)}
        index._codes = np.ascontiguousarray(codes, dtype=np.uint64)
        index._ref = np.ascontiguousarray(ref, dtype=np.uint32)
        index._times = np.ascontiguousarray(times, dtype=np.float32)
        index._hash_tables()
        return index

    @property
    def codes(self) -> np.ndarray:
        """Every anchor's code (uint64)."""
        return self._flush()[0]

    @property
    def ref(self) -> np.ndarray:
        """Every anchor's entry position (uint32)."""
        return self._flush()[1]

    @property
    def times(self) -> np.ndarray:
        """Every anchor's time in its entry (float32 seconds)."""
        return self._flush()[2]

    def _flush(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            if self._pending:  # one concatenation for a whole build, not one per entry
                parts = [(self._codes, self._ref, self._times), *self._pending]
                self._codes, self._ref, self._times = (np.concatenate([p[k] for p in parts]) for k in range(3))
                self._pending = []
            return self._codes, self._ref, self._times

    def _anchors(self, fp: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
        """(codes, times) of ``fp``'s anchor slots at ``anchor_rate`` per second."""
        _need(fp, {"times": (np.float32, 1), "codes": (np.uint64, 2), "valid": (np.bool_, 1)}, self.name)
        t, valid, codes = fp.arrays["times"], fp.arrays["valid"], widened(fp.arrays["codes"])
        if codes.shape != (len(t), len(VARIANTS)) or valid.shape != t.shape:
            raise CorruptFingerprintError(f"{self.name} index: fingerprint arrays of unequal length")
        step = max(1, round(float(fp.meta.get("rate", 5.0)) / self.anchor_rate))
        keep = np.zeros(len(t), dtype=bool)
        keep[::step] = True
        keep &= valid
        return (np.concatenate([codes[keep, slot] for slot in ANCHOR_SLOTS]),
                np.tile(t[keep], len(ANCHOR_SLOTS)))

    def _add(self, position: int, value: Fingerprint) -> None:
        codes, times = self._anchors(value)
        with self._lock:
            self._pending.append((codes, np.full(len(codes), position, np.uint32), times))
            self._tables = None

    # -- search ---------------------------------------------------------------
    def _hash_tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        codes = self.codes
        with self._lock:
            if self._tables is None:
                tables = []
                for t in range(CHUNKS):
                    chunk = ((codes >> np.uint64(16 * t)) & np.uint64(0xFFFF)).astype(np.uint16)
                    order = np.argsort(chunk, kind="stable").astype(np.uint32)
                    starts = np.zeros(65537, dtype=np.int64)
                    np.cumsum(np.bincount(chunk, minlength=65536), out=starts[1:])
                    tables.append((order, starts))
                self._tables = tables
            return self._tables

    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query position, anchor position, distance) for every anchor within ``radius``."""
        q = np.ascontiguousarray(queries, dtype=np.uint64)
        n = len(self.codes)
        if len(q) == 0 or n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        if len(q) * n <= EXHAUSTIVE_LIMIT:
            d = hamming(q[:, None], self.codes[None, :])
            qi, ai = np.nonzero(d <= radius)
            return qi.astype(np.int64), ai.astype(np.int64), d[qi, ai]
        qi_parts, ai_parts = [], []
        for t, (order, starts) in enumerate(self._hash_tables()):
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
        key = np.unique(qi * n + ai, return_index=True)[1]
        return qi[key], ai[key], d[key]

    def query(self, value: Fingerprint, threshold: float | None = None, *, min_hits: int = 2,
              limit: int = 20) -> list[Hit]:
        """Entries worth aligning against ``value``: most query frames with a near anchor first."""
        radius = int(self.default_threshold if threshold is None else threshold)
        _need(value, {"codes": (np.uint64, 2), "valid": (np.bool_, 1)}, self.name)
        if value.empty or len(self.codes) == 0 or radius < 0:
            return []
        codes = value.arrays["codes"]
        frames = np.flatnonzero(value.arrays["valid"])
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
        n_refs = len(self)
        frames_hit = np.bincount(np.unique(ref * (len(codes) + 1) + frame) // (len(codes) + 1), minlength=n_refs)
        anchors_hit = np.bincount(self.ref[np.unique(anchor)].astype(np.int64), minlength=n_refs)
        score = np.minimum(frames_hit, anchors_hit)
        best = np.full(n_refs, 255, dtype=np.int64)
        np.minimum.at(best, ref, dist)
        found = sorted(np.flatnonzero(score >= min_hits), key=lambda r: (-score[r], best[r]))[:limit]
        return [self._hit(int(r), best[r], score[r]) for r in found]

    # -- persistence ----------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {"codes": self.codes, "ref": self.ref, "times": self.times}
        for t, (order, starts) in enumerate(self._hash_tables()):  # saved: sorting 70 M codes takes a minute
            arrays[f"order{t}"] = order
            arrays[f"starts{t}"] = starts
        return {"anchor_rate": self.anchor_rate, "chunks": CHUNKS, "slots": list(ANCHOR_SLOTS)}, arrays

    def _restore(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        n = len(arrays["codes"])
        tables = [(arrays[f"order{t}"], arrays[f"starts{t}"]) for t in range(CHUNKS)]
        ok = (meta.get("chunks") == CHUNKS and meta.get("slots") == list(ANCHOR_SLOTS)
              and arrays["codes"].dtype == np.uint64 and arrays["codes"].shape == (n,)
              and arrays["ref"].dtype == np.uint32 and arrays["ref"].shape == (n,)
              and arrays["times"].shape == (n,)
              and all(o.shape == (n,) and s.shape == (65537,) and s[-1] == n for o, s in tables)
              and (n == 0 or int(arrays["ref"].max()) < len(self)))
        if not ok:
            raise CorruptIndexError("visual-codes index: arrays do not match its header")
        self.anchor_rate = float(meta.get("anchor_rate", 1.0))
        self._codes, self._ref, self._times = arrays["codes"], arrays["ref"], arrays["times"]
        self._tables = tables

    @classmethod
    def examples(cls) -> list[IndexExample[Fingerprint]]:
        rng = np.random.default_rng(16)
        a, b, other = (rng.integers(0, 2**64 - 1, (60, len(VARIANTS)), dtype=np.uint64, endpoint=True)
                       for _ in range(3))
        noisy = b[20:50] ^ np.uint64(0b1010_0000_0000_0001)  # 3 bits from b's codes, every slot
        entries = [("a", _codes_fp(a), {"title": "a"}), ("b", _codes_fp(b), {"title": "b"})]
        return [
            IndexExample("a stretch of b, 3 bits off", entries, _codes_fp(noisy), ("b",)),
            IndexExample("the same within 2 bits finds nothing", entries, _codes_fp(noisy), (), threshold=2),
            IndexExample("unrelated codes", entries, _codes_fp(other), ()),
        ]


def _codes_fp(codes: np.ndarray) -> Fingerprint:
    """A visual-shaped fingerprint over given codes at 5 frames a second (index examples)."""
    n = len(codes)
    return Fingerprint("visual", 2, n / 5.0, {"times": (np.arange(n) / 5.0).astype(np.float32), "codes": codes,
                                            "valid": np.ones(n, bool)}, {"rate": 5.0})


class LandmarkIndex(Index[Fingerprint]):
    """Inverted list of audio landmark hashes: which entries share hashes with a query.

    Hashes match exactly, so every hit's distance is 0 and a threshold below 0 finds nothing; a
    hit's ``score`` is the number of the query's distinct hashes the entry holds.
    """

    name = "audio-landmarks"
    version = 1
    manifest = PluginManifest(name, str(version), "index", "Exact lookup of audio landmark hashes.")
    measure = "exact hash (distance 0)"
    default_threshold = 0.0

    def __init__(self, *, checkpoint: str = "") -> None:
        super().__init__(checkpoint=checkpoint)
        self._hashes = np.zeros(0, np.uint32)  # sorted
        self._ref = np.zeros(0, np.uint32)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._lock = threading.Lock()

    def _add(self, position: int, value: Fingerprint) -> None:
        _need(value, {"hashes": (np.uint32, 1)}, self.name)
        h = value.arrays["hashes"]
        with self._lock:
            self._pending.append((h, np.full(len(h), position, np.uint32)))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, entry positions), sorted by hash; entries added since the last call are merged in."""
        with self._lock:
            if self._pending:
                hashes = np.concatenate([self._hashes, *(h for h, _ in self._pending)])
                ref = np.concatenate([self._ref, *(r for _, r in self._pending)])
                order = np.argsort(hashes, kind="stable")
                self._hashes, self._ref = hashes[order], ref[order]
                self._pending = []
            return self._hashes, self._ref

    def query(self, value: Fingerprint, threshold: float | None = None, *, min_hits: int = 10,
              limit: int = 20) -> list[Hit]:
        _need(value, {"hashes": (np.uint32, 1)}, self.name)
        hashes, ref = self._sorted()
        if value.empty or len(hashes) == 0 or (threshold is not None and threshold < 0):
            return []
        qh = np.unique(value.arrays["hashes"])
        lo = np.searchsorted(hashes, qh, side="left")
        hi = np.searchsorted(hashes, qh, side="right")
        counts = hi - lo
        pos = _ranges(counts) + np.repeat(lo, counts)
        per_ref = np.bincount(ref[pos].astype(np.int64), minlength=len(self))
        found = sorted(np.flatnonzero(per_ref >= min_hits), key=lambda r: -per_ref[r])[:limit]
        return [self._hit(int(r), 0.0, per_ref[r]) for r in found]

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        hashes, ref = self._sorted()
        return {}, {"hashes": hashes, "ref": ref}

    def _restore(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        h, r = arrays["hashes"], arrays["ref"]
        if (h.dtype != np.uint32 or r.dtype != np.uint32 or h.shape != r.shape or h.ndim != 1
                or (len(r) and int(r.max()) >= len(self)) or np.any(np.diff(h.astype(np.int64)) < 0)):
            raise CorruptIndexError("audio-landmarks index: arrays do not match its header")
        self._hashes, self._ref = h, r

    @classmethod
    def examples(cls) -> list[IndexExample[Fingerprint]]:
        rng = np.random.default_rng(16)
        a, b, other = (rng.integers(0, 2**21, 400, dtype=np.uint32) for _ in range(3))
        query = np.concatenate([b[100:160], other[:200]])  # 60 of b's hashes among unrelated ones
        entries = [("a", _hash_fp(a), {}), ("b", _hash_fp(b), {"title": "b"})]
        return [
            IndexExample("sound of b among other sound", entries, _hash_fp(query), ("b",)),
            IndexExample("a threshold below 0 finds nothing", entries, _hash_fp(query), (), threshold=-1),
            IndexExample("unrelated sound", entries, _hash_fp(other[200:]), ()),
        ]


def _hash_fp(hashes: np.ndarray) -> Fingerprint:
    """An audio-shaped fingerprint over given landmark hashes, one every 50 ms (index examples)."""
    return Fingerprint("audio", 1, len(hashes) / 20.0, {"hashes": hashes.astype(np.uint32),
                                                       "times": (np.arange(len(hashes)) / 20.0).astype(np.float32)})
