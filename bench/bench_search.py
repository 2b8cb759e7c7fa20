"""Find at scale: query latency over N synthetic moments (words in SQLite FTS5, meaning by HNSW with usearch),
and the HNSW's recall@10 against the exact scan of the same vectors.

Moments are made from a bank of real phrases (objects, places, actions, Chinese and English) embedded once
with multilingual-e5-small: each moment's text joins three phrases and its vector is the normalised mean of
their vectors plus noise (sigma 0.02 per dimension), so a million distinct vectors keep the clustered
shape of real text without a million e5 passes (about a day on 2 cores). A query is a phrase pair, embedded
as a query; its latency is the e5 query pass + FTS5 bm25 (top 200) + HNSW (top 200) + rank fusion.

    python bench/bench_search.py [--moments 1000000] [--queries 200] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import stamp, write_section  # noqa: E402

from vidlens.search.text import TextEmbedder, terms  # noqa: E402
from vidlens.vectors import VectorIndex  # noqa: E402

THINGS = ["car", "bicycle", "ferry", "harbour", "bus", "train", "dog", "cat", "child", "crowd", "street", "market",
          "river", "bridge", "mountain", "beach", "kitchen", "office", "stadium", "airport", "forest", "snow",
          "rain", "night", "sunset", "fire", "boat", "truck", "horse", "bird", "汽车", "自行车", "渡轮", "港口",
          "公交车", "火车", "小狗", "孩子", "人群", "街道", "市场", "河流", "大桥", "山", "海滩", "厨房", "办公室"]
ACTIONS = ["drives past", "stops at the light", "leaves at noon", "is crossing", "waits in line", "runs fast",
           "is parked", "turns left", "arrives late", "is on fire", "在路边停着", "正在过马路", "中午出发", "开得很快",
           "在排队", "转弯", "迟到了"]


def phrases() -> list[str]:
    return [f"{t} {a}" for t in THINGS for a in ACTIONS]


def percentile(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moments", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave docs/benchmarks.md alone")
    args = ap.parse_args()
    rng = np.random.default_rng(18)
    embedder = TextEmbedder.shared()
    bank = phrases()
    t0 = time.perf_counter()
    pv = embedder.passages(bank).astype(np.float32)
    embed_s = time.perf_counter() - t0
    n = args.moments
    picks = rng.integers(0, len(bank), size=(n, 3))
    print(f"composing {n} moments from {len(bank)} phrases (embedded in {embed_s:.1f} s)", file=sys.stderr)
    vecs = np.empty((n, pv.shape[1]), np.float16)
    for i in range(0, n, 100_000):
        part = pv[picks[i:i + 100_000]].mean(axis=1) + rng.normal(0, 0.02, (len(picks[i:i + 100_000]), pv.shape[1]))
        vecs[i:i + 100_000] = (part / np.linalg.norm(part, axis=1, keepdims=True)).astype(np.float16)

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(os.path.join(tmp, "moments.db"))
        db.execute("CREATE VIRTUAL TABLE fts USING fts5(terms, tokenize='unicode61 remove_diacritics 2')")
        bank_terms = [" ".join(terms(p)) for p in bank]
        t0 = time.perf_counter()
        db.executemany("INSERT INTO fts(rowid, terms) VALUES (?, ?)",
                       ((i, " ".join(bank_terms[j] for j in picks[i])) for i in range(n)))
        db.commit()
        fts_s = time.perf_counter() - t0
        print(f"FTS5 over {n} moments: {fts_s:.1f} s", file=sys.stderr)

        index = VectorIndex(exact_below=0)
        index._matrix = vecs  # the whole matrix at once; add() per entry is for the live index
        index._dim = vecs.shape[1]
        t0 = time.perf_counter()
        index._hnsw(vecs)
        hnsw_s = time.perf_counter() - t0
        print(f"HNSW over {n} vectors: {hnsw_s:.1f} s", file=sys.stderr)

        qpairs = rng.integers(0, len(bank), size=(args.queries, 2))
        lat, ann_lat, recalls = [], [], []
        for a, b in qpairs:
            q = f"{bank[a]} {bank[b]}"
            t0 = time.perf_counter()
            qv = embedder.query(q)
            toks = list(dict.fromkeys(terms(q)))[:32]
            words = db.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT 200",
                               (" OR ".join(f'"{t}"' for t in toks),)).fetchall()
            t1 = time.perf_counter()
            found = index._graph.search(qv.astype(np.float16), 200)
            ann_lat.append(time.perf_counter() - t1)
            fused: dict[int, float] = {}
            for ranked in ([r[0] for r in words], [int(k) for k in found.keys]):
                for rank, mid in enumerate(ranked, 1):
                    fused[mid] = fused.get(mid, 0.0) + 1.0 / (60 + rank)
            _page = sorted(fused, key=lambda m: -fused[m])[:20]
            lat.append(time.perf_counter() - t0)
            exact = np.argpartition(-(vecs @ qv.astype(np.float16)).astype(np.float32), 10)[:10]
            recalls.append(len(set(exact.tolist()) & {int(k) for k in found.keys[:10]}) / 10)
        db.close()

    ms = [x * 1000 for x in lat]
    ann_ms = [x * 1000 for x in ann_lat]
    load = os.getloadavg()[0]
    body = f"""## Find: hybrid query latency and ANN recall (`bench/bench_search.py`)

{stamp()} Load average {load:.1f} when it ended (the machine is shared: timings high).

{n:,} synthetic moments (three of {len(bank)} embedded phrases each, Chinese and English; vectors composed,
see the script), {args.queries} queries of two phrases, SQLite FTS5 + usearch HNSW (f16, M=16,
ef_search=96), top 200 from each, fused by RRF.

| | p50 ms | p95 ms |
|---|---|---|
| hybrid query (e5 query pass + FTS5 + HNSW + fusion) | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} |
| HNSW search alone | {percentile(ann_ms, 50):.2f} | {percentile(ann_ms, 95):.2f} |

HNSW recall@10 against the exact scan of the same vectors: **{np.mean(recalls):.3f}**.
Build: FTS5 {fts_s:.0f} s, HNSW {hnsw_s:.0f} s for {n:,} moments.
"""
    print(body)
    if not args.no_write:
        write_section("search", body)


if __name__ == "__main__":
    main()
