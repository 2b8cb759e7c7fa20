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
embeddings of real phrases (each row the normalised sum of three phrase vectors and noise of its own, as
``bench_search.py`` composes them), and one HNSW layout a run: ``--index halfvec`` (``halfvec_cosine_ops``)
or ``--index bq`` (over ``binary_quantize(embedding)::bit(384)``, Hamming distance, 48 bytes a vector, with an
exact cosine re-rank of its top ``hnsw.ef_search``), ``--m`` and ``--ef-construction``. Fill and build are
timed (wall and the server's CPU seconds); queries (e5 query vectors of two-phrase queries) at each
``--ef-search``, with recall@10 against the exact scan (index scans off) on the first ``--exact-queries``.
Everything stays in a database ``vidlens_bench_halfvec`` for the next run: a larger ``--rows`` adds rows (and
drops the indexes), another layout drops the one there (so the planner uses the new one), and the section
lists every build and query run so far, picks the layout with recall@10 >= 0.95 at the lowest p95 and
extrapolates its build to 10 million rows from its two largest builds.

    python bench/bench_pg_volume.py --search-index --rows 100000 --index halfvec --m 16 --ef-construction 64

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
from dataclasses import dataclass
from datetime import UTC, datetime
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


VEC_DB = "vidlens_bench_halfvec"
VEC_TABLE = "bench_search_halfvec"
# Each row: three real phrases' e5 vectors plus noise of its own, as bench_search.py gives each text (one of
# 4096 Gaussian vectors times one of 4096 random sign vectors). Rows sharing one noise vector outright would
# be nearer each other (cosine about +0.15) than rows sharing two of their three phrases (about +0.03).
VEC_FILL = f"""INSERT INTO {VEC_TABLE} (id, embedding)
    SELECT p.g, l2_normalize(b1.v + b2.v + b3.v + z.v * s.v)::halfvec(384)
    FROM (SELECT g, (hashint8(g) & 2147483647) % CAST(:nb AS int) AS i1,
                 (hashint8(g + 100000000000) & 2147483647) % CAST(:nb AS int) AS i2,
                 (hashint8(g + 200000000000) & 2147483647) % CAST(:nb AS int) AS i3,
                 (hashint8(g + 300000000000) & 2147483647) % CAST(:nz AS int) AS i4,
                 (hashint8(g + 400000000000) & 2147483647) % CAST(:nz AS int) AS i5
          FROM generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) g) p
    JOIN bench_bank b1 ON b1.i = p.i1 JOIN bench_bank b2 ON b2.i = p.i2 JOIN bench_bank b3 ON b3.i = p.i3
    JOIN bench_noise z ON z.i = p.i4 JOIN bench_signs s ON s.i = p.i5"""
EXACT = f"SELECT id FROM {VEC_TABLE} ORDER BY embedding <=> CAST(:q AS halfvec(384)) LIMIT 10"
VEC_TABLES = f"""CREATE TABLE IF NOT EXISTS {VEC_TABLE} (id bigint PRIMARY KEY,
    embedding halfvec(384) NOT NULL);
CREATE TABLE IF NOT EXISTS bench_fill (rows bigint PRIMARY KEY, seconds float NOT NULL);
CREATE TABLE IF NOT EXISTS bench_builds (rows bigint, index text, seconds float, cpu_s float,
    index_bytes bigint, table_bytes bigint, at text, load float, PRIMARY KEY (rows, index));
CREATE TABLE IF NOT EXISTS bench_runs (rows bigint, index text, ef int, p50 float, p95 float, cpu_ms float,
    recall float, queries int, truths int, at text, load float, PRIMARY KEY (rows, index, ef));
CREATE TABLE IF NOT EXISTS bench_truth (rows bigint, q int, ids bigint[], ms float, PRIMARY KEY (rows, q))"""


@dataclass(frozen=True)
class VecIndex:
    """One HNSW layout over the halfvecs: on the halfvec itself (cosine), or on its binary quantisation
    (Hamming) with an exact cosine re-rank of the top ``hnsw.ef_search`` candidates."""

    kind: str  # "halfvec" or "bq"
    m: int = 16
    ef_construction: int = 64

    @property
    def name(self) -> str:
        return f"{VEC_TABLE}_{self.kind}_m{self.m}_efc{self.ef_construction}"

    def ddl(self) -> str:
        on = ("embedding halfvec_cosine_ops" if self.kind == "halfvec"
              else "(binary_quantize(embedding)::bit(384)) bit_hamming_ops")
        return (f"CREATE INDEX {self.name} ON {VEC_TABLE} USING hnsw ({on}) "
                f"WITH (m = {self.m}, ef_construction = {self.ef_construction})")

    def query(self, ef: int) -> str:
        if self.kind == "halfvec":
            return EXACT
        return (f"SELECT id FROM (SELECT id, embedding FROM {VEC_TABLE} "
                "ORDER BY binary_quantize(embedding)::bit(384) <~> "
                "binary_quantize(CAST(:q AS halfvec(384)))::bit(384) "
                f"LIMIT {ef}) cand "
                "ORDER BY embedding <=> CAST(:q AS halfvec(384)) LIMIT 10")


def vec_indexes(c: sa.Connection) -> set[str]:
    """The vector indexes on the bench table (all but its primary key)."""
    return set(c.exec_driver_sql(f"SELECT indexname FROM pg_indexes WHERE tablename = '{VEC_TABLE}' "
                                 f"AND indexname <> '{VEC_TABLE}_pkey'").scalars())


def index_label(name: str) -> str:
    found = re.fullmatch(rf"{VEC_TABLE}_(\w+)_m(\d+)_efc(\d+)", name)
    assert found, name
    kind, m, efc = found.groups()
    on = "`halfvec_cosine_ops`" if kind == "halfvec" else "`bit(384)`, exact re-rank"
    return f"HNSW on {on}, m {m}, ef_construction {efc}"


def server_cpu_s(c: sa.Connection) -> float:
    """CPU seconds of this connection's server process plus those of the server's exited processes (its
    parallel build workers), from /proc: the bench runs on the server's machine. NaN where unreadable."""
    pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    try:
        own = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        parent = Path(f"/proc/{own[1]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(own[11]) + int(own[12]) + int(parent[13]) + int(parent[14])) / os.sysconf("SC_CLK_TCK")


def vec_setup(engine: sa.Engine, rng: np.random.Generator, embedder: Any, bank: list[str]) -> tuple[int, int]:
    """The tables, and the phrase, noise and sign vectors the rows are made of; returns their counts."""
    from vidlens.search.backends import vector_literal

    with engine.begin() as c:
        c.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
        for ddl in VEC_TABLES.split(";"):
            c.exec_driver_sql(ddl)
        if c.exec_driver_sql("SELECT to_regclass('bench_bank')").scalar() is None:
            pv = embedder.passages(bank).astype(np.float32)
            noise = rng.normal(0, 0.06, (4096, pv.shape[1]))  # three phrases' sum: 3 x the 0.02 of bench_search
            signs = rng.choice([-1.0, 1.0], (4096, pv.shape[1]))
            for table, vecs in (("bench_bank", pv), ("bench_noise", noise), ("bench_signs", signs)):
                c.exec_driver_sql(f"CREATE TABLE {table} (i int PRIMARY KEY, v vector(384) NOT NULL)")
                c.execute(sa.text(f"INSERT INTO {table} (i, v) VALUES (:i, CAST(:v AS vector))"),
                          [{"i": i, "v": vector_literal(v)} for i, v in enumerate(vecs)])
        return (c.exec_driver_sql("SELECT count(*) FROM bench_bank").scalar_one(),
                c.exec_driver_sql("SELECT count(*) FROM bench_noise").scalar_one())


def vec_fill(engine: sa.Engine, rows: int, nb: int, nz: int) -> None:
    """Add rows up to ``rows`` (the vector indexes go first: a larger run builds them again)."""
    with engine.begin() as c:
        have = c.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {VEC_TABLE}").scalar_one()
        if have > rows:
            raise SystemExit(f"{VEC_DB} holds {have:,} vectors, more than --rows: DROP DATABASE {VEC_DB}")
        if have < rows:
            for name in vec_indexes(c):
                c.exec_driver_sql(f"DROP INDEX {name}")
        seconds = c.exec_driver_sql("SELECT coalesce(max(seconds), 0) FROM bench_fill").scalar_one()
    step = 500_000
    for a in range(have + 1, rows + 1, step):
        b = min(rows, a + step - 1)
        t0 = time.perf_counter()
        with engine.begin() as c:
            c.execute(sa.text(VEC_FILL), {"a": a, "b": b, "nb": nb, "nz": nz})
        seconds += time.perf_counter() - t0
        print(f"  search vectors: {b:,} of {rows:,} ({time.perf_counter() - t0:.0f} s for {b - a + 1:,})",
              file=sys.stderr)
    with engine.begin() as c:
        if have < rows:
            c.exec_driver_sql(f"ANALYZE {VEC_TABLE}")
            c.execute(sa.text("INSERT INTO bench_fill VALUES (:r, :s)"), {"r": rows, "s": seconds})


def vec_build(engine: sa.Engine, rows: int, spec: VecIndex, workers: int, memory: str) -> None:
    """Build ``spec``'s index unless it is there; other vector indexes go first (the queries use this one)."""
    with engine.begin() as c:
        names = vec_indexes(c)
        for name in names - {spec.name}:
            c.exec_driver_sql(f"DROP INDEX {name}")
        if spec.name in names:
            return
    with engine.connect() as c:  # autocommit off; the build is one statement
        c.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{memory}'")
        c.exec_driver_sql(f"SET LOCAL max_parallel_maintenance_workers = {workers}")
        print(f"  building {spec.name}", file=sys.stderr)
        cpu0, t0 = server_cpu_s(c), time.perf_counter()
        c.exec_driver_sql(spec.ddl())
        seconds, cpu = time.perf_counter() - t0, server_cpu_s(c) - cpu0
        index_bytes, table_bytes = (c.exec_driver_sql(f"SELECT pg_relation_size('{n}')").scalar_one()
                                    for n in (spec.name, VEC_TABLE))
        c.execute(sa.text("INSERT INTO bench_builds VALUES (:r, :i, :s, :cpu, :ib, :tb, :at, :load) "
                          "ON CONFLICT (rows, index) DO UPDATE SET seconds = :s, cpu_s = :cpu, "
                          "index_bytes = :ib, table_bytes = :tb, at = :at, load = :load"),
                  {"r": rows, "i": spec.name, "s": seconds, "cpu": cpu, "ib": index_bytes, "tb": table_bytes,
                   "at": f"{datetime.now(UTC):%H:%M}", "load": os.getloadavg()[0]})
        c.commit()
    print(f"  built in {seconds:.0f} s ({cpu:.0f} server CPU-s), {index_bytes / 2**20:.0f} MiB",
          file=sys.stderr)


def vec_truth(engine: sa.Engine, rows: int, qs: list[str]) -> list[set[int]]:
    """The exact 10 nearest of each query (index scans off), kept in the bench database per row count."""
    with engine.connect() as c:
        have = dict(c.execute(sa.text("SELECT q, ids FROM bench_truth WHERE rows = :r"), {"r": rows}).all())
        c.exec_driver_sql("SET LOCAL enable_indexscan = off")  # LOCAL: the pooled connection keeps no SET
        for i, q in enumerate(qs):
            if i not in have:
                t0 = time.perf_counter()
                have[i] = list(c.execute(sa.text(EXACT), {"q": q}).scalars())
                c.execute(sa.text("INSERT INTO bench_truth VALUES (:r, :q, :ids, :ms)"),
                          {"r": rows, "q": i, "ids": have[i], "ms": (time.perf_counter() - t0) * 1000})
        c.commit()
    return [set(have[i]) for i in range(len(qs))]


def vec_queries(engine: sa.Engine, rows: int, spec: VecIndex, efs: list[int], qs: list[str],
                truth: list[set[int]]) -> None:
    """Each query at each ``hnsw.ef_search``: latency, the server's CPU per query, recall@10 on the first
    ``len(truth)`` queries."""
    for ef in efs:
        ms, recall = [], []
        with engine.connect() as c:
            c.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {ef}")
            sql = sa.text(spec.query(ef))
            plan = " ".join(c.execute(sa.text(f"EXPLAIN {spec.query(ef)}"), {"q": qs[0]}).scalars())
            if spec.name not in plan:
                raise SystemExit(f"the planner does not use {spec.name}: {plan}")
            c.execute(sql, {"q": qs[0]}).all()  # the index's first pages into the cache
            cpu0 = server_cpu_s(c)
            for i, q in enumerate(qs):
                t0 = time.perf_counter()
                found = set(c.execute(sql, {"q": q}).scalars())
                ms.append((time.perf_counter() - t0) * 1000)
                if i < len(truth):
                    recall.append(len(found & truth[i]) / 10)
            cpu_ms = (server_cpu_s(c) - cpu0) * 1000 / len(qs)
            c.rollback()
        row = {"r": rows, "i": spec.name, "ef": ef, "p50": float(np.percentile(ms, 50)),
               "p95": float(np.percentile(ms, 95)), "cpu": cpu_ms, "rec": float(np.mean(recall)),
               "n": len(qs), "t": len(truth), "at": f"{datetime.now(UTC):%H:%M}", "load": os.getloadavg()[0]}
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO bench_runs VALUES (:r, :i, :ef, :p50, :p95, :cpu, :rec, :n, :t, "
                              ":at, :load) ON CONFLICT (rows, index, ef) DO UPDATE SET p50 = :p50, "
                              "p95 = :p95, cpu_ms = :cpu, recall = :rec, queries = :n, truths = :t, "
                              "at = :at, load = :load"), row)
        print(f"  ef_search {ef}: {row}", file=sys.stderr)


def search_index(url: str, rows: int, spec: VecIndex, efs: list[int], queries: int, exact_queries: int,
                 workers: int, memory: str) -> str:
    """Find's text vectors at volume in pgvector: fill, one HNSW layout's build, its queries and recall; the
    section shows every layout and row count measured in the bench database so far."""
    from bench_search import phrases

    from vidlens.search.backends import vector_literal
    from vidlens.search.text import TextEmbedder

    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if c.exec_driver_sql(f"SELECT 1 FROM pg_database WHERE datname = '{VEC_DB}'").first() is None:
            c.exec_driver_sql(f'CREATE DATABASE "{VEC_DB}"')
    admin.dispose()
    engine = sa.create_engine(
        sa.engine.make_url(url).set(database=VEC_DB).render_as_string(hide_password=False))
    rng = np.random.default_rng(23)
    embedder = TextEmbedder.shared()
    bank = phrases()
    nb, nz = vec_setup(engine, rng, embedder, bank)
    vec_fill(engine, rows, nb, nz)
    vec_build(engine, rows, spec, workers, memory)
    pairs = np.random.default_rng(2323).integers(0, len(bank), size=(queries, 2))
    qs = [vector_literal(embedder.query(f"{bank[a]} {bank[b]}")) for a, b in pairs]
    truth = vec_truth(engine, rows, qs[:exact_queries])
    vec_queries(engine, rows, spec, efs, qs, truth)
    body = vec_section(engine, nb, nz, memory, workers)
    engine.dispose()
    return body


def vec_section(engine: sa.Engine, nb: int, nz: int, memory: str, workers: int) -> str:
    """Every build and query run kept in the bench database, the pick, and the 10-million extrapolation."""
    with engine.connect() as c:
        version = c.exec_driver_sql("SHOW server_version").scalar()
        pgvector = c.exec_driver_sql("SELECT extversion FROM pg_extension WHERE extname = 'vector'").scalar()
        fills = c.exec_driver_sql("SELECT rows, seconds FROM bench_fill ORDER BY rows").all()
        builds = c.exec_driver_sql("SELECT * FROM bench_builds ORDER BY index, rows").mappings().all()
        runs = c.exec_driver_sql("SELECT * FROM bench_runs ORDER BY rows, index, ef").mappings().all()
        exact = c.exec_driver_sql(
            "SELECT rows, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY ms), count(*) FROM bench_truth GROUP BY rows").all()
    build_rows = [f"| {b['rows']:,} | {index_label(b['index'])} | {b['at']} | {b['load']:.1f} | "
                  f"{b['seconds']:.0f} | {b['cpu_s']:.0f} | {b['index_bytes'] / 2**20:.0f} | "
                  f"{b['table_bytes'] / 2**20:.0f} |" for b in builds]
    run_rows = [f"| {e[0]:,} | exact scan (index scans off), {e[3]} queries | - | - | {e[1]:.0f} | "
                f"{e[2]:.0f} | - | 1 |" for e in exact]
    run_rows += [f"| {r['rows']:,} | {index_label(r['index'])} | {r['ef']} | {r['at']}, {r['load']:.1f} | "
                 f"{r['p50']:.1f} | {r['p95']:.1f} | {r['cpu_ms']:.1f} | {r['recall']:.3f} |" for r in runs]
    picks, best = [], None
    for n in sorted({r["rows"] for r in runs}):
        good = sorted((r for r in runs if r["rows"] == n and r["recall"] >= 0.95), key=lambda r: r["p95"])
        best = good[0] if good else None
        picks.append(f"At {n:,} rows the lowest p95 with recall@10 ≥ 0.95 (of what ran there) is "
                     f"{index_label(best['index'])} "
                     f"at `hnsw.ef_search` {best['ef']} (p95 {best['p95']:.1f} ms, recall@10 "
                     f"{best['recall']:.3f})." if best else f"At {n:,} rows none reaches recall@10 0.95.")
    if best:  # the largest row count's pick
        picks.append(vec_extrapolation([b for b in builds if b["index"] == best["index"]]))
    pick = " ".join(picks)
    fill = ", ".join(f"{n:,} rows in {s:.0f} s" for n, s in fills)
    return f"""## PostgreSQL at volume: Find's text vectors in pgvector (`bench/bench_pg_volume.py --search-index`)

{stamp()} PostgreSQL {version}, pgvector {pgvector}, same machine, started under `nice`. Each build and query
run is listed with the UTC time it ended and the 1-minute load average then (`nproc` {os.cpu_count()}): wall
times under load include waiting for a CPU, the server CPU seconds (its processes' own, from /proc) do not.

Text vectors (384-d) stored as `halfvec(384)`, generated on the server: each the normalised sum of three of
{nb} real phrases' multilingual-e5 vectors and noise of its own (one of {nz} Gaussian vectors, sigma 0.06 a
dimension, times one of {nz} random sign vectors). Fill (cumulative): {fill}. Index builds with
`maintenance_work_mem` {memory}, `max_parallel_maintenance_workers` {workers}:

| rows | index | built (UTC) | load | build s | server CPU-s | index MiB | table MiB |
|---:|---|---|---:|---:|---:|---:|---:|
{chr(10).join(build_rows)}

Queries are e5 query vectors of two-phrase queries, one connection, milliseconds; recall@10 against the exact
cosine scan of the same halfvecs (index scans off, kept per row count) over the first of them:

| rows | query | `hnsw.ef_search` | ended (UTC), load | p50 ms | p95 ms | server CPU ms a query | recall@10 |
|---:|---|---:|---|---:|---:|---:|---:|
{chr(10).join(run_rows)}

{pick}
"""


def vec_extrapolation(builds: list[Any]) -> str:
    """10 million rows from the two largest builds of one layout: build time as a power of the row count
    fitted to their server CPU seconds, disk in proportion. An extrapolation, said so."""
    if len(builds) < 2:
        return "Its build was measured at one size only, so 10 million rows are not extrapolated."
    a, b = builds[-2], builds[-1]
    k = float(np.log(b["cpu_s"] / a["cpu_s"]) / np.log(b["rows"] / a["rows"]))
    grow = (10_000_000 / b["rows"]) ** k
    disk = (b["index_bytes"] + b["table_bytes"]) / b["rows"] * 10_000_000
    index = b["index_bytes"] / b["rows"] * 10_000_000
    return (f"**Extrapolated, not measured:** its build's server CPU time grew as rows^{k:.2f} from "
            f"{a['rows']:,} to {b['rows']:,} rows, so 10 million rows would take about "
            f"{b['cpu_s'] * grow / 3600:.1f} CPU-hours ({b['seconds'] * grow / 3600:.1f} h wall at the "
            f"{b['rows']:,}-row run's load and workers) and {disk / 2**30:.1f} GiB of table and index "
            f"({index / 2**30:.1f} GiB of it the index, which the build wants in `maintenance_work_mem` "
            "to stay fast).")


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
    ap.add_argument("--index", choices=["halfvec", "bq"], default="halfvec",
                    help="HNSW on the halfvec (cosine) or on its sign bits, re-ranked (--search-index)")
    ap.add_argument("--m", type=int, default=16, help="HNSW m (--search-index)")
    ap.add_argument("--ef-construction", type=int, default=64, help="HNSW ef_construction (--search-index)")
    ap.add_argument("--ef-search", default="40,100,200,400",
                    help="hnsw.ef_search values to query at, comma-separated (--search-index)")
    ap.add_argument("--build-workers", type=int, default=1,
                    help="max_parallel_maintenance_workers for the index build (--search-index)")
    ap.add_argument("--build-memory", default="3GB",
                    help="maintenance_work_mem for the index build (--search-index)")
    ap.add_argument("--queries", type=int, default=200, help="queries of the search index (--search-index)")
    ap.add_argument("--exact-queries", type=int, default=50,
                    help="of them, how many are also run exactly for recall@10 (--search-index)")
    args = ap.parse_args()
    if args.search_index:
        if not args.url:
            raise SystemExit("give --url of a PostgreSQL server with pgvector (scripts/pgvector-test-server.py)")
        spec = VecIndex(args.index, args.m, args.ef_construction)
        efs = [int(e) for e in args.ef_search.split(",")]
        body = search_index(args.url, args.rows, spec, efs, args.queries, args.exact_queries,
                            args.build_workers, args.build_memory)
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
