"""Find at scale: hybrid query latency through the real search service over N synthetic moments in SQLite,
the HNSW's recall@10 against the exact scan, and the cost and size of indexing per hour of video.

Moments are made from a bank of real phrases (objects, places, actions, Chinese and English) embedded once
with multilingual-e5-small: each moment's text joins three phrases and its vector is the normalised mean of
their vectors plus noise (sigma 0.02 per dimension), so a million distinct vectors keep the clustered
shape of real text without a million e5 passes (about a day on 2 cores). They are written into a real
VidLens data dir (``search_moments``, ``search_text_vectors``, 250 moments per video); the FTS5 table and
the HNSW index file are then built by the service's own code, and each query is ``Search.search(q,
limit=20)``: the e5 query pass, FTS5 bm25 (top 200), HNSW (top 200), fusion, filters and the page.

Per hour of video: the moments an hour of the analysed shared corpus yields (bench/.cache/search-corpus,
made by bench_search_relevance.py; a stated assumption when it is absent) times the measured per-moment
costs (e5 passage of a moment text, FTS5 and HNSW insertion at this scale) and sizes.

    nice python bench/bench_search.py [--moments 1000000] [--queries 200] [--data-dir DIR] [--no-write]

With ``--data-dir`` the filled data dir is kept: a second run with the same ``--moments`` skips writing
the rows, and an HNSW build that was stopped goes on from its last save (the service saves the index
file every 250,000 vectors). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, stamp, write_section  # noqa: E402

from vidlens.search.text import TextEmbedder, terms  # noqa: E402

THINGS = ["car", "bicycle", "ferry", "harbour", "bus", "train", "dog", "cat", "child", "crowd", "street", "market",
          "river", "bridge", "mountain", "beach", "kitchen", "office", "stadium", "airport", "forest", "snow",
          "rain", "night", "sunset", "fire", "boat", "truck", "horse", "bird", "汽车", "自行车", "渡轮", "港口",
          "公交车", "火车", "小狗", "孩子", "人群", "街道", "市场", "河流", "大桥", "山", "海滩", "厨房", "办公室"]
ACTIONS = ["drives past", "stops at the light", "leaves at noon", "is crossing", "waits in line", "runs fast",
           "is parked", "turns left", "arrives late", "is on fire", "在路边停着", "正在过马路", "中午出发", "开得很快",
           "在排队", "转弯", "迟到了"]
PER_VIDEO = 250
ASSUMED_MOMENTS_PER_HOUR = 3600  # when no analysed corpus is at hand: one text moment a second


def phrases() -> list[str]:
    return [f"{t} {a}" for t in THINGS for a in ACTIONS]


def percentile(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p))


def corpus_moments_per_hour() -> tuple[float, str]:
    db = CACHE / "search-corpus" / "vidlens.db"
    if not db.is_file():
        return ASSUMED_MOMENTS_PER_HOUR, f"assumed {ASSUMED_MOMENTS_PER_HOUR} (no analysed corpus at hand)"
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM search_moments").fetchone()[0]
    hours = (con.execute("SELECT sum(duration_s) FROM videos WHERE id IN (SELECT video_id FROM search_moments)")
             .fetchone()[0] or 0) / 3600
    con.close()
    if not n or not hours:
        return ASSUMED_MOMENTS_PER_HOUR, f"assumed {ASSUMED_MOMENTS_PER_HOUR} (the analysed corpus has no moments)"
    return n / hours, f"{n / hours:,.0f}, from {n:,} moments of {hours * 60:.1f} min of the analysed shared corpus"


def fill(db: Path, n: int, bank: list[str], pv: np.ndarray, model: str, rng: np.random.Generator
         ) -> dict[str, float]:
    """Write N moments, their videos and their text vectors; returns the time taken and the sizes."""
    picks = rng.integers(0, len(bank), size=(n, 3))
    bank_terms = [" ".join(terms(p)) for p in bank]
    con = sqlite3.connect(db)
    t0 = time.perf_counter()
    now = time.time()
    con.executemany("INSERT INTO videos (id, uri, filename, size_bytes, container, duration_s, width, height, "
                    "has_audio, probe, created_at) VALUES (?, ?, ?, 0, 'mp4', ?, 1280, 720, 1, '{}', ?)",
                    ((f"{v:064x}", f"/media/v{v}.mp4", f"v{v}.mp4", PER_VIDEO * 4.0, now)
                     for v in range((n + PER_VIDEO - 1) // PER_VIDEO)))
    texts = [" ".join(bank[j] for j in p) for p in picks]
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    con.executemany("INSERT INTO search_moments (id, video_id, kind, start_s, end_s, text, terms, language, "
                    "text_key) VALUES (?, ?, 'speech', ?, ?, ?, ?, ?, ?)",
                    ((i + 1, f"{i // PER_VIDEO:064x}", (i % PER_VIDEO) * 4.0, (i % PER_VIDEO) * 4.0 + 4.0, texts[i],
                      " ".join(bank_terms[j] for j in picks[i]), "zh" if any(ord(c) > 0x2e80 for c in texts[i])
                      else "en", keys[i]) for i in range(n)))
    con.commit()
    size_rows = db.stat().st_size
    seen: set[str] = set()
    for i in range(0, n, 100_000):
        print(f"text vectors: {i:,} of {n:,}", file=sys.stderr)
        part = pv[picks[i:i + 100_000]].mean(axis=1) + rng.normal(0, 0.02, (len(picks[i:i + 100_000]), pv.shape[1]))
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        rows = []
        for j, v in enumerate(part.astype("<f4")):
            if keys[i + j] not in seen:  # the same text twice shares one vector, as in the service
                seen.add(keys[i + j])
                rows.append((model, keys[i + j], v.tobytes()))
        con.executemany("INSERT INTO search_text_vectors (model, key, vector) VALUES (?, ?, ?)", rows)
        con.commit()
    con.close()
    return {"write_s": time.perf_counter() - t0, "rows_bytes": size_rows, "vectors_bytes": db.stat().st_size - size_rows}


def _graph_progress(done: int, total: int) -> None:
    if done == total or done % 50_000 < 10_000:
        print(f"HNSW graph: {done:,} of {total:,} vectors", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moments", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data-dir", type=Path, help="keep the filled data dir here; a rerun goes on where it stopped")
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave docs/benchmarks.md alone")
    args = ap.parse_args()
    from vidlens.platform import Platform
    from vidlens.settings import load_settings

    rng = np.random.default_rng(18)
    embedder = TextEmbedder.shared()
    bank = phrases()
    pv = embedder.passages(bank).astype(np.float32)
    sample = [" ".join(bank[j] for j in rng.integers(0, len(bank), 3)) for _ in range(128)]
    t0 = time.perf_counter()
    embedder.passages(sample)
    embed_per_text = (time.perf_counter() - t0) / len(sample)
    n = args.moments
    kept = nullcontext(str(args.data_dir)) if args.data_dir else tempfile.TemporaryDirectory()
    with kept as tmp:
        data = Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        done_file = data / "bench-search.json"  # what earlier runs on this data dir finished, and their times
        done = json.loads(done_file.read_text()) if done_file.is_file() else {}
        platform = Platform.from_settings(load_settings(data_dir=data))
        svc = platform.service("search")
        db = Path(platform.settings.data_dir) / "vidlens.db"
        with platform.store.tx() as conn:  # the schema, migrated
            had = conn.exec_driver_sql("SELECT count(*) FROM search_moments").scalar_one()
        if done.get("moments") not in (None, n) or (had and "moments" not in done):
            raise SystemExit(f"{data} holds {had:,} moments from another or an unfinished fill: give another --data-dir")
        if "moments" not in done:
            print(f"writing {n:,} moments", file=sys.stderr)
            done = {"moments": n, **fill(db, n, bank, pv, embedder.name, rng)}
            done_file.write_text(json.dumps(done))
        if "fts_s" not in done:
            before = db.stat().st_size
            t0 = time.perf_counter()
            svc._backends()  # FTS5 over the moments' terms, built by the service
            done.update(fts_s=time.perf_counter() - t0, fts_bytes=db.stat().st_size - before)
            done_file.write_text(json.dumps(done))
        svc._backends()
        filled, fts_s, fts_bytes = done, done["fts_s"], done["fts_bytes"]
        print(f"FTS5: {fts_s:.0f} s", file=sys.stderr)
        resumed = any(svc.index_dir.glob("text-*"))
        t0 = time.perf_counter()
        index = svc._text_vectors(progress=_graph_progress)  # the HNSW index file, built and saved by the service
        hnsw_s = time.perf_counter() - t0
        if "hnsw_s" in done:  # built by an earlier run: its time, not this load's
            hnsw_s, resumed = done["hnsw_s"], done["hnsw_resumed"]
        else:
            done.update(hnsw_s=hnsw_s, hnsw_resumed=resumed)
            done_file.write_text(json.dumps(done))
        index_bytes = sum(p.stat().st_size for p in svc.index_dir.glob("text-*"))
        print(f"text index: {hnsw_s:.0f} s, {index_bytes / 1e6:.0f} MB", file=sys.stderr)

        svc.search("warm up", limit=20)
        lat, cpu, e5_cpu, ann_lat, recalls, hits = [], [], [], [], [], []
        matrix = index._vectors()
        for a, b in rng.integers(0, len(bank), size=(args.queries, 2)):
            q = f"{bank[a]} {bank[b]}"
            t0, c0 = time.perf_counter(), time.process_time()
            res = svc.search(q, limit=20)
            lat.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            hits.append(len(res["hits"]))
            c0 = time.process_time()
            qv = embedder.query(q).astype(np.float16)
            e5_cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            found = index._hnsw(matrix).search(qv, 10)
            ann_lat.append(time.perf_counter() - t0)
            exact = np.argpartition(-(matrix @ qv).astype(np.float32), 10)[:10]
            recalls.append(len(set(exact.tolist()) & {int(k) for k in found.keys}) / 10)
        platform.close()

    per_hour, per_hour_note = corpus_moments_per_hour()
    per_moment_s = embed_per_text + (fts_s + hnsw_s) / n
    per_moment_bytes = (filled["rows_bytes"] + filled["vectors_bytes"] + fts_bytes + index_bytes) / n
    ms, cpu_ms, e5_ms = ([x * 1000 for x in xs] for xs in (lat, cpu, e5_cpu))
    ann_ms = [x * 1000 for x in ann_lat]
    load = os.getloadavg()[0]
    body = f"""## Find at scale: hybrid query latency, ANN recall, indexing cost (`bench/bench_search.py`)

{stamp()} Load average {load:.1f} when it ended (the machine is shared by several jobs: timings high).

{n:,} synthetic moments in a real SQLite data dir (texts of three of {len(bank)} real phrases, Chinese and
English; **vectors composed** from their e5 embeddings plus noise, not embedded one by one: see the
script), {args.queries} queries of two phrases, each `Search.search(q, limit=20)` through the service
(e5 query pass, FTS5 bm25 top 200, usearch HNSW f16 M=16 ef_search=96 top 200, RRF, rows and page);
median {int(np.median(hits))} hits per page.

| | p50 ms | p95 ms |
|---|---|---|
| hybrid query, whole service call: wall clock (under load) | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} |
| hybrid query, whole service call: CPU time of the process | {percentile(cpu_ms, 50):.1f} | {percentile(cpu_ms, 95):.1f} |
| of which the e5 query pass: CPU time | {percentile(e5_ms, 50):.1f} | {percentile(e5_ms, 95):.1f} |
| HNSW top-10 alone: wall clock | {percentile(ann_ms, 50):.2f} | {percentile(ann_ms, 95):.2f} |

A query runs on one thread (the e5 engine is single-threaded, SQLite and usearch's single search too),
so on an unloaded machine its latency is close to its CPU time; the wall clock here is inflated by the
other jobs sharing the two cores.

HNSW recall@10 against the exact scan of the same vectors: **{np.mean(recalls):.3f}**.

Indexing at this scale: writing rows {filled['write_s']:.0f} s, FTS5 {fts_s:.0f} s, HNSW index file {hnsw_s:.0f} s
(load, insert, save{'; this run went on from an index file saved midway by an earlier run' if resumed else ''}). Sizes: moment rows {filled['rows_bytes'] / 1e6:,.0f} MB, text vectors (float32 table)
{filled['vectors_bytes'] / 1e6:,.0f} MB, FTS5 {fts_bytes / 1e6:,.0f} MB, HNSW index file (float16 vectors + graph)
{index_bytes / 1e6:,.0f} MB: {per_moment_bytes / 1024:.1f} KiB per moment.

Per hour of analysed video ({per_hour_note}: moments an hour): indexing costs
{per_hour * per_moment_s:.0f} CPU-seconds (e5 passage {embed_per_text * 1000:.1f} ms per text, measured; FTS5 and HNSW
{(fts_s + hnsw_s) / n * 1000:.2f} ms per moment) and takes {per_hour * per_moment_bytes / 1e6:.1f} MB.
"""
    print(body)
    if not args.no_write:
        write_section("search", body)


if __name__ == "__main__":
    main()
