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
    nice python bench/bench_search.py --postgres URL [--moments 1000000] [--data-dir DIR] [--words-only]

With ``--data-dir`` the filled data dir is kept: a second run with the same ``--moments`` skips writing
the rows, and an HNSW build that was stopped goes on from its last save (the service saves the index
file every 250,000 vectors). Progress goes to stderr.

``--postgres URL`` (a server with the pgvector extension: ``scripts/pgvector-test-server.py start DIR``
starts one from the test extra's wheel) runs the same moments and queries on PostgreSQL, in a database
``vidlens_bench_search_N`` made on that server and kept for a rerun: rows, text vectors and pgvector's
table are loaded with COPY with the search indexes dropped, then the service's own GIN word index and
pgvector HNSW index (``vidlens.search.backends``) are built, both timed; each query is the same
``Search.search`` call, answered by ``ts_rank_cd`` over the stored word vectors of a bounded first cut
(``backends.pg_words``) and pgvector. On ``--recall-queries`` of the queries, recall@10 of pgvector's HNSW
(at the ``hnsw.ef_search`` the service sets) is measured against an exact scan in SQL, and the words
ranker's top 10 against ``ts_rank_cd`` over every matching moment (also timed). Section
``search-postgresql``. With ``--words-only`` no pgvector HNSW index is built and only the words ranker is
timed (section ``search-postgresql-words``): for a size whose vector index cannot be built in the time at
hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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


def _words_against_fts5(svc: Any, q: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]], float]:
    """The words ranker's top 10 for ``q`` (``fts_words``: its first cut scored), FTS5's own bm25 top 10
    over every matching moment (the ranker before the cut) and the seconds that second query took."""
    from vidlens.search import backends
    from vidlens.search.fts_words import fts_tokens, fts_words

    words = list(dict.fromkeys(w for t in query_terms(q)[:MAX_TERMS] for w in fts_tokens(t)))
    k = svc.settings.candidates
    with svc.store.read() as conn:
        cut = fts_words(conn, words, k, FTS_POOL * k, svc._word_stats)[:10]
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
            recalls.append(len({i for i, _ in cut} & {i for i, _ in every}) / 10)
            score_recalls.append(sum(abs(x[1] - y[1]) < 1e-9 for x, y in zip(cut, every, strict=False)) / 10)
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
                word_recalls.append(len({i for i, _ in cut} & {i for i, _ in every}) / 10)
                # ties: moments of equal score are interchangeable, so also count ranks whose score is the exact one's
                word_score_recalls.append(sum(abs(x[1] - y[1]) < 1e-9 for x, y in zip(cut, every, strict=False)) / 10)
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
        c.exec_driver_sql(f"DROP INDEX IF EXISTS {backends.PGVEC}_hnsw")
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
            head = struct.pack(">hh", pv.shape[1], 0)  # pgvector's binary form: dimensions, unused, big-endian floats
            _copy_binary(cur, backends.PGVEC, "model, key, embedding",
                         [(m, k.encode(), head + v.astype(">f4").tobytes()) for k, v in new])
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


def run_postgres(args: argparse.Namespace, bank: list[str], pv: np.ndarray, rng: np.random.Generator,
                 embedder: TextEmbedder) -> str:
    """The bench on PostgreSQL with pgvector: fill (or reuse), build the indexes, query; the section's text."""
    import sqlalchemy as sa

    from vidlens.platform import Platform
    from vidlens.search import backends
    from vidlens.search.service import WORD_POOL
    from vidlens.settings import load_settings

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
        if "moments" not in done:
            svc._backends()  # the schema's pgvector table (and its indexes, dropped again for the load)
            if not svc._pgvec:
                raise SystemExit("this PostgreSQL has no pgvector extension: see scripts/pgvector-test-server.py")
            print(f"writing {n:,} moments", file=sys.stderr)
            done = {"moments": n, **fill_pg(engine, n, bank, pv, embedder.name, rng)}
            done_file.write_text(json.dumps(done))
        for key, ddl in (("gin_s", backends.PG_GIN_DDL), ("hnsw_s", backends.PGVEC_HNSW_DDL)):
            if key not in done and not (args.words_only and key == "hnsw_s"):
                print(f"building {key[:-2]} index", file=sys.stderr)
                t0 = time.perf_counter()
                with engine.begin() as c:
                    c.exec_driver_sql("SET maintenance_work_mem = '3GB'")  # the graph of a million vectors in memory
                    c.exec_driver_sql(ddl)
                done[key] = time.perf_counter() - t0
                done_file.write_text(json.dumps(done))
        svc._backends()
        with engine.connect() as c:
            sizes = {t: c.exec_driver_sql(f"SELECT pg_total_relation_size('{t}')").scalar_one()
                     for t in ("search_moments", "search_text_vectors", backends.PGVEC)}
            sizes["gin"] = c.exec_driver_sql(f"SELECT pg_relation_size('{backends.PG_GIN}')").scalar_one()
            sizes["hnsw"] = c.exec_driver_sql(f"SELECT coalesce(pg_relation_size(to_regclass('{backends.PGVEC}_hnsw')), 0)"
                                              ).scalar_one()

        svc.search("warm up", limit=20, rankers=["words"] if args.words_only else None)
        server_clock = _server_cpu(engine)
        lat, cpu, words_lat, meaning_lat, recalls, hits = [], [], [], [], [], []
        exact_words_lat, word_recalls, word_score_recalls, server_cpu = [], [], [], 0.0
        k = svc.settings.candidates
        ef = min(1000, max(40, k))  # as the meaning ranker sets it
        for qi, (a, b) in enumerate(rng.integers(0, len(bank), size=(args.queries, 2))):
            q = f"{bank[a]} {bank[b]}"
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
            if qi < args.recall_queries and not args.words_only:
                qv = backends.vector_literal(embedder.query(q))
                top = ("SELECT key FROM {t} WHERE model = %(m)s ORDER BY embedding <=> CAST(%(q)s AS vector) LIMIT 10")
                with engine.begin() as c:
                    c.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {ef}")
                    found = set(c.exec_driver_sql(top.format(t=backends.PGVEC), {"m": embedder.name, "q": qv}).scalars())
                with engine.begin() as c:
                    c.exec_driver_sql("SET LOCAL enable_indexscan = off")  # the exact scan
                    exact = set(c.exec_driver_sql(top.format(t=backends.PGVEC), {"m": embedder.name, "q": qv}).scalars())
                recalls.append(len(found & exact) / 10)
            if qi < args.recall_queries:
                words = list(dict.fromkeys(query_terms(q)))[:MAX_TERMS]
                with engine.begin() as c:
                    cut = backends.pg_words(c, words, k, pool=WORD_POOL * k)[:10]
                    t0 = time.perf_counter()
                    every = c.exec_driver_sql(
                        "SELECT id, ts_rank_cd(terms_tsv, q) AS r FROM search_moments, to_tsquery('simple', %(q)s) q "
                        "WHERE terms_tsv @@ q ORDER BY r DESC, id LIMIT 10", {"q": " | ".join(words)}).all()
                    exact_words_lat.append(time.perf_counter() - t0)
                word_recalls.append(len({i for i, _ in cut} & {i for i, _ in every}) / 10)
                # ties: moments of equal rank are interchangeable, so also count ranks whose score is the exact one's
                word_score_recalls.append(sum(abs(a[1] - b[1]) < 1e-6 for a, b in zip(cut, every, strict=False)) / 10)
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
(GIN index) over a first cut of at most {WORD_POOL * k} moments holding the most query words (top {k}),
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
"""
    return f"""## Find at scale on PostgreSQL: hybrid query latency, pgvector recall (`bench/bench_search.py --postgres`)

{stamp()} PostgreSQL {version}, pgvector {pgvector}, same machine; under load (load average {load[0]:.1f} /
{load[1]:.1f} / {load[2]:.1f} when it ended, `nproc` {os.cpu_count()}).

{n:,} synthetic moments made as in the SQLite section (texts of three of {len(bank)} real phrases, vectors
composed from their e5 embeddings plus noise), {args.queries} queries of two phrases, each
`Search.search(q, limit=20)` through the service: e5 query pass, `ts_rank_cd` on the stored `terms_tsv`
(GIN index) over a first cut of at most {WORD_POOL * k} moments holding the most query words (top {k}),
pgvector HNSW (m 16, ef_construction 64, `hnsw.ef_search` {ef}, top {k}), fusion, rows and page; median
{int(np.median(hits))} hits per page. Each query also ran with one ranker alone.

| | p50 ms | p95 ms |
|---|---|---|
| hybrid query, whole service call: wall clock (under load) | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} |
| hybrid query: CPU time of the client process (the server's is not in it) | {percentile(cpu_ms, 50):.1f} | {percentile(cpu_ms, 95):.1f} |
| hybrid query: CPU time of the server's processes, mean per query (read from /proc, 10 ms ticks) | {server_cpu / len(lat) * 1000:.1f} | |
| words alone (`ts_rank_cd`): wall clock | {percentile(w_ms, 50):.1f} | {percentile(w_ms, 95):.1f} |
| meaning alone (e5 + pgvector HNSW): wall clock | {percentile(m_ms, 50):.1f} | {percentile(m_ms, 95):.1f} |
| words ranked without the first cut (`ts_rank_cd` over every match, top 10; SQL alone): wall clock | {percentile(x_ms, 50):.1f} | {percentile(x_ms, 95):.1f} |

Over {len(recalls)} of the queries: pgvector HNSW recall@10 against the exact scan (index scans off)
**{np.mean(recalls):.3f}**; the words ranker's top 10 against `ts_rank_cd` over every matching moment: the
same moments {np.mean(word_recalls):.3f}, the same scores rank by rank {np.mean(word_score_recalls):.3f}
(moments of equal score are interchangeable; the exact list breaks ties by id).

Loading and indexing: COPY of the rows, text vectors and pgvector's table {done['write_s']:.0f} s; GIN word
index {done['gin_s']:.0f} s; pgvector HNSW index {done['hnsw_s']:.0f} s (`maintenance_work_mem` 3 GB). Sizes with
their indexes: moments {sizes['search_moments'] / 1e6:,.0f} MB (of which GIN {sizes['gin'] / 1e6:,.0f} MB), text
vectors {sizes['search_text_vectors'] / 1e6:,.0f} MB, pgvector table {sizes[backends.PGVEC] / 1e6:,.0f} MB (of which
HNSW {sizes['hnsw'] / 1e6:,.0f} MB).
"""


if __name__ == "__main__":
    main()
