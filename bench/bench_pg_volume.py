"""PostgreSQL at volume: the job queue, the fingerprint registry and the event tables at 10 million rows.

    python bench/bench_pg_volume.py [--url postgresql+psycopg://...] [--rows 10000000] [--queued 10000]
    python bench/bench_pg_volume.py --index-only [--rows 2000000]   # the claim with and without ix_jobs_ready

A fresh database gets the real schema (every capability's Alembic migrations), then rows generated on
the server (``INSERT ... SELECT generate_series``, with the migrations' indexes in place): ``jobs``
(finished jobs, plus ``--queued`` waiting ones), ``protect_works`` (the fingerprint registry's rows),
``protect_matches`` and ``govern_audit`` (event tables); ``--tables`` picks some of them. Then it times what the code asks of them:
``JobQueue.claim`` with the queued jobs waiting (one claimer, then four at once, never the same job
twice) and the registry's and listings' look-ups, and reads the database's own counters
(pg_stat_database: blocks read from disk and from cache, rows read) per claim. The section in
docs/benchmarks.md says the load average it ran under.

``--search-index`` measures Find's vector index at volume instead (section ``pg-search-index``), on a
server with pgvector (``scripts/pgvector-test-server.py start DIR``): ``--rows`` text vectors stored as
``halfvec(384)`` (half the bytes of ``vector``), generated on the server around real multilingual-e5
embeddings of real phrases (each row the normalised sum of three phrase vectors and a noise vector, as
``bench_search.py`` composes them), with an HNSW index over their binary quantisation
(``binary_quantize(embedding)::bit(384)``, Hamming distance: 48 bytes a vector) and an exact cosine
re-rank of its top candidates. Fill and index build are timed (the fill goes on from the rows already
there, in a database ``vidlens_bench_vectors`` kept for a rerun: a larger ``--rows`` adds rows and builds
the index again); queries are e5 query vectors of
two-phrase queries; recall@10 against the exact scan (index scans off) on a sample of them.

Every run also compares the claim with and without the ready index (migration 0003's partial index
``ix_jobs_ready``) on the same table: claims with it, with it dropped, and with it built again, each
claimed job put back so the queue stays as it was (section ``pg-claim-index``; ``--index-only`` fills
only the job table and measures only that).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import stamp, write_section

from vidlens.platform import Platform
from vidlens.settings import load_settings

SHA = "md5(g::text) || md5((g + 1)::text)"  # 64 hex characters, distinct per row

FILL = {
    "jobs": """INSERT INTO jobs (kind, key, video_id, payload, status, priority, attempts, max_attempts, run_after,
                  progress, cancel_requested, created_at, started_at, finished_at, completions, result)
               SELECT 'analyze', 'bench:' || g, {sha}, json_build_object('video_id', {sha}), 'succeeded', 0, 1, 3,
                      1.7e9 + g, 1.0, false, 1.7e9 + g, 1.7e9 + g, 1.7e9 + g + 30, 1,
                      json_build_object('frames', g % 9000, 'status', 'analysed')
               FROM generate_series(1, :n) g""",
    "protect_works": """INSERT INTO protect_works (id, content_sha256, owner, title, licence, policy, status, duration_s,
                  source_uri, visual_blob, audio_blob, fingerprint_digest, certificate, ledger_seq, registered_at)
               SELECT substr(md5('w' || g), 1, 32), {sha}, 'owner-' || (g % 5000), 'work ' || g, NULL,
                      'track', CASE WHEN g % 50 = 0 THEN 'removed' ELSE 'active' END, 30 + g % 3600,
                      '/srv/media/' || g || '.mp4', substr({sha}, 1, 2) || '/' || {sha} || '.npy',
                      substr(md5('a' || g), 1, 2) || '/' || md5('a' || g) || md5('b' || g) || '.npy',
                      {sha}, '{{}}'::json, g, 1.7e9 + g
               FROM generate_series(1, :n) g""",
    "protect_matches": """INSERT INTO protect_matches (query_sha256, query_uri, work_id, query_start_s, query_end_s,
                  reference_start_s, reference_end_s, score, kind, decision, hints, created_at)
               SELECT {sha}, '/srv/uploads/' || g || '.mp4', substr(md5('w' || (g % 1000000)), 1, 32),
                      0, 10, g % 600, g % 600 + 10, 0.5 + (g % 50) / 100.0, 'visual', 'track', '[]'::json, 1.7e9 + g
               FROM generate_series(1, :n) g""",
    "govern_audit": """INSERT INTO govern_audit (at, actor, role, via, key_id, method, path, status_code, action,
                  subject, detail, prev_hash, hash)
               SELECT 1.7e9 + g, 'user-' || (g % 300), 'reviewer', 'key', g % 40, 'POST', '/api/videos',
                      201, 'video.upload', 'video:' || {sha}, '{{}}'::json, md5((g - 1)::text) || md5(g::text),
                      {sha}
               FROM generate_series(1, :n) g""",
}


QUEUED = """INSERT INTO jobs (kind, key, video_id, payload, status, priority, attempts, max_attempts, run_after,
                  progress, cancel_requested, created_at, completions)
             SELECT 'analyze', 'bench-queued:' || g, {sha}, json_build_object('video_id', {sha}), 'queued', 0, 0,
                    3, 1.7e9, 0, false, 1.7e9, 0
             FROM generate_series(:a, :b) g"""


def timed(fn: Callable[[], Any], reps: int) -> dict[str, float]:
    """p50 / p95 / max of ``reps`` calls, in milliseconds."""
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    return {"p50": statistics.median(ms), "p95": ms[int(0.95 * (len(ms) - 1))], "max": ms[-1]}


def db_counters(engine: sa.Engine, db: str) -> dict[str, int]:
    with engine.connect() as c:
        row = c.execute(sa.text("SELECT blks_read, blks_hit, tup_fetched, tup_returned, xact_commit "
                                "FROM pg_stat_database WHERE datname = :d"), {"d": db}).one()
    return dict(row._mapping)


def fill_table(engine: sa.Engine, table: str, rows: int, queued: int) -> tuple[float, float]:
    """Fill one table in its own transaction; its secondary indexes are dropped first and built again
    after (as a bulk load is done). Returns (fill seconds, index build seconds)."""
    with engine.begin() as c:
        indexes = c.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))"), {"t": table}).all()
        for name, _ in indexes:
            c.execute(sa.text(f'DROP INDEX "{name}"'))
        t0 = time.perf_counter()
        c.execute(sa.text(FILL[table].format(sha=SHA)), {"n": rows - queued if table == "jobs" else rows})
        if table == "jobs":
            c.execute(sa.text(QUEUED.format(sha=SHA)), {"a": rows, "b": rows + queued - 1})
        t1 = time.perf_counter()
        for _, ddl in indexes:
            c.execute(sa.text(ddl))
        c.execute(sa.text(f"ANALYZE {table}"))
    print(f"  {table}: {rows:,} rows in {t1 - t0:.0f} s, indexes {time.perf_counter() - t1:.0f} s", file=sys.stderr)
    return t1 - t0, time.perf_counter() - t1


def fill(engine: sa.Engine, rows: int, queued: int, tables: list[str]) -> dict[str, tuple[float, float] | None]:
    """Fill the tables at once, one connection each; a table that already holds ``rows`` (``--reuse``) is kept
    (None: filled by an earlier run)."""
    seconds: dict[str, tuple[float, float] | None] = {}
    with engine.connect() as c:
        todo = [t for t in tables if c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() < rows]
    seconds.update({t: None for t in tables if t not in todo})
    threads = [threading.Thread(target=lambda t=t: seconds.__setitem__(t, fill_table(engine, t, rows, queued)))
               for t in todo]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seconds


def claims(platform: Platform, n: int, threads: int) -> tuple[dict[str, float], float, int]:
    """``n`` claims (each completed at once) by ``threads`` claimers: latency, claims/s, jobs claimed twice."""
    q = platform.jobs
    lat: list[float] = []
    seen: list[int] = []
    lock = threading.Lock()

    def claimer(k: int) -> None:
        wid = f"bench-{k}-{uuid.uuid4().hex[:6]}"
        for _ in range(n // threads):
            t0 = time.perf_counter()
            job = q.claim(wid, ["analyze"])
            dt = (time.perf_counter() - t0) * 1000
            assert job is not None
            q.complete(job.id, wid, {"bench": True})
            with lock:
                lat.append(dt)
                seen.append(job.id)

    t0 = time.perf_counter()
    ts = [threading.Thread(target=claimer, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    stats = {"p50": statistics.median(lat), "p95": lat[int(0.95 * (len(lat) - 1))], "max": lat[-1]}
    return stats, len(lat) / wall, len(seen) - len(set(seen))


CLAIM_SQL = ("SELECT id FROM jobs WHERE kind = 'analyze' AND "
             "((status = 'queued' AND run_after <= 2e9) OR (status = 'running' AND lease_expires < 2e9)) "
             "ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED")


def claims_put_back(platform: Platform, n: int) -> dict[str, float]:
    """``n`` claims by one claimer, each claimed job put back in the queue untimed: latency in ms."""
    wid = f"bench-{uuid.uuid4().hex[:6]}"
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        job = platform.jobs.claim(wid, ["analyze"])
        lat.append((time.perf_counter() - t0) * 1000)
        assert job is not None
        with platform.store.engine.begin() as c:
            c.execute(sa.text("UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires = NULL, "
                              "attempts = 0, started_at = NULL WHERE id = :i"), {"i": job.id})
    lat.sort()
    return {"p50": statistics.median(lat), "p95": lat[int(0.95 * (len(lat) - 1))], "max": lat[-1]}


def ready_index_comparison(platform: Platform, n: int) -> list[dict[str, Any]]:
    """The claim with ``ix_jobs_ready``, with it dropped (the ``status`` index is left), and built again."""
    engine = platform.store.engine
    with engine.connect() as c:
        ddl = c.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_jobs_ready'")).scalar_one()
    out = []
    for label, present in (("`ix_jobs_ready` (migration 0003)", True), ("dropped: `status` index only", False),
                           ("`ix_jobs_ready` built again", True)):
        with engine.begin() as c:
            exists = c.execute(sa.text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_jobs_ready'")).first()
            if present and not exists:
                c.execute(sa.text(ddl))
            elif exists and not present:
                c.execute(sa.text("DROP INDEX ix_jobs_ready"))
            c.execute(sa.text("ANALYZE jobs"))
        with engine.connect() as c:
            plan = "\n".join(r[0] for r in c.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {CLAIM_SQL}")))
        bufs = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", plan)
        took = re.search(r"Execution Time: ([\d.]+) ms", plan)
        node = next((ln.strip().split(" (")[0].lstrip("-> ") for ln in plan.splitlines()
                     if "Scan" in ln or "Sort" in ln), "?")
        out.append({"label": label, "query_ms": float(took.group(1)) if took else float("nan"),
                    "buffers": sum(int(g or 0) for g in bufs.groups()) if bufs else 0, "node": node,
                    **claims_put_back(platform, n)})
        print(f"  {label}: {out[-1]}", file=sys.stderr)
    return out


def index_section(rows: int, queued: int, n: int, results: list[dict[str, Any]]) -> str:
    load = os.getloadavg()
    table = [f"| {r['label']} | {r['node']} | {r['query_ms']:.2f} | {r['buffers']} | {r['p50']:.2f} | "
             f"{r['p95']:.2f} | {r['max']:.1f} |" for r in results]
    ratio = results[1]["p50"] / statistics.mean([results[0]["p50"], results[2]["p50"]])
    return f"""## PostgreSQL: the claim with and without the ready index (`bench/bench_pg_volume.py`)

{stamp()} Under load (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, `nproc` {os.cpu_count()}).
{rows:,} jobs, {queued:,} of them queued. In one run, on the same table: {n} claims by one claimer (each claimed
job put back untimed, so every claim sees {queued:,} queued) with migration 0003's partial index, with it
dropped, and with it built again; the claim query's own plan (EXPLAIN ANALYZE) before each set.

| jobs index | plan | claim query alone (ms) | buffers | claim p50 (ms) | p95 (ms) | max (ms) |
|---|---|---:|---:|---:|---:|---:|
{chr(10).join(table)}

Without the index a claim's p50 is {ratio:.1f} times the mean of the two runs with it.
"""


VEC_TABLE = "bench_search_halfvec"
VEC_INDEX = f"{VEC_TABLE}_bq_hnsw"
VEC_FILL = f"""INSERT INTO {VEC_TABLE} (id, embedding)
    SELECT p.g, l2_normalize(b1.v + b2.v + b3.v + z.v)::halfvec(384)
    FROM (SELECT g, (hashint8(g) & 2147483647) % CAST(:nb AS int) AS i1,
                 (hashint8(g + 100000000000) & 2147483647) % CAST(:nb AS int) AS i2,
                 (hashint8(g + 200000000000) & 2147483647) % CAST(:nb AS int) AS i3,
                 (hashint8(g + 300000000000) & 2147483647) % CAST(:nz AS int) AS i4
          FROM generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) g) p
    JOIN bench_bank b1 ON b1.i = p.i1 JOIN bench_bank b2 ON b2.i = p.i2 JOIN bench_bank b3 ON b3.i = p.i3
    JOIN bench_noise z ON z.i = p.i4"""
ANN = (f"SELECT id FROM (SELECT id, embedding FROM {VEC_TABLE} ORDER BY binary_quantize(embedding)::bit(384) <~> "
       "binary_quantize(CAST(:q AS halfvec(384)))::bit(384) LIMIT :c) cand "
       "ORDER BY embedding <=> CAST(:q AS halfvec(384)) LIMIT 10")
EXACT = f"SELECT id FROM {VEC_TABLE} ORDER BY embedding <=> CAST(:q AS halfvec(384)) LIMIT 10"


def search_index(url: str, rows: int, queries: int, exact_queries: int) -> str:
    """Find's text vectors at volume in pgvector: fill, binary-quantised HNSW build, queries, recall."""
    from bench_search import phrases

    from vidlens.search.backends import vector_literal
    from vidlens.search.text import TextEmbedder

    name = "vidlens_bench_vectors"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if c.exec_driver_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").first() is None:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        version = c.exec_driver_sql("SHOW server_version").scalar()
    admin.dispose()
    engine = sa.create_engine(sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False))
    rng = np.random.default_rng(23)
    embedder = TextEmbedder.shared()
    bank = phrases()
    with engine.begin() as c:
        c.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
        pgvector = c.exec_driver_sql("SELECT extversion FROM pg_extension WHERE extname = 'vector'").scalar()
        c.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {VEC_TABLE} (id bigint PRIMARY KEY, embedding halfvec(384) NOT NULL)")
        c.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_state (key text PRIMARY KEY, seconds float NOT NULL)")
        if c.exec_driver_sql("SELECT to_regclass('bench_bank')").scalar() is None:
            pv = embedder.passages(bank).astype(np.float32)
            noise = rng.normal(0, 0.06, (4096, pv.shape[1]))  # three phrases' sum: 3 x the 0.02 of bench_search
            for table, vecs in (("bench_bank", pv), ("bench_noise", noise)):
                c.exec_driver_sql(f"CREATE TABLE {table} (i int PRIMARY KEY, v vector(384) NOT NULL)")
                c.execute(sa.text(f"INSERT INTO {table} (i, v) VALUES (:i, CAST(:v AS vector))"),
                          [{"i": i, "v": vector_literal(v)} for i, v in enumerate(vecs)])
        have = c.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {VEC_TABLE}").scalar_one()
        state = dict(c.exec_driver_sql("SELECT key, seconds FROM bench_state").all())
        nb = c.exec_driver_sql("SELECT count(*) FROM bench_bank").scalar_one()
        nz = c.exec_driver_sql("SELECT count(*) FROM bench_noise").scalar_one()
    if have > rows:
        raise SystemExit(f"{name} holds {have:,} vectors, more than --rows: DROP DATABASE {name} first")
    if have < rows and "index_s" in state:  # a larger run on the rows of a smaller one: the index is built again
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP INDEX IF EXISTS {VEC_INDEX}")
            c.exec_driver_sql("DELETE FROM bench_state WHERE key = 'index_s'")
    step = 500_000
    for a in range(have + 1, rows + 1, step):
        b = min(rows, a + step - 1)
        t0 = time.perf_counter()
        with engine.begin() as c:
            c.execute(sa.text(VEC_FILL), {"a": a, "b": b, "nb": nb, "nz": nz})
            c.execute(sa.text("INSERT INTO bench_state VALUES ('fill_s', :s) ON CONFLICT (key) DO UPDATE "
                              "SET seconds = bench_state.seconds + :s"), {"s": time.perf_counter() - t0})
        print(f"  search vectors: {b:,} of {rows:,} ({time.perf_counter() - t0:.0f} s for {b - a + 1:,})",
              file=sys.stderr)
    with engine.begin() as c:
        state = dict(c.exec_driver_sql("SELECT key, seconds FROM bench_state").all())
        if "index_s" not in state:
            print("  building the binary-quantised HNSW index", file=sys.stderr)
            c.exec_driver_sql("SET maintenance_work_mem = '4GB'")  # the graph in memory: ~300 bytes a row
            t0 = time.perf_counter()
            c.exec_driver_sql(f"CREATE INDEX {VEC_INDEX} ON {VEC_TABLE} USING hnsw "
                              "((binary_quantize(embedding)::bit(384)) bit_hamming_ops)")
            state["index_s"] = time.perf_counter() - t0
            c.exec_driver_sql(f"ANALYZE {VEC_TABLE}")
            c.execute(sa.text("INSERT INTO bench_state VALUES ('index_s', :s)"), {"s": state["index_s"]})
        table_bytes = c.exec_driver_sql(f"SELECT pg_relation_size('{VEC_TABLE}')").scalar_one()
        index_bytes = c.exec_driver_sql(f"SELECT pg_relation_size('{VEC_INDEX}')").scalar_one()
    qs = [embedder.query(f"{bank[a]} {bank[b]}") for a, b in rng.integers(0, len(bank), size=(queries, 2))]
    results: dict[int, dict[str, Any]] = {}
    exact: list[set[int]] = []
    with engine.connect() as c:
        c.exec_driver_sql("SET enable_indexscan = off")
        for q in qs[:exact_queries]:
            t0 = time.perf_counter()
            exact.append(set(c.execute(sa.text(EXACT), {"q": vector_literal(q)}).scalars()))
            results.setdefault(0, {"ms": []})["ms"].append((time.perf_counter() - t0) * 1000)
        c.rollback()
    for cand in (100, 400, 1000):
        ms, recall = [], []
        with engine.connect() as c:
            c.exec_driver_sql(f"SET hnsw.ef_search = {cand}")
            for i, q in enumerate(qs):
                t0 = time.perf_counter()
                found = set(c.execute(sa.text(ANN), {"q": vector_literal(q), "c": cand}).scalars())
                ms.append((time.perf_counter() - t0) * 1000)
                if i < len(exact):
                    recall.append(len(found & exact[i]) / 10)
            c.rollback()
        results[cand] = {"ms": ms, "recall": float(np.mean(recall))}
        print(f"  re-rank of {cand}: {results[cand]}", file=sys.stderr)
    engine.dispose()
    load = os.getloadavg()

    def pct(xs: list[float], p: float) -> float:
        return float(np.percentile(np.asarray(xs), p))

    table = [f"| HNSW on bit(384), exact re-rank of the top {c} (`hnsw.ef_search` {c}) | {pct(r['ms'], 50):.1f} | "
             f"{pct(r['ms'], 95):.1f} | {r['recall']:.3f} |" for c, r in results.items() if c]
    ex = results[0]["ms"]
    return f"""## PostgreSQL at volume: Find's text vectors in pgvector (`bench/bench_pg_volume.py --search-index`)

{stamp()} PostgreSQL {version}, pgvector {pgvector}, same machine; under load (load average {load[0]:.1f} /
{load[1]:.1f} / {load[2]:.1f} when it ended, `nproc` {os.cpu_count()}).

{rows:,} text vectors (384-d) stored as `halfvec(384)`, generated on the server: each the normalised sum of
three of {nb} real phrases' multilingual-e5 vectors and one of {nz} noise vectors (sigma 0.06 a dimension).
Fill {state['fill_s']:.0f} s ({rows / state['fill_s']:,.0f} rows/s, in transactions of {step:,});
HNSW index over `binary_quantize(embedding)::bit(384)` (Hamming; m 16, ef_construction 64,
`maintenance_work_mem` 4 GB) built in {state['index_s']:.0f} s ({rows / state['index_s']:,.0f} rows/s).
Table {table_bytes / 2**30:.2f} GiB, index {index_bytes / 2**30:.2f} GiB. {queries} queries (e5 query vectors of two
phrases), one connection, milliseconds; recall@10 against the exact cosine scan of the same halfvecs
(index scans off) over {len(exact)} of them:

| query | p50 ms | p95 ms | recall@10 |
|---|---:|---:|---:|
| exact scan (index scans off) | {pct(ex, 50):.0f} | {pct(ex, 95):.0f} | 1 |
{chr(10).join(table)}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("VIDLENS_TEST_POSTGRES_URL"))
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--queued", type=int, default=10_000)
    ap.add_argument("--tables", default=",".join(FILL), help=f"tables to fill (of {', '.join(FILL)})")
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave docs/benchmarks.md alone")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the bench database of an earlier run and fill only the tables short of --rows")
    ap.add_argument("--keep", action="store_true", help="leave the bench database in place afterwards")
    ap.add_argument("--index-claims", type=int, default=200, help="claims per variant of the ready-index comparison")
    ap.add_argument("--index-only", action="store_true",
                    help="fill only the job table and measure only the claim with and without the ready index")
    ap.add_argument("--search-index", action="store_true",
                    help="measure only Find's text vectors in pgvector at --rows (needs a server with pgvector)")
    ap.add_argument("--queries", type=int, default=200, help="queries of the search index (--search-index)")
    ap.add_argument("--exact-queries", type=int, default=20,
                    help="of them, how many are also run exactly for recall@10 (--search-index)")
    args = ap.parse_args()
    if args.search_index:
        if not args.url:
            raise SystemExit("give --url of a PostgreSQL server with pgvector (scripts/pgvector-test-server.py)")
        body = search_index(args.url, args.rows, args.queries, args.exact_queries)
        print(body)
        if not args.no_write:
            write_section("pg-search-index", body)
        return
    if args.index_only:
        args.tables = "jobs"
    if not args.url:
        raise SystemExit("give --url or set VIDLENS_TEST_POSTGRES_URL (scripts/postgres-test-server.sh start)")
    name = "vidlens_bench_volume"
    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.exec_driver_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").first() is not None
        if not (args.reuse and exists):
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        version = c.exec_driver_sql("SHOW server_version").scalar()
        collation = c.exec_driver_sql("SELECT datcollate FROM pg_database WHERE datname = current_database()").scalar()
    url = sa.engine.make_url(args.url).set(database=name).render_as_string(hide_password=False)
    data = Path(os.environ.get("TMPDIR", "/tmp")) / f"vidlens-bench-volume-{os.getpid()}"
    platform = Platform.from_settings(load_settings(data_dir=data, database_url=url))
    engine = platform.store.engine
    print(f"filling {args.rows:,} rows per table ...", file=sys.stderr)
    tables = args.tables.split(",")
    assert "jobs" in tables, "the claim figures need the jobs table"
    fill_s = fill(engine, args.rows, args.queued, tables)
    index = index_section(args.rows, args.queued, args.index_claims,
                          ready_index_comparison(platform, args.index_claims))
    print(index)
    if not args.no_write:
        write_section("pg-claim-index", index)
    if args.index_only:
        platform.close()
        if not args.keep:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        return
    with engine.connect() as c:
        sizes = {t: c.execute(sa.text("SELECT pg_total_relation_size(:t)"), {"t": t}).scalar() for t in tables}
        plan = "\n".join(r[0] for r in c.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {CLAIM_SQL}")))
    before = db_counters(engine, name)
    one, one_rate, _ = claims(platform, 500, 1)
    after = db_counters(engine, name)
    per_claim = {k: (after[k] - before[k]) / 500 for k in after}
    four, four_rate, twice = claims(platform, 1000, 4)
    assert twice == 0, f"{twice} jobs were claimed twice"

    sha = "md5(12345::text)"
    with engine.connect() as c:
        some_sha, some_work = c.execute(sa.text(
            f"SELECT {sha} || md5(12346::text), substr(md5('w12345'), 1, 32)")).one()
    from vidlens.protect.registry import Registry

    registry = Registry(platform)
    queries: dict[str, Callable[[], Any]] = {
        "jobs: of one video (JobQueue.list)": lambda: platform.jobs.list(video_id=some_sha),
        "jobs: newest 50 failed (JobQueue.list)": lambda: platform.jobs.list(status="failed"),
    }
    if "protect_works" in tables:
        queries.update({
            "registry: work by id (Registry.get)": lambda: registry.get(some_work),
            "registry: work by id prefix, 8 chars (Registry.get)": lambda: registry.get(some_work[:8]),
            "registry: active work by content sha256": lambda: registry.active_by_content(some_sha),
        })
    if "protect_matches" in tables:
        queries["matches: of one work (indexed work_id)"] = lambda: _rows(
            engine, "SELECT * FROM protect_matches WHERE work_id = :w", w=some_work)
    if "govern_audit" in tables:
        queries["audit: newest 50 events (indexed at)"] = lambda: _rows(
            engine, "SELECT * FROM govern_audit ORDER BY at DESC LIMIT 50")
    lookups = {label: timed(fn, 50) for label, fn in queries.items()}
    load = os.getloadavg()
    platform.close()
    if not args.keep:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()

    rows = [f"| {t} | {args.rows:,} | {sizes[t] / 2**30:.2f} | "
            + (f"{f[0]:.0f} | {f[1]:.0f} |" if (f := fill_s[t]) else "earlier run | earlier run |") for t in tables]
    look = [f"| {label} | {v['p50']:.2f} | {v['p95']:.2f} | {v['max']:.1f} |" for label, v in lookups.items()]
    body = f"""## PostgreSQL at volume: job queue, fingerprint registry, event tables (`bench/bench_pg_volume.py`)

{stamp()} PostgreSQL {version} (collation {collation}) on the same machine, default configuration;
under load (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, `nproc` {os.cpu_count()}).
Rows generated on the server into the schema the migrations create; each table's secondary indexes are
dropped for the fill and built again after it (a bulk load), both timed:

| table | rows | size with indexes (GiB) | fill (s) | index build (s) |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

**Job queue, {args.queued:,} videos queued** behind {args.rows - args.queued:,} finished jobs. `JobQueue.claim` (one
transaction: `SELECT ... FOR UPDATE SKIP LOCKED`, then the lease `UPDATE`), each claimed job completed at once:

| claimers | claim p50 (ms) | p95 (ms) | max (ms) | claims/s | claimed twice |
|---:|---:|---:|---:|---:|---:|
| 1 | {one['p50']:.2f} | {one['p95']:.2f} | {one['max']:.1f} | {one_rate:.0f} | 0 |
| 4 | {four['p50']:.2f} | {four['p95']:.2f} | {four['max']:.1f} | {four_rate:.0f} | {twice} |

Database load per claim + complete (pg_stat_database over 500 of them): {per_claim['blks_hit']:.0f} blocks from
cache, {per_claim['blks_read']:.2f} from disk, {per_claim['tup_fetched']:.0f} rows fetched,
{per_claim['xact_commit']:.1f} commits. The claim's plan with {args.queued:,} queued:

```text
{plan}
```

**Look-ups** (50 each, milliseconds, through the code that serves them):

| query | p50 | p95 | max |
|---|---:|---:|---:|
{chr(10).join(look)}
"""
    print(body)
    if not args.no_write:
        write_section("pg-volume", body)


def _rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(sa.text(sql), params))


if __name__ == "__main__":
    main()
