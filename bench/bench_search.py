"""Find at scale: hybrid query latency through the real search service over N synthetic moments in SQLite,
the HNSW's recall@10 against the exact scan, and the cost and size of indexing per hour of video.

Moments are made from a bank of real phrases (objects, places, actions, Chinese and English) embedded once
with multilingual-e5-small: each moment's text joins three phrases and its vector is the normalised mean of
their vectors plus noise (sigma 0.02 per dimension), so a million distinct vectors keep the clustered
shape of real text without a million e5 passes (about a day on 2 cores). They are written into a real
VidLens data dir (``search_moments``, ``search_text_vectors``, 250 moments per video); the FTS5 table and
the HNSW index file are then built by the service's own code, and each query is ``Search.search(q,
limit=20)``: the e5 query pass, FTS5's bm25 over a first cut of at most 400 moments holding the most
query words (``vidlens.search.fts_words``, top 200), HNSW (top 200), fusion, filters and the page; each
query is also run with one ranker alone. On ``--recall-queries`` of them the words ranker's top 10 is
compared with FTS5's own ``ORDER BY bm25()`` over every matching moment (also timed).

Per hour of video: the moments an hour of the analysed shared corpus yields (bench/.cache/search-corpus,
made by bench_search_relevance.py; a stated assumption when it is absent) times the measured per-moment
costs (e5 passage of a moment text, FTS5 and HNSW insertion at this scale) and sizes.

    nice python bench/bench_search.py [--moments 1000000] [--queries 200] [--data-dir DIR] [--no-write]
    nice python bench/bench_search.py --postgres URL [--moments 1000000] [--data-dir DIR] [--words-only | --from-vector]

With ``--data-dir`` the filled data dir is kept: a second run with the same ``--moments`` skips writing
the rows, and an HNSW build that was stopped goes on from its last save (the service saves the index
file every 250,000 vectors). Progress goes to stderr.

``--postgres URL`` (a server with the pgvector extension: ``scripts/pgvector-test-server.py start DIR``
starts one from the test extra's wheel) runs the same moments and queries on PostgreSQL, in a database
``vidlens_bench_search_N`` made on that server and kept for a rerun: rows, text vectors and pgvector's
table are loaded with COPY with the search indexes dropped, then the service's own GIN word index and
pgvector HNSW index (``vidlens.search.backends``) are built, both timed; each query is the same
``Search.search`` call, answered by ``ts_rank_cd`` over the stored word vectors of a bounded first cut
(``backends.pg_words``) and pgvector (``backends.pg_nearest``). One query's statements are run again under
``EXPLAIN (ANALYZE, BUFFERS)`` on a connection set as the service sets it, and its words statement as a
custom plan (does JIT fire?) and as a generic plan. On ``--recall-queries`` of the queries, recall@10 of the
meaning ranker's pgvector query (at the ``hnsw.ef_search`` the service sets) is measured against the exact
cosine top 10 of the float32 vectors and against an exact scan in SQL, and the words
ranker's top 10 against ``ts_rank_cd`` over every matching moment (also timed). Section
``search-postgresql``. With ``--from-vector`` pgvector's table is filled as versions before migration
search_0005 made it (``vector(384)``, pgvector's default HNSW graph), measured on the same queries with the
query those versions ran, then migrated in place by search_0005's own upgrade (timed) before the service
is measured. With ``--words-only`` no pgvector HNSW index is built and only the words ranker is
timed (section ``search-postgresql-words``): for a size whose vector index cannot be built in the time at
hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, stamp, write_section  # noqa: E402

from vidlens.search.service import FTS_POOL, WORD_POOL  # noqa: E402
from vidlens.search.text import MAX_TERMS, TextEmbedder, query_terms, terms  # noqa: E402

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


def synthetic(n: int, bank: list[str], pv: np.ndarray, rng: np.random.Generator, chunk: int = 100_000
              ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[str, np.ndarray]]]]:
    """N moments in chunks: (moment rows, (text key, unit float32 vector) of each text not seen before).

    A row is (id, video id, start, end, text, terms, language, text key); a text joins three bank phrases
    and its vector is the normalised mean of theirs plus noise (the same text twice shares one vector, as
    in the service)."""
    bank_terms = [" ".join(terms(p)) for p in bank]
    seen: set[str] = set()
    for at in range(0, n, chunk):
        picks = rng.integers(0, len(bank), size=(min(chunk, n - at), 3))
        vecs = pv[picks].mean(axis=1) + rng.normal(0, 0.02, (len(picks), pv.shape[1]))
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        rows, new = [], []
        for j, p in enumerate(picks):
            i = at + j
            text = " ".join(bank[k] for k in p)
            key = hashlib.sha256(text.encode()).hexdigest()
            rows.append((i + 1, f"{i // PER_VIDEO:064x}", (i % PER_VIDEO) * 4.0, (i % PER_VIDEO) * 4.0 + 4.0, text,
                         " ".join(bank_terms[k] for k in p), "zh" if any(ord(c) > 0x2e80 for c in text) else "en",
                         key))
            if key not in seen:
                seen.add(key)
                new.append((key, vecs[j].astype("<f4")))
        yield rows, new


def fill(db: Path, n: int, bank: list[str], pv: np.ndarray, model: str, rng: np.random.Generator
         ) -> dict[str, float]:
    """Write N moments, their videos and their text vectors; returns the time taken and the sizes."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA cache_size = -1048576")  # 1 GiB: the text-key indexes take their keys in random order
    t0 = time.perf_counter()
    now = time.time()
    con.executemany("INSERT INTO videos (id, uri, filename, size_bytes, container, duration_s, width, height, "
                    "has_audio, probe, created_at) VALUES (?, ?, ?, 0, 'mp4', ?, 1280, 720, 1, '{}', ?)",
                    ((f"{v:064x}", f"/media/v{v}.mp4", f"v{v}.mp4", PER_VIDEO * 4.0, now)
                     for v in range((n + PER_VIDEO - 1) // PER_VIDEO)))
    vectors_bytes = 0
    for rows, new in synthetic(n, bank, pv, rng):
        print(f"moments and text vectors: {rows[-1][0]:,} of {n:,}", file=sys.stderr)
        con.executemany("INSERT INTO search_moments (id, video_id, kind, start_s, end_s, text, terms, language, "
                        "text_key) VALUES (?, ?, 'speech', ?, ?, ?, ?, ?, ?)", rows)
        con.commit()
        before = _size(con, db)
        con.executemany("INSERT INTO search_text_vectors (model, key, vector) VALUES (?, ?, ?)",
                        [(model, k, v.tobytes()) for k, v in new])
        con.commit()
        vectors_bytes += _size(con, db) - before
    rows_bytes = _size(con, db) - vectors_bytes
    con.close()
    return {"write_s": time.perf_counter() - t0, "rows_bytes": rows_bytes, "vectors_bytes": vectors_bytes}


def _size(con: sqlite3.Connection, db: Path) -> int:
    """The database file's size with everything written (the data dir's SQLite keeps a write-ahead log)."""
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.stat().st_size


def timed_search(svc, q: str, lat: list[float], cpu: list[float]) -> dict:
    """One hybrid query through the service (top 20), its wall and CPU seconds appended to ``lat`` and ``cpu``."""
    t0, c0 = time.perf_counter(), time.process_time()
    res = svc.search(q, limit=20)
    lat.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    return res


def _top10_agreement(cut: list[tuple[int, float]], every: list[tuple[int, float]]) -> tuple[float, float]:
    """How much of the exact top 10 (``every``) the ranker's top 10 (``cut``) holds: the same moments, and the
    ranks whose score is the exact one's (moments of equal score are interchangeable)."""
    same = len({i for i, _ in cut} & {i for i, _ in every}) / 10
    return same, sum(abs(x[1] - y[1]) < 1e-9 for x, y in zip(cut, every, strict=False)) / 10


def _words_against_fts5(svc: Any, q: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]], float]:
    """The words ranker's top 10 for ``q`` (``fts_words``: its first cut scored), FTS5's own bm25 top 10
    over every matching moment (the ranker before the cut) and the seconds that second query took."""
    from vidlens.search import backends
    from vidlens.search.fts_words import fts_tokens, fts_words

    words = list(dict.fromkeys(w for t in query_terms(q)[:MAX_TERMS] for w in fts_tokens(t)))
    k = svc.settings.candidates
    with svc.store.read() as conn:
        cut = fts_words(conn, words, k, FTS_POOL * k, svc._fts_stats)[:10]
        t0 = time.perf_counter()
        every = [(r[0], float(r[1])) for r in conn.exec_driver_sql(
            f"SELECT rowid, bm25({backends.FTS}) AS r FROM {backends.FTS} WHERE {backends.FTS} MATCH ? "
            "ORDER BY r, rowid LIMIT 10", (" OR ".join(f'"{w}"' for w in words),))]
    return cut, every, time.perf_counter() - t0


def sqlite_words_only(args: argparse.Namespace, svc: Any, bank: list[str], rng: np.random.Generator,
                      done: dict[str, Any]) -> str:
    """The words ranker alone through the service on SQLite (no HNSW graph needed), against FTS5's own
    bm25 over every match; the section's text."""
    svc.search("warm up 热身", limit=20, rankers=["words"])  # one-time loads (jieba's dictionary) out of the figures
    lat, cpu, exact_lat, recalls, score_recalls, hits = [], [], [], [], [], []
    for qi, (a, b) in enumerate(rng.integers(0, len(bank), size=(args.queries, 2))):
        q = f"{bank[a]} {bank[b]}"
        t0, c0 = time.perf_counter(), time.process_time()
        hits.append(len(svc.search(q, limit=20, rankers=["words"])["hits"]))
        lat.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if qi < args.recall_queries:
            cut, every, took = _words_against_fts5(svc, q)
            exact_lat.append(took)
            same, scores = _top10_agreement(cut, every)
            recalls.append(same)
            score_recalls.append(scores)
    ms, cpu_ms, x_ms = ([x * 1000 for x in xs] for xs in (lat, cpu, exact_lat))
    load, k = os.getloadavg(), svc.settings.candidates
    return f"""## Find at scale: hybrid query latency, ANN recall, indexing cost (`bench/bench_search.py`)

{stamp()} Load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} when it ended, `nproc` {os.cpu_count()}
(the machine is shared with other jobs: wall clocks include waiting for a core).

**The words ranker alone** (`--words-only`): the HNSW graph of the 1,000,000 text vectors was not built
in the time at hand, so the hybrid query, the HNSW recall and the index file are not measured at this
size yet.

{done['moments']:,} synthetic moments in a real SQLite data dir (texts of three of {len(bank)} real phrases,
Chinese and English: see the script), {args.queries} queries of two phrases, each
`Search.search(q, limit=20, rankers=["words"])` through the service: FTS5's bm25 over a first cut of at
most {FTS_POOL * k} moments holding the most query words (`vidlens.search.fts_words`), top {k}, rows and
page; median {int(np.median(hits))} hits per page. Every query word is in 6-22% of the moments (three of
{len(bank)} phrases each): the hard case for a word index.

| | p50 ms | p95 ms |
|---|---|---|
| words ranker through the service: wall clock | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} |
| words ranker through the service: CPU time of the process | {percentile(cpu_ms, 50):.1f} | {percentile(cpu_ms, 95):.1f} |
| FTS5's `ORDER BY bm25()` over every match, top 10 (the ranker before the cut; SQL alone): wall clock | {percentile(x_ms, 50):.1f} | {percentile(x_ms, 95):.1f} |

Over {len(recalls)} of the queries, the words ranker's top 10 against FTS5's bm25 over every matching
moment: the same moments {np.mean(recalls):.3f}, the same scores rank by rank {np.mean(score_recalls):.3f}
(moments of equal score are interchangeable; the exact list breaks ties by id).

Indexing at this scale: writing rows {done['write_s']:.0f} s, FTS5 {done['fts_s']:.0f} s. Sizes: moment rows
{done['rows_bytes'] / 1e6:,.0f} MB, text vectors (float32 table) {done['vectors_bytes'] / 1e6:,.0f} MB, FTS5
{done['fts_bytes'] / 1e6:,.0f} MB.
"""


def _graph_progress(done: int, total: int) -> None:
    if done == total or done % 50_000 < 10_000:
        print(f"HNSW graph: {done:,} of {total:,} vectors", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moments", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data-dir", type=Path, help="keep the filled data dir here; a rerun goes on where it stopped")
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave docs/benchmarks.md alone")
    ap.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL server (with pgvector) instead of SQLite")
    ap.add_argument("--words-only", action="store_true",
                    help="build no vector index and time the words ranker alone (on --postgres: section "
                         "search-postgresql-words), for a size whose vector index cannot be built in the time at hand")
    ap.add_argument("--from-vector", action="store_true",
                    help="--postgres: fill pgvector's table as versions before migration search_0005 made it "
                         "(vector(384), pgvector's default graph), measure it, then migrate it in place (timed) "
                         "and measure the service on the result")
    ap.add_argument("--recall-queries", type=int, default=50,
                    help="queries whose words top 10 (and on --postgres, pgvector's) is checked against an exact ranking")
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
    if args.postgres:
        body = run_postgres(args, bank, pv, rng, embedder)
        print(body)
        if not args.no_write:
            write_section("search-postgresql-words" if args.words_only else "search-postgresql", body)
        return
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
            before = _size(sqlite3.connect(db), db)
            t0 = time.perf_counter()
            svc._backends()  # FTS5 over the moments' terms, built by the service
            done.update(fts_s=time.perf_counter() - t0, fts_bytes=_size(sqlite3.connect(db), db) - before)
            done_file.write_text(json.dumps(done))
        svc._backends()
        filled, fts_s, fts_bytes = done, done["fts_s"], done["fts_bytes"]
        print(f"FTS5: {fts_s:.0f} s", file=sys.stderr)
        if args.words_only:
            body = sqlite_words_only(args, svc, bank, rng, done)
            platform.close()
            print(body)
            if not args.no_write:
                write_section("search", body)
            return
        resumed = any(svc.index_dir.glob("text-*"))
        t0, c0 = time.perf_counter(), time.process_time()
        index = svc._text_vectors(progress=_graph_progress)  # the HNSW index file, built and saved by the service
        hnsw_s, hnsw_cpu_s, hnsw_load = time.perf_counter() - t0, time.process_time() - c0, os.getloadavg()[1]
        if "hnsw_s" in done:  # built by an earlier run: its time, not this load's
            hnsw_s, resumed = done["hnsw_s"], done["hnsw_resumed"]
            hnsw_cpu_s, hnsw_load = done.get("hnsw_cpu_s"), done.get("hnsw_load")
        else:
            done.update(hnsw_s=hnsw_s, hnsw_resumed=resumed, hnsw_cpu_s=hnsw_cpu_s, hnsw_load=hnsw_load)
            done_file.write_text(json.dumps(done))
        index_bytes = sum(p.stat().st_size for p in svc.index_dir.glob("text-*"))
        print(f"text index: {hnsw_s:.0f} s, {index_bytes / 1e6:.0f} MB", file=sys.stderr)

        svc.search("warm up 热身", limit=20)  # one-time loads (jieba's dictionary, the graph) out of the figures
        lat, cpu, e5_cpu, ann_lat, recalls, hits = [], [], [], [], [], []
        words_lat, meaning_lat, exact_words_lat, word_recalls, word_score_recalls = [], [], [], [], []
        matrix = index._vectors()
        exact_m = matrix.astype(np.float32)  # the exact scan in BLAS (numpy multiplies float16 without it)
        for qi, (a, b) in enumerate(rng.integers(0, len(bank), size=(args.queries, 2))):
            q = f"{bank[a]} {bank[b]}"
            res = timed_search(svc, q, lat, cpu)
            hits.append(len(res["hits"]))
            for ranker, into in (("words", words_lat), ("meaning", meaning_lat)):
                t0 = time.perf_counter()
                svc.search(q, limit=20, rankers=[ranker])
                into.append(time.perf_counter() - t0)
            if qi < args.recall_queries:
                cut, every, took = _words_against_fts5(svc, q)
                exact_words_lat.append(took)
                same, scores = _top10_agreement(cut, every)
                word_recalls.append(same)
                word_score_recalls.append(scores)
            c0 = time.process_time()
            qv = embedder.query(q).astype(np.float16)
            e5_cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            found = index._hnsw(matrix).search(qv, 10)
            ann_lat.append(time.perf_counter() - t0)
            exact = np.argpartition(-(exact_m @ qv.astype(np.float32)), 10)[:10]
            recalls.append(len(set(exact.tolist()) & {int(k) for k in found.keys}) / 10)
        platform.close()

    per_hour, per_hour_note = corpus_moments_per_hour()
    per_moment_s = embed_per_text + (fts_s + hnsw_s) / n
    per_moment_bytes = (filled["rows_bytes"] + filled["vectors_bytes"] + fts_bytes + index_bytes) / n
    ms, cpu_ms, e5_ms, w_ms, m_ms, x_ms = ([x * 1000 for x in xs] for xs in (
        lat, cpu, e5_cpu, words_lat, meaning_lat, exact_words_lat))
    ann_ms = [x * 1000 for x in ann_lat]
    load = os.getloadavg()
    body = f"""## Find at scale: hybrid query latency, ANN recall, indexing cost (`bench/bench_search.py`)

{stamp()} Load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} when it ended, `nproc` {os.cpu_count()}
(the machine is shared with other jobs: wall clocks include waiting for a core).

{n:,} synthetic moments in a real SQLite data dir (texts of three of {len(bank)} real phrases, Chinese and
English; **vectors composed** from their e5 embeddings plus noise, not embedded one by one: see the
script), {args.queries} queries of two phrases, each `Search.search(q, limit=20)` through the service
(e5 query pass; FTS5's bm25 over a first cut of at most {FTS_POOL * svc.settings.candidates} moments holding
the most query words, top {svc.settings.candidates}; usearch HNSW f16 M=16 ef_search=96, top
{svc.settings.candidates}; RRF, rows and page); median {int(np.median(hits))} hits per page. Each query also
ran with one ranker alone.

| | p50 ms | p95 ms |
|---|---|---|
| hybrid query, whole service call: wall clock | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} |
| hybrid query, whole service call: CPU time of the process | {percentile(cpu_ms, 50):.1f} | {percentile(cpu_ms, 95):.1f} |
| of which the e5 query pass: CPU time | {percentile(e5_ms, 50):.1f} | {percentile(e5_ms, 95):.1f} |
| words alone (first cut + bm25): wall clock | {percentile(w_ms, 50):.1f} | {percentile(w_ms, 95):.1f} |
| meaning alone (e5 + HNSW): wall clock | {percentile(m_ms, 50):.1f} | {percentile(m_ms, 95):.1f} |
| HNSW top-10 alone: wall clock | {percentile(ann_ms, 50):.2f} | {percentile(ann_ms, 95):.2f} |
| FTS5's `ORDER BY bm25()` over every match, top 10 (the words ranker before the cut; SQL alone): wall clock | {percentile(x_ms, 50):.1f} | {percentile(x_ms, 95):.1f} |

A query runs on one thread (the e5 engine is single-threaded, SQLite and usearch's single search too),
so on an unloaded machine its latency is close to its CPU time.

HNSW recall@10 against the exact scan of the same vectors: **{np.mean(recalls):.3f}**. Over
{len(word_recalls)} of the queries, the words ranker's top 10 against FTS5's bm25 over every matching
moment: the same moments {np.mean(word_recalls):.3f}, the same scores rank by rank
{np.mean(word_score_recalls):.3f} (moments of equal score are interchangeable; the exact list breaks ties by id).

Indexing at this scale: writing rows {filled['write_s']:.0f} s, FTS5 {fts_s:.0f} s, HNSW index file {hnsw_s:.0f} s
(load, insert, save{'; this run went on from an index file saved midway by an earlier run' if resumed else ''}{
f"; {hnsw_cpu_s:.0f} CPU-seconds on both cores, load average {hnsw_load:.1f} over its last 5 minutes"
if hnsw_cpu_s is not None else ""}). Sizes: moment rows {filled['rows_bytes'] / 1e6:,.0f} MB, text vectors (float32 table)
{filled['vectors_bytes'] / 1e6:,.0f} MB, FTS5 {fts_bytes / 1e6:,.0f} MB, HNSW index file (float16 vectors + graph)
{index_bytes / 1e6:,.0f} MB: {per_moment_bytes / 1024:.1f} KiB per moment.

Per hour of analysed video ({per_hour_note}: moments an hour): indexing costs
{per_hour * per_moment_s:.0f} CPU-seconds (e5 passage {embed_per_text * 1000:.1f} ms per text, measured; FTS5 and HNSW
{(fts_s + hnsw_s) / n * 1000:.2f} ms per moment) and takes {per_hour * per_moment_bytes / 1e6:.1f} MB.
"""
    print(body)
    if not args.no_write:
        write_section("search", body)


def _copy_binary(cur: Any, table: str, columns: str, rows: list[tuple[bytes, ...]]) -> None:
    """COPY rows of raw binary fields (PostgreSQL's binary COPY format) into ``table``."""
    out = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for row in rows:
        out.append(struct.pack(">h", len(row)))
        for f in row:
            out += [struct.pack(">i", len(f)), f]
    out.append(struct.pack(">h", -1))
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(b"".join(out))


def fill_pg(engine: Any, n: int, bank: list[str], pv: np.ndarray, model: str, rng: np.random.Generator
            ) -> dict[str, float]:
    """COPY N moments, their videos, their text vectors and pgvector's copy of them (the search indexes
    dropped first); returns the time taken."""
    from vidlens.search import backends

    with engine.begin() as c:
        c.exec_driver_sql(f"DROP INDEX IF EXISTS {backends.PG_GIN}")
        c.exec_driver_sql(f"DROP INDEX IF EXISTS {backends.PGVEC_HNSW}")
        kind = c.exec_driver_sql(f"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                                 f"'{backends.PGVEC}'::regclass AND attname = 'embedding'").scalar_one()
    # pgvector's binary form: dimensions, unused, then big-endian floats (halves for halfvec)
    element = ">f2" if kind.startswith("halfvec") else ">f4"
    raw = engine.raw_connection()
    t0 = time.perf_counter()
    try:
        cur = raw.driver_connection.cursor()
        now = time.time()
        with cur.copy("COPY videos (id, uri, filename, size_bytes, container, duration_s, width, height, has_audio, "
                      "probe, created_at) FROM STDIN") as cp:
            for v in range((n + PER_VIDEO - 1) // PER_VIDEO):
                cp.write_row((f"{v:064x}", f"/media/v{v}.mp4", f"v{v}.mp4", 0, "mp4", PER_VIDEO * 4.0, 1280, 720,
                              True, "{}", now))
        for rows, new in synthetic(n, bank, pv, rng):
            print(f"moments and text vectors: {rows[-1][0]:,} of {n:,}", file=sys.stderr)
            with cur.copy("COPY search_moments (id, video_id, start_s, end_s, text, terms, language, text_key, kind) "
                          "FROM STDIN") as cp:
                for r in rows:
                    cp.write_row((*r, "speech"))
            m = model.encode()
            _copy_binary(cur, "search_text_vectors", "model, key, vector", [(m, k.encode(), v.tobytes()) for k, v in new])
            head = struct.pack(">hh", pv.shape[1], 0)
            _copy_binary(cur, backends.PGVEC, "model, key, embedding",
                         [(m, k.encode(), head + v.astype(element).tobytes()) for k, v in new])
            raw.driver_connection.commit()
        cur.execute("SELECT setval(pg_get_serial_sequence('search_moments', 'id'), %s)", (n,))
        cur.execute("ANALYZE")
        raw.driver_connection.commit()
    finally:
        raw.close()
    return {"write_s": time.perf_counter() - t0}


def _server_cpu(engine: Any) -> Any:
    """A clock of the CPU seconds of every process of the PostgreSQL server ``engine`` reaches (the
    postmaster and its children, read from /proc: the bench's server runs on this machine)."""
    with engine.connect() as c:
        backend = c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    tick = os.sysconf("SC_CLK_TCK")

    def clock() -> float:
        total = 0
        for d in Path("/proc").iterdir():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split() if d.name.isdigit() else None
            except OSError:
                continue
            if f and postmaster in (int(d.name), int(f[1])):
                total += int(f[11]) + int(f[12])  # utime, stime
        return total / tick

    return clock


def _migrate(engine: Any, step: Any) -> float:
    """Run one step of a migration (its ``upgrade`` or ``downgrade``) on ``engine`` as Alembic would, with
    a ``maintenance_work_mem`` that holds the graph it builds; its wall seconds."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    t0 = time.perf_counter()
    with engine.begin() as c:
        c.exec_driver_sql("SET LOCAL maintenance_work_mem = '3GB'")
        with Operations.context(MigrationContext.configure(c)):
            step()
    return time.perf_counter() - t0


def _exact_top10(engine: Any, model: str) -> Any:
    """The exact cosine top 10 over the float32 text vectors (``search_text_vectors``, numpy): the ground
    truth of both layouts, so halfvec's rounding counts against it."""
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT key, vector FROM search_text_vectors WHERE model = %(m)s",
                                 {"m": model}).all()
    keys = [r[0] for r in rows]
    matrix = np.stack([np.frombuffer(r[1], "<f4") for r in rows])

    def top(qv: np.ndarray) -> set[str]:
        return {keys[i] for i in np.argpartition(-(matrix @ qv), 10)[:10]}

    return top


def _graph(engine: Any) -> str:
    """pgvector's HNSW index as built: its operator class, m and ef_construction."""
    from vidlens.search import backends

    with engine.connect() as c:
        d = c.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = %(i)s",
                              {"i": backends.PGVEC_HNSW}).scalar_one()
    ops = re.search(r"\(embedding (\w+)\)", d)
    m, efc = re.search(r"m='?(\d+)", d), re.search(r"ef_construction='?(\d+)", d)
    return (f"`{ops.group(1) if ops else '?'}`, m {m.group(1) if m else 16}, "
            f"ef_construction {efc.group(1) if efc else 64}")


def _vector_layout(engine: Any, model: str, qvs: list[np.ndarray], k: int, exact: Any) -> dict[str, Any]:
    """recall@10 and SQL wall times of the meaning query earlier versions ran on the ``vector(384)`` table:
    ``hnsw.ef_search`` = the candidates (40 at least), the query cast to ``vector``, top ``k``."""
    from vidlens.search import backends

    sql = (f"SELECT key FROM {backends.PGVEC} WHERE model = %(m)s "
           f"ORDER BY embedding <=> CAST(%(q)s AS vector) LIMIT {k}")
    ef, recalls, ms = min(1000, max(40, k)), [], []
    for qv in qvs:
        with engine.begin() as c:
            c.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {ef}")
            t0 = time.perf_counter()
            keys = c.exec_driver_sql(sql, {"m": model, "q": backends.vector_literal(qv)}).scalars().all()
            ms.append((time.perf_counter() - t0) * 1000)
        recalls.append(len(set(keys[:10]) & exact(qv)) / 10)
    return {"ef": ef, "recall": float(np.mean(recalls)), "p50": percentile(ms, 50), "p95": percentile(ms, 95),
            "graph": _graph(engine), "load": os.getloadavg()[0], "at": time.strftime("%H:%M", time.gmtime())}


def _label(statement: str) -> str:
    """What a statement of the search service is, for the breakdown table."""
    for needle, label in (("ts_rank_cd", "words: first cut and `ts_rank_cd` (`pg_words`)"),
                          ("LEFT OUTER JOIN videos", "rows of the fused moments (filters, page)"),
                          ("FROM identities", "words: people named by the query"),
                          ("<=>", "meaning: pgvector HNSW"),
                          ("text_key IN", "meaning: the moments of the texts"),
                          ("max(search_moments.id)", "moments changed? (newest id, documents)"),
                          ("pg_stats", "word statistics"), ("SET LOCAL", "settings (`SET LOCAL`)")):
        if needle in statement:
            return label
    return statement[:60]


def _captured(engine: Any, run: Any) -> tuple[list[tuple[str, Any]], int]:
    """The statements (with their parameters) that ``run()`` sends through ``engine``, and how many
    connections it checks out of the pool."""
    import sqlalchemy as sa

    sent: list[tuple[str, Any]] = []
    checkouts = [0]

    def on_execute(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    def on_checkout(*_: Any) -> None:
        checkouts[0] += 1

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine.pool, "checkout", on_checkout)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine.pool, "checkout", on_checkout)
    return sent, checkouts[0]


def _explain(c: Any, statement: str, params: Any) -> dict[str, Any]:
    return c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params).scalar()[0]


def explain_search(engine: Any, svc: Any, q: str, rankers: list[str] | None
                   ) -> tuple[list[dict[str, Any]], int]:
    """Every statement one ``Search.search(q)`` sends, each run again under ``EXPLAIN (ANALYZE, BUFFERS)``
    on a connection set as the service sets it; and how many pooled connections the search checked out."""
    sent, checkouts = _captured(engine, lambda: svc.search(q, limit=20, rankers=rankers))
    out = []
    with engine.begin() as c:
        for statement, params in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                c.exec_driver_sql(statement, params or None)  # the settings the service makes
                out.append({"label": _label(statement)})
                continue
            plan = _explain(c, statement, params)
            top = plan["Plan"]
            out.append({"label": _label(statement), "plan_ms": plan["Planning Time"],
                        "run_ms": plan["Execution Time"], "rows": top["Actual Rows"],
                        "hit": top.get("Shared Hit Blocks", 0), "read": top.get("Shared Read Blocks", 0)})
    return out, checkouts


def pg_words_plans(engine: Any, q: str, k: int, pool: int) -> dict[str, Any]:
    """The words statement of ``q`` as a custom plan (does JIT compile it with the server's settings?) and
    as a generic plan (the bound words unknown to the planner), as a prepared statement can keep it."""
    from vidlens.search import backends

    words = list(dict.fromkeys(query_terms(q)))[:MAX_TERMS]

    def words_once() -> None:
        with engine.begin() as c:
            backends.pg_words(c, words, k, pool)

    (statement, params), = _captured(engine, words_once)[0][-1:]
    with engine.connect() as c:
        out: dict[str, Any] = {"jit_available": c.exec_driver_sql("SELECT pg_jit_available()").scalar()}
    for mode, setting in (("custom", "SET LOCAL plan_cache_mode = force_custom_plan"),
                          ("generic", "SET LOCAL plan_cache_mode = force_generic_plan")):
        with engine.begin() as c:
            c.exec_driver_sql(setting)
            plan = _explain(c, statement, params)
        out[mode] = {"plan_ms": plan["Planning Time"], "run_ms": plan["Execution Time"],
                     "jit": plan.get("JIT"), "gin": backends.PG_GIN in json.dumps(plan)}
    return out


def _breakdown(explained: list[dict[str, Any]], checkouts: int, plans: dict[str, Any], q: str) -> str:
    """The table of one query's statements (``explain_search``) and the JIT / generic-plan lines."""
    lines = ["| statement | planning ms | execution ms | rows | shared buffers hit / read |",
             "|---|---|---|---|---|"]
    for e in explained:
        lines.append(f"| {e['label']} | " + (" | | | |" if "run_ms" not in e else
                     f"{e['plan_ms']:.2f} | {e['run_ms']:.2f} | {e['rows']} | {e['hit']} / {e['read']} |"))
    total_plan = sum(e.get("plan_ms", 0) for e in explained)
    total_run = sum(e.get("run_ms", 0) for e in explained)
    d, g = plans["custom"], plans["generic"]
    jit = (f"JIT compiled it ({d['jit']['Functions']} functions, {d['jit']['Timing']['Total']:.1f} ms)"
           if d["jit"] else "JIT did not fire" if plans["jit_available"]
           else "JIT did not fire (this server has no JIT: `pg_jit_available()` is false)")
    return (f"One query (\"{q}\") statement by statement: {len(explained)} statements on {checkouts} "
            f"pooled connection(s), planning {total_plan:.1f} ms and execution {total_run:.1f} ms in all on "
            "the server.\n\n" + "\n".join(lines) + "\n\nThe words statement planned for its words (a custom "
            f"plan, as above; JIT as the server has it): {jit}; planning {d['plan_ms']:.1f} ms, execution "
            f"{d['run_ms']:.1f} ms. As a generic plan (the one a prepared statement can keep; the words "
            f"unknown to the planner): planning {g['plan_ms']:.1f} ms, execution "
            f"{g['run_ms']:.1f} ms, GIN index {'used' if g['gin'] else 'not used'}.")


def run_postgres(args: argparse.Namespace, bank: list[str], pv: np.ndarray, rng: np.random.Generator,
                 embedder: TextEmbedder) -> str:
    """The bench on PostgreSQL with pgvector: fill (or reuse), build the indexes, query; the section's text."""
    import importlib

    import sqlalchemy as sa

    from vidlens.platform import Platform
    from vidlens.search import backends
    from vidlens.settings import load_settings

    migration = importlib.import_module("vidlens.search.migrations.search_0005")
    n, name = args.moments, f"vidlens_bench_search_{args.moments}"
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if c.exec_driver_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").first() is None:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        version = c.exec_driver_sql("SHOW server_version").scalar()
        pgvector = c.exec_driver_sql("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").scalar()
    admin.dispose()
    url = sa.engine.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    kept = nullcontext(str(args.data_dir)) if args.data_dir else tempfile.TemporaryDirectory()
    with kept as tmp:
        data = Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        done_file = data / "bench-search-postgresql.json"
        done = json.loads(done_file.read_text()) if done_file.is_file() else {}
        platform = Platform.from_settings(load_settings(data_dir=data, database_url=url))
        engine = platform.store.engine
        svc = platform.service("search")
        with engine.connect() as c:
            had = c.exec_driver_sql("SELECT count(*) FROM search_moments").scalar_one()
        if done.get("moments") not in (None, n) or (had and "moments" not in done):
            raise SystemExit(f"database {name} holds {had:,} moments from another or an unfinished fill: "
                             f"DROP DATABASE {name} first")
        if done and bool(args.from_vector) != ("vector" in done):
            raise SystemExit(f"database {name} was filled {'with' if 'vector' in done else 'without'} --from-vector: "
                             f"DROP DATABASE {name} first")
        if "moments" not in done:
            svc._backends()  # the schema's pgvector table (and its indexes, dropped again for the load)
            if not svc._pgvec:
                raise SystemExit("this PostgreSQL has no pgvector extension: see scripts/pgvector-test-server.py")
            if args.from_vector:  # the table as versions before migration search_0005 made it
                _migrate(engine, migration.downgrade)
            print(f"writing {n:,} moments", file=sys.stderr)
            done = {"moments": n, **fill_pg(engine, n, bank, pv, embedder.name, rng)}
            done_file.write_text(json.dumps(done))
        queries = [f"{bank[a]} {bank[b]}" for a, b in rng.integers(0, len(bank), size=(args.queries, 2))]
        k = svc.settings.candidates
        builds = [("gin_s", backends.PG_GIN_DDL)]
        if args.from_vector:
            builds.append(("vector_hnsw_s", migration.VECTOR_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS")))
        elif not args.words_only:
            builds.append(("hnsw_s", backends.PGVEC_HNSW_DDL))
        for key, ddl in builds:
            if key not in done:
                print(f"building {key[:-2]} index", file=sys.stderr)
                t0 = time.perf_counter()
                with engine.begin() as c:
                    c.exec_driver_sql("SET maintenance_work_mem = '3GB'")  # the graph of a million vectors in memory
                    c.exec_driver_sql(ddl)
                done[key] = time.perf_counter() - t0
                done_file.write_text(json.dumps(done))
        recall_qvs = [embedder.query(q) for q in queries[:args.recall_queries]] if not args.words_only else []
        exact = _exact_top10(engine, embedder.name) if recall_qvs else None
        if args.from_vector and "vector" not in done:
            print("the vector(384) layout: recall and SQL times", file=sys.stderr)
            with engine.connect() as c:
                size = c.exec_driver_sql(f"SELECT pg_total_relation_size('{backends.PGVEC}')").scalar_one()
            done["vector"] = {**_vector_layout(engine, embedder.name, recall_qvs, k, exact), "bytes": size}
            done_file.write_text(json.dumps(done))
        if args.from_vector and "hnsw_s" not in done:
            print("migration search_0005: halfvec and the wider graph", file=sys.stderr)
            done["hnsw_s"] = _migrate(engine, migration.upgrade)
            done["migrated"] = {"load": os.getloadavg()[0], "at": time.strftime("%H:%M", time.gmtime())}
            done_file.write_text(json.dumps(done))
        svc._backends()
        with engine.connect() as c:
            sizes = {t: c.exec_driver_sql(f"SELECT pg_total_relation_size('{t}')").scalar_one()
                     for t in ("search_moments", "search_text_vectors", backends.PGVEC)}
            sizes["gin"] = c.exec_driver_sql(f"SELECT pg_relation_size('{backends.PG_GIN}')").scalar_one()
            sizes["hnsw"] = c.exec_driver_sql(f"SELECT coalesce(pg_relation_size(to_regclass('{backends.PGVEC_HNSW}')), 0)"
                                              ).scalar_one()
        graph = _graph(engine) if not args.words_only else ""

        svc.search("warm up", limit=20, rankers=["words"] if args.words_only else None)
        first = queries[0]
        explained, checkouts = explain_search(engine, svc, first, ["words"] if args.words_only else None)
        jit_generic = pg_words_plans(engine, first, k, WORD_POOL * k)
        server_clock = _server_cpu(engine)
        lat, cpu, words_lat, meaning_lat, hits = [], [], [], [], []
        exact_words_lat, word_recalls, word_score_recalls, server_cpu = [], [], [], 0.0
        ef = svc.pg_ef_search(k)  # as the meaning ranker sets it
        for qi, q in enumerate(queries):
            before = server_clock()
            res = timed_search(svc, q, lat, cpu) if not args.words_only else \
                svc.search(q, limit=20, rankers=["words"])  # the words alone are timed below
            server_cpu += server_clock() - before
            hits.append(len(res["hits"]))
            for ranker, into in (("words", words_lat), ("meaning", meaning_lat)):
                if ranker == "meaning" and args.words_only:
                    continue
                t0 = time.perf_counter()
                svc.search(q, limit=20, rankers=[ranker])
                into.append(time.perf_counter() - t0)
            if qi < args.recall_queries:
                words = list(dict.fromkeys(query_terms(q)))[:MAX_TERMS]
                with engine.begin() as c:
                    cut = [(h.id, h.rank) for h in backends.pg_words(c, words, k, pool=WORD_POOL * k)[:10]]
                    t0 = time.perf_counter()
                    every = c.exec_driver_sql(
                        "SELECT id, ts_rank_cd(terms_tsv, q) AS r FROM search_moments, to_tsquery('simple', %(q)s) q "
                        "WHERE terms_tsv @@ q ORDER BY r DESC, id LIMIT 10", {"q": " | ".join(words)}).all()
                    exact_words_lat.append(time.perf_counter() - t0)
                word_recalls.append(len({i for i, _ in cut} & {i for i, _ in every}) / 10)
                # ties: moments of equal rank are interchangeable, so also count ranks whose score is the exact one's
                word_score_recalls.append(sum(abs(a[1] - b[1]) < 1e-6 for a, b in zip(cut, every, strict=False)) / 10)
        recalls, half_recalls, sql_ms = [], [], []
        for qv in recall_qvs:  # the meaning ranker's own query (backends.pg_nearest), its top 10 against exact
            with engine.begin() as c:
                t0 = time.perf_counter()
                found = backends.pg_nearest(c, qv, embedder.name, k, ef, iterative=svc._pg_iterative)
                sql_ms.append((time.perf_counter() - t0) * 1000)
            with engine.begin() as c:
                c.exec_driver_sql("SET LOCAL enable_indexscan = off")  # the exact scan of the halfvecs
                exact_half = set(c.execute(sa.text(backends.PGVEC_NEAREST),
                                           {"q": backends.vector_literal(qv), "model": embedder.name, "k": 10}).scalars())
            top = {key for key, _ in found[:10]}
            recalls.append(len(top & exact(qv)) / 10)
            half_recalls.append(len(top & exact_half) / 10)
        platform.close()

    ms, cpu_ms, w_ms, m_ms, x_ms = ([x * 1000 for x in xs] for xs in (lat, cpu, words_lat, meaning_lat,
                                                                      exact_words_lat))
    load = os.getloadavg()
    if args.words_only:
        return f"""## Find at scale on PostgreSQL: the words ranker alone (`bench/bench_search.py --postgres --words-only`)

{stamp()} PostgreSQL {version}, pgvector {pgvector}, same machine; under load (load average {load[0]:.1f} /
{load[1]:.1f} / {load[2]:.1f} when it ended, `nproc` {os.cpu_count()}).

{n:,} synthetic moments made as in the SQLite section, {args.queries} queries of two phrases, each
`Search.search(q, limit=20, rankers=["words"])` through the service: `ts_rank_cd` on the stored `terms_tsv`
(GIN index) over a first cut of at most {WORD_POOL * k} moments holding the most query words, the
rarest words first by `pg_stats` (`backends.pg_words`; top {k}),
rows and page; median {int(np.median(hits))} hits per page. No pgvector HNSW index was built at this size
(its build would not have finished in the time at hand), so the hybrid query is not timed here.

| | p50 ms | p95 ms |
|---|---|---|
| words ranker through the service: wall clock (under load) | {percentile(w_ms, 50):.1f} | {percentile(w_ms, 95):.1f} |
| server's processes' CPU time, mean per query (read from /proc, 10 ms ticks) | {server_cpu / len(hits) * 1000:.1f} | |
| words ranked without the first cut (`ts_rank_cd` over every match, top 10; SQL alone): wall clock | {percentile(x_ms, 50):.1f} | {percentile(x_ms, 95):.1f} |

Over {len(word_recalls)} of the queries, the words ranker's top 10 against `ts_rank_cd` over every matching
moment: the same moments {np.mean(word_recalls):.3f}, the same scores rank by rank {np.mean(word_score_recalls):.3f}
(moments of equal score are interchangeable; the exact list breaks ties by id).

Loading: COPY of the rows, text vectors and pgvector's table {done['write_s']:.0f} s; GIN word index
{done['gin_s']:.0f} s. Moments with their indexes {sizes['search_moments'] / 1e6:,.0f} MB (of which GIN
{sizes['gin'] / 1e6:,.0f} MB).

{_breakdown(explained, checkouts, jit_generic, first)}
"""
    old = done.get("vector")
    compared = "" if not old else f"""
The same {len(recall_qvs)} queries on the layout before migration `search_0005`, in the same run and database
(filled as `vector(384)` under HNSW {old['graph']}, queried as earlier versions did: `hnsw.ef_search`
{old['ef']}, the query cast to `vector`, top {k}; measured {old['at']} UTC, load average {old['load']:.1f}), then
migrated in place by `search_0005`'s own upgrade (column cast to `halfvec(384)`, graph built again) in
{done['hnsw_s']:.0f} s wall (`maintenance_work_mem` 3 GB; ended {done['migrated']['at']} UTC, load average
{done['migrated']['load']:.1f}; the old graph took {done['vector_hnsw_s']:.0f} s to build):

| layout | recall@10 (vs float32 exact) | meaning query, SQL alone: p50 ms | p95 ms | table with index MB |
|---|---:|---:|---:|---:|
| `vector(384)`, {old['graph']}, `ef_search` {old['ef']} | {old['recall']:.3f} | {old['p50']:.1f} | {old['p95']:.1f} | {old['bytes'] / 1e6:,.0f} |
| `halfvec(384)`, {graph}, `ef_search` {ef} | {np.mean(recalls):.3f} | {percentile(sql_ms, 50):.1f} | {percentile(sql_ms, 95):.1f} | {sizes[backends.PGVEC] / 1e6:,.0f} |
"""
    return f"""## Find at scale on PostgreSQL: hybrid query latency, pgvector recall (`bench/bench_search.py --postgres`)

{stamp()} PostgreSQL {version}, pgvector {pgvector}, same machine; under load (load average {load[0]:.1f} /
{load[1]:.1f} / {load[2]:.1f} when it ended, `nproc` {os.cpu_count()}).

{n:,} synthetic moments made as in the SQLite section (texts of three of {len(bank)} real phrases, vectors
composed from their e5 embeddings plus noise), {args.queries} queries of two phrases, each
`Search.search(q, limit=20)` through the service: e5 query pass, `ts_rank_cd` on the stored `terms_tsv`
(GIN index) over a first cut of at most {WORD_POOL * k} moments holding the most query words, the
rarest words first by `pg_stats` (`backends.pg_words`; top {k}),
pgvector HNSW on `halfvec(384)` ({graph}, `hnsw.ef_search` {ef}{', iterative scan' if svc._pg_iterative else ''},
top {k}), fusion, rows and page; median {int(np.median(hits))} hits per page. Each query also ran with one ranker alone.

| | p50 ms | p95 ms |
|---|---|---|
| hybrid query, whole service call: wall clock (under load) | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} |
| hybrid query: CPU time of the client process (the server's is not in it) | {percentile(cpu_ms, 50):.1f} | {percentile(cpu_ms, 95):.1f} |
| hybrid query: CPU time of the server's processes, mean per query (read from /proc, 10 ms ticks) | {server_cpu / len(lat) * 1000:.1f} | |
| words alone (`ts_rank_cd`): wall clock | {percentile(w_ms, 50):.1f} | {percentile(w_ms, 95):.1f} |
| meaning alone (e5 + pgvector HNSW): wall clock | {percentile(m_ms, 50):.1f} | {percentile(m_ms, 95):.1f} |
| meaning's pgvector query alone (SQL, top {k}): wall clock, over {len(sql_ms)} queries | {percentile(sql_ms, 50):.1f} | {percentile(sql_ms, 95):.1f} |
| words ranked without the first cut (`ts_rank_cd` over every match, top 10; SQL alone): wall clock | {percentile(x_ms, 50):.1f} | {percentile(x_ms, 95):.1f} |

Over {len(recalls)} of the queries: the meaning ranker's pgvector top 10 against the exact cosine top 10 of
the float32 vectors **{np.mean(recalls):.3f}** (against an exact scan of the halfvecs themselves, index scans
off: {np.mean(half_recalls):.3f}); the words ranker's top 10 against `ts_rank_cd` over every matching moment: the
same moments {np.mean(word_recalls):.3f}, the same scores rank by rank {np.mean(word_score_recalls):.3f}
(moments of equal score are interchangeable; the exact list breaks ties by id).
{compared}
Loading and indexing: COPY of the rows, text vectors and pgvector's table {done['write_s']:.0f} s; GIN word
index {done['gin_s']:.0f} s; pgvector HNSW index {done['hnsw_s']:.0f} s{' (the migration above)' if old else ''} (`maintenance_work_mem` 3 GB). Sizes with
their indexes: moments {sizes['search_moments'] / 1e6:,.0f} MB (of which GIN {sizes['gin'] / 1e6:,.0f} MB), text
vectors {sizes['search_text_vectors'] / 1e6:,.0f} MB, pgvector table {sizes[backends.PGVEC] / 1e6:,.0f} MB (of which
HNSW {sizes['hnsw'] / 1e6:,.0f} MB).

{_breakdown(explained, checkouts, jit_generic, first)}
"""


if __name__ == "__main__":
    main()
