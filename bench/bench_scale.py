"""Scale out: the Ray runner against the local runner on the same cores, and a scaling curve from measured costs.

    python bench/bench_scale.py [--workers 2] [--rounds 2] [--analyzers shots,technical] [--postgres URL]
    python bench/bench_scale.py --split-minutes 4 [--range-s 60] [--workers 2] [--rounds 2] [--analyzers shots]

1. Throughput. The clips of the corpus's ``shots/`` folder are ingested into a fresh data directory and
   their analysis queued; then the local runner (worker processes) or the Ray runner (actors on a local
   Ray instance with ``--workers`` CPUs) works through them. Throughput is jobs over the time from the
   first job started to the last one finished, read from the job table, so both runners' start-up
   (processes spawned, Ray started, actors built) is left out and reported apart. Runs alternate
   local / ray, ``--rounds`` times; the best of each is compared.
2. Per-job costs, one job run in this process with every SQL statement timed (on SQLite and, with
   ``--postgres``, on PostgreSQL) and every blob written counted: database seconds and statements per
   job, blob bytes per job, and one claim + complete on the queue.
3. A simulated curve: jobs per second for W workers is the least of W / (step seconds), the database's
   capacity (its cores / database seconds per job), one dispatcher's claim rate (1 / claim + complete
   seconds, for the Ray runner's single dispatcher) and the blob store's bandwidth / bytes per job. The
   database cores and blob bandwidth are stated assumptions; every per-job figure is measured here.

With ``--split-minutes``: one long video (the corpus's 24-second PySceneDetect clip, 720p, looped to that
length without re-encoding) analysed by the Ray runner's ``--workers`` actors, whole on one actor
(``ray_split_s = 0``) and split into time ranges across them (``ray_split_s = --range-s``), alternating,
``--rounds`` times: the job's wall time (claim to completion, from the job table), the analyzers' CPU
time, and whether the two stored documents are the same (section ``scale-split``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, media_dir, stamp, write_section

from vidlens.jobs.queue import FINAL
from vidlens.jobs.runner import make_runner
from vidlens.jobs.worker import Worker
from vidlens.platform import Platform
from vidlens.settings import load_settings

DB_CORES = 8  # assumed PostgreSQL server for the curve
BLOB_MB_S = 125.0  # assumed blob store bandwidth for the curve: one 1 Gbit/s link


def throughput(runner: str, clips: list[Path], analyzers: list[str], workers: int) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix=f"vidlens-scale-{runner}-"))
    settings = load_settings(data_dir=data, runner=runner, workers=workers)
    plat = Platform.from_settings(settings)
    ids = [plat.catalog.queue_analysis(plat.catalog.ingest_file(c, analyze=False).video.id, analyzers).id
           for c in clips]
    stop = threading.Event()
    t0 = time.time()
    thread = threading.Thread(target=make_runner(settings, plat.jobs).serve, args=(stop, workers), daemon=True)
    thread.start()
    while not all(plat.jobs.get(i).status in FINAL for i in ids):
        time.sleep(0.2)
    stop.set()
    thread.join(timeout=120)
    jobs = [plat.jobs.get(i) for i in ids]
    assert all(j.status == "succeeded" and j.completions == 1 for j in jobs), [(j.status, j.error_message) for j in jobs]
    first, last = min(j.started_at for j in jobs), max(j.finished_at for j in jobs)
    plat.close()
    if runner == "ray":
        import ray

        ray.shutdown()
    return {"jobs_per_s": len(jobs) / (last - first), "startup_s": first - t0,
            "step_s": statistics.mean(j.finished_at - j.started_at for j in jobs)}


def per_job_costs(clip: Path, analyzers: list[str], database_url: str | None) -> dict[str, float]:
    """One analysis job in this process: SQL time and statements, blob bytes, one claim + complete."""
    data = Path(tempfile.mkdtemp(prefix="vidlens-scale-cost-"))
    plat = Platform.from_settings(load_settings(data_dir=data, database_url=database_url))
    video = plat.catalog.ingest_file(clip, analyze=False).video
    plat.catalog.queue_analysis(video.id, analyzers)
    sql = {"n": 0, "s": 0.0}
    started: dict[int, float] = {}

    def before(conn: Any, *_: Any) -> None:
        started[id(conn)] = time.perf_counter()

    def after(conn: Any, *_: Any) -> None:
        sql["n"] += 1
        sql["s"] += time.perf_counter() - started.pop(id(conn), time.perf_counter())

    blob = {"bytes": 0}
    put_bytes, put_file = plat.blobs.put_bytes, plat.blobs.put_file

    def counted_bytes(data: bytes, suffix: str = "") -> str:
        blob["bytes"] += len(data)
        return put_bytes(data, suffix)

    def counted_file(path: str | Path, suffix: str = "") -> str:
        blob["bytes"] += Path(path).stat().st_size
        return put_file(path, suffix)

    plat.blobs.put_bytes, plat.blobs.put_file = counted_bytes, counted_file  # type: ignore[method-assign]
    sa.event.listen(plat.store.engine, "before_cursor_execute", before)
    sa.event.listen(plat.store.engine, "after_cursor_execute", after)
    t0 = time.perf_counter()
    Worker(plat).run(threading.Event(), idle_exit=True)
    wall = time.perf_counter() - t0
    sa.event.remove(plat.store.engine, "before_cursor_execute", before)
    sa.event.remove(plat.store.engine, "after_cursor_execute", after)
    for i in range(200):
        plat.jobs.enqueue("bench.noop", {}, key=f"noop-{i}")
    t1 = time.perf_counter()
    wid = f"bench-{uuid.uuid4().hex[:6]}"
    for _ in range(200):
        job = plat.jobs.claim(wid, ["bench.noop"])
        assert job is not None
        plat.jobs.complete(job.id, wid, {})
    claim_s = (time.perf_counter() - t1) / 200
    plat.close()
    return {"sql_s": sql["s"], "statements": sql["n"], "blob_bytes": blob["bytes"], "wall_s": wall,
            "claim_complete_s": claim_s}


def curve(step_s: float, cost: dict[str, float]) -> list[str]:
    rows = []
    db_cap = DB_CORES / cost["sql_s"]
    dispatch_cap = 1.0 / cost["claim_complete_s"]
    blob_cap = BLOB_MB_S * 1e6 / max(1.0, cost["blob_bytes"])
    for w in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096):
        limits = {"workers": w / step_s, "database": db_cap, "one dispatcher": dispatch_cap, "blob store": blob_cap}
        limiter = min(limits, key=limits.__getitem__)
        rows.append(f"| {w} | {w / step_s:.2f} | {limits[limiter]:.2f} | {limiter} |")
    return rows


def long_clip(minutes: float) -> Path:
    """The PySceneDetect clip looped to ``minutes`` (stream copy, so the frames are the clip's own)."""
    from vidlens.media.ffmpeg import run_ffmpeg

    src = media_dir() / "shots" / "pyscenedetect_testvideo.mp4"
    out = CACHE / f"pyscenedetect_looped_{minutes:g}min.mp4"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        loops = max(1, round(minutes * 60 / 24.0)) - 1
        run_ffmpeg(["-stream_loop", str(loops), "-i", str(src), "-c", "copy", "-an", str(out)])
    return out


def split_run(clip: Path, analyzers: list[str], workers: int, split_s: float) -> dict[str, Any]:
    """One analysis job of ``clip`` on the Ray runner: wall and CPU seconds, how it ran, its stored document."""
    data = Path(tempfile.mkdtemp(prefix="vidlens-split-"))
    settings = load_settings(data_dir=data, runner="ray", workers=workers, ray_split_s=split_s)
    plat = Platform.from_settings(settings)
    video = plat.catalog.ingest_file(clip, analyze=False).video
    job_id = plat.catalog.queue_analysis(video.id, analyzers).id
    stop = threading.Event()
    thread = threading.Thread(target=make_runner(settings, plat.jobs).serve, args=(stop, workers), daemon=True)
    thread.start()
    while plat.jobs.get(job_id).status not in FINAL:
        time.sleep(0.2)
    stop.set()
    thread.join(timeout=120)
    job = plat.jobs.get(job_id)
    assert job.status == "succeeded" and job.completions == 1, (job.status, job.error_message)
    stored = plat.service("documents").get(video.id)
    plat.close()
    import ray

    ray.shutdown()
    return {"wall_s": job.finished_at - job.started_at, "split": job.result.get("split"),
            "cpu_s": sum(a["cpu_seconds"] for a in job.result["analyzers"].values()),
            "document": stored.document, "duration_s": video.duration_s, "frames": video.frame_count}


def split_bench(args: argparse.Namespace) -> None:
    clip = long_clip(args.split_minutes)
    analyzers = args.analyzers.split(",")
    runs: dict[str, list[dict[str, Any]]] = {"whole": [], "split": []}
    for r in range(args.rounds):
        for kind, split_s in (("whole", 0.0), ("split", args.range_s)):
            res = split_run(clip, analyzers, args.workers, split_s)
            runs[kind].append(res)
            print(f"round {r + 1} {kind}: wall {res['wall_s']:.1f} s, cpu {res['cpu_s']:.1f} s, {res['split']}",
                  file=sys.stderr)
    load = os.getloadavg()
    docs = [x["document"] for v in runs.values() for x in v]
    same = all(d == docs[0] for d in docs)
    best = {k: min(v, key=lambda x: x["wall_s"]) for k, v in runs.items()}
    rows = [f"| {k} | {i + 1} | {x['wall_s']:.1f} | {x['cpu_s']:.1f} | "
            f"{(x['split'] or {}).get('ranges', 1)} |" for k, v in runs.items() for i, x in enumerate(v)]
    body = f"""## Scale out: one long video split into time ranges across Ray actors (`bench/bench_scale.py --split-minutes`)

{stamp()} Load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end, `nproc` {os.cpu_count()} (the run's own
{args.workers} actors are about {args.workers} of it). `pyscenedetect_testvideo.mp4` (1280x720) looped to
{best['whole']['duration_s']:.0f} s, analyzers {", ".join(analyzers)}, the Ray runner with {args.workers} actors on a
local Ray instance with {args.workers} CPUs: whole on one actor (`ray_split_s = 0`) against ranges of about
{args.range_s:g} s over both (`ray_split_s = {args.range_s:g}`), alternating. Wall time from the job's claim to its
completion (job table); CPU time is the analyzers' own threads, summed over the ranges.

| run | round | wall (s) | analyzer CPU (s) | ranges |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

Best of each: whole {best['whole']['wall_s']:.1f} s, split {best['split']['wall_s']:.1f} s: **{best['whole']['wall_s'] /
best['split']['wall_s']:.2f}x** the whole run's speed (same run, same machine). The stored documents of all
{len(docs)} runs are {"identical" if same else "NOT identical"}.
"""
    print(body)
    if not args.no_write:
        write_section("scale-split", body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--analyzers", default="shots,technical")
    ap.add_argument("--postgres", default=os.environ.get("VIDLENS_TEST_POSTGRES_URL"),
                    help="PostgreSQL server URL for the per-job database cost (a database is made and dropped)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--split-minutes", type=float, help="measure one video this long, whole and split (see above)")
    ap.add_argument("--range-s", type=float, default=60.0, help="ray_split_s of the split runs")
    args = ap.parse_args()
    if args.split_minutes:
        split_bench(args)
        return
    clips = sorted(p for p in (media_dir() / "shots").iterdir() if p.suffix in (".mp4", ".webm"))
    analyzers = args.analyzers.split(",")
    runs: dict[str, list[dict[str, float]]] = {"local": [], "ray": []}
    for r in range(args.rounds):
        for runner in ("local", "ray"):
            res = throughput(runner, clips, analyzers, args.workers)
            runs[runner].append(res)
            print(f"round {r + 1} {runner}: {res}", file=sys.stderr)
    best = {k: max(v, key=lambda x: x["jobs_per_s"]) for k, v in runs.items()}
    overhead = best["local"]["jobs_per_s"] / best["ray"]["jobs_per_s"] - 1
    costs = {"SQLite": per_job_costs(clips[0], analyzers, None)}
    if args.postgres:
        name = f"vidlens_bench_scale_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            costs["PostgreSQL"] = per_job_costs(
                clips[0], analyzers, sa.engine.make_url(args.postgres).set(database=name).render_as_string(False))
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    load = os.getloadavg()
    negative = ("; below zero: Ray was not slower, and the rounds of one runner differ by as much under this load"
                if overhead < 0 else "")
    step_s = best["local"]["step_s"]
    basis = costs.get("PostgreSQL", costs["SQLite"])
    run_rows = [f"| {k} | {i + 1} | {x['jobs_per_s']:.3f} | {x['step_s']:.2f} | {x['startup_s']:.1f} |"
                for k, v in runs.items() for i, x in enumerate(v)]
    cost_rows = [f"| {k} | {c['sql_s'] * 1000:.0f} | {c['statements']} | {c['claim_complete_s'] * 1000:.2f} | "
                 f"{c['blob_bytes'] / 1e6:.2f} | {c['wall_s']:.2f} |" for k, c in costs.items()]
    body = f"""## Scale out: Ray runner vs local runner, and a scaling curve (`bench/bench_scale.py`)

{stamp()} Under load (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, `nproc` {os.cpu_count()}).
{len(clips)} clips of `shots/` ({", ".join(p.name for p in clips)}), analyzers {", ".join(analyzers)}, {args.workers}
workers each (local: processes; Ray: actors on a local Ray instance with {args.workers} CPUs), SQLite, local blobs,
{args.rounds} alternating rounds. Jobs/s counts from the first job started to the last finished (job table);
start-up apart.

| runner | round | jobs/s | mean step (s) | start-up (s) |
|---|---:|---:|---:|---:|
{chr(10).join(run_rows)}

Best of each: local {best['local']['jobs_per_s']:.3f} jobs/s, Ray {best['ray']['jobs_per_s']:.3f} jobs/s: **Ray's
overhead {overhead * 100:+.1f} %** (goal: at most 10 %{negative}). Ray's start-up (a local Ray instance and its actors'
platforms) is paid once per runner, not per job.

Per-job costs, one job of {clips[0].name} in one process, every SQL statement timed from the client (so the
database's own time is at most this), every blob written counted; claim + complete: 200 on the queue:

| database | SQL time per job (ms) | statements | claim + complete (ms) | blob MB per job | job wall (s) |
|---|---:|---:|---:|---:|---:|
{chr(10).join(cost_rows)}

Simulated curve from those figures ({"PostgreSQL" if "PostgreSQL" in costs else "SQLite"} row; step
{step_s:.2f} s per job per worker, measured above): jobs/s = least of workers / step, database
({DB_CORES} cores assumed / SQL time per job), one Ray dispatcher (1 / claim + complete) and the blob store
({BLOB_MB_S:.0f} MB/s assumed / MB per job). Add dispatchers (one `serve --role worker` each) to lift the
dispatcher's limit; the database and blob store limits are the cluster's.

| workers | unlimited jobs/s | predicted jobs/s | limited by |
|---:|---:|---:|---|
{chr(10).join(curve(step_s, basis))}
"""
    print(body)
    if not args.no_write:
        write_section("scale", body)


if __name__ == "__main__":
    main()
