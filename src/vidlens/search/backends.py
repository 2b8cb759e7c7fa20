"""What each database adds to the moments table: a word index and, on PostgreSQL, a vector column.

The word index of SQLite and the vector table of PostgreSQL are derived data, created at run time (and
back-filled then) rather than migrated, and kept in step by the ``moments`` projection once they exist:

- SQLite: an FTS5 table ``search_moments_fts`` over the segmented ``terms`` (rowid = moment id),
  ranked by bm25. A SQLite built without FTS5 cannot search words: Find says so and ranks by meaning.
- PostgreSQL: the stored ``terms_tsv`` column (``to_tsvector('simple', terms)``, migration search_0004)
  with a GIN index, ranked by ``ts_rank_cd`` over a bounded first cut (``pg_words``); and with the
  ``vector`` extension (pgvector 0.7 or later) the table ``search_text_pgvec`` of text vectors as
  ``halfvec`` with an HNSW index (``pg_nearest``; the layout of migration search_0005). Without the
  extension, or with one too old for ``halfvec``, text vectors are searched through the HNSW file as on
  SQLite.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from typing import Literal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

FTS = "search_moments_fts"
PG_GIN = "ix_search_moments_terms_tsv"  # made by migration search_0004
PGVEC = "search_text_pgvec"
PGVEC_HNSW = f"{PGVEC}_hnsw"
# the two PostgreSQL indexes, also what a bulk load (bench/bench_search.py) builds again after filling. The
# HNSW graph is wider than pgvector's default (m 16, ef_construction 64): at 100,000 vectors it found 0.96 of
# the exact top 10 at hnsw.ef_search 100, where the default graph needed 400 (docs/benchmarks.md)
PG_GIN_DDL = f"CREATE INDEX IF NOT EXISTS {PG_GIN} ON search_moments USING gin (terms_tsv)"
PGVEC_HNSW_DDL = (f"CREATE INDEX IF NOT EXISTS {PGVEC_HNSW} ON {PGVEC} USING hnsw (embedding halfvec_cosine_ops) "
                  "WITH (m = 32, ef_construction = 128)")
# the meaning ranker's query; the query vector is cast to halfvec, the column's type, so the HNSW index serves it
PGVEC_NEAREST = (f"SELECT key, 1 - (embedding <=> CAST(:q AS halfvec)) AS sim FROM {PGVEC} WHERE model = :model "
                 "ORDER BY embedding <=> CAST(:q AS halfvec) LIMIT :k")
HALFVEC_SINCE = (0, 7)  # the pgvector release that brought halfvec
ITERATIVE_SINCE = (0, 8)  # ... and hnsw.iterative_scan
MAX_EF_SEARCH = 1000  # pgvector's largest hnsw.ef_search
# the most index scans one level of pg_words's first cut may take ("at least n of the words": one AND of n
# words per combination; a single query of them all would make GIN test every moment holding any word)
MAX_LEVEL_SCANS = 16


def has_fts(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite" and conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (FTS,)).first() is not None


def has_pgvec(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.exec_driver_sql(
        "SELECT to_regclass(%(t)s) IS NOT NULL", {"t": PGVEC}).scalar() is True


def ensure_fts(conn: Connection) -> bool:
    """Create and fill the SQLite word index if missing; False when this SQLite has no FTS5."""
    if has_fts(conn):
        return True
    try:
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {FTS} USING fts5(terms, tokenize='unicode61 remove_diacritics 2')")
    except sa.exc.OperationalError:
        return False
    conn.exec_driver_sql(f"INSERT INTO {FTS}(rowid, terms) SELECT id, terms FROM search_moments WHERE terms != ''")
    return True


def pgvector_version(conn: Connection) -> tuple[int, ...] | None:
    """The version of the ``vector`` extension installed in this database; None when it is not."""
    v = conn.exec_driver_sql("SELECT extversion FROM pg_extension WHERE extname = 'vector'").scalar()
    return version_tuple(v) if v else None


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3])


def ensure_pg(conn: Connection, dim: int) -> tuple[int, ...] | None:
    """Create the vector table when pgvector can be enabled; the extension's version when its table serves
    meaning, None when it cannot (no extension, or one before ``halfvec``). (The word index is migrated:
    search_0004.)"""
    installed = pgvector_version(conn)
    if installed is None:
        available = conn.exec_driver_sql(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").scalar()
        if available is None:
            log.warning("PostgreSQL has no pgvector extension ('vector'); text vectors are searched through an "
                        "HNSW file instead (install postgresql-NN-pgvector)")
            return None
        if version_tuple(available) < HALFVEC_SINCE:
            log.warning("PostgreSQL's pgvector %s has no halfvec (0.7 or later needed); text vectors are searched "
                        "through an HNSW file instead", available)
            return None
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
        installed = pgvector_version(conn)
        assert installed is not None
    if installed < HALFVEC_SINCE:
        log.warning("this database's pgvector extension is %s, without halfvec; text vectors are searched through "
                    "an HNSW file instead until it is updated (ALTER EXTENSION vector UPDATE)",
                    ".".join(map(str, installed)))
        return None
    if not has_pgvec(conn):
        conn.exec_driver_sql(f"CREATE TABLE {PGVEC} (model varchar(128) NOT NULL, key varchar(64) NOT NULL, "
                             f"embedding halfvec({dim}) NOT NULL, PRIMARY KEY (model, key))")
        conn.exec_driver_sql(PGVEC_HNSW_DDL)
    return installed


def pg_insert_vectors(conn: Connection, rows: list[tuple[str, str, np.ndarray]]) -> None:
    """Add ``(model, key, unit vector)`` rows to pgvector's table (stored as halfvec)."""
    if rows:
        conn.execute(sa.text(f"INSERT INTO {PGVEC} (model, key, embedding) VALUES (:model, :key, CAST(:v AS halfvec))"),
                     [{"model": m, "key": k, "v": vector_literal(v)} for m, k, v in rows])


def pg_nearest(conn: Connection, query: np.ndarray, model: str, k: int, ef_search: int,
               iterative: bool) -> list[tuple[str, float]]:
    """The ``k`` text vectors of ``model`` nearest ``query`` by pgvector's HNSW index, with their cosine
    similarity, nearest first.

    An HNSW scan yields at most ``hnsw.ef_search`` rows (pgvector caps it at 1,000), and rows of another
    model are dropped only after it: with ``iterative`` (pgvector 0.8) the scan goes on past them until
    ``k`` rows of ``model`` are found (``relaxed_order``: the caller orders by similarity). Both are set
    with SET LOCAL, for this transaction only, so a pooled connection goes back unchanged."""
    conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {max(1, min(MAX_EF_SEARCH, int(ef_search)))}")
    if iterative:
        conn.exec_driver_sql("SET LOCAL hnsw.iterative_scan = relaxed_order")
    rows = conn.execute(sa.text(PGVEC_NEAREST), {"q": vector_literal(query), "model": model, "k": k}).all()
    return sorted(((r.key, float(r.sim)) for r in rows), key=lambda r: -r[1])


def fill_pgvec(conn: Connection, chunk: int = 2000) -> int:
    """Copy the text vectors that pgvector's table lacks (made before the extension was there, or before its
    table was lost) into it; returns how many. The search service embeds new texts into both."""
    missing = sa.text(f"SELECT tv.model, tv.key, tv.vector FROM search_text_vectors tv "
                      f"WHERE (tv.model, tv.key) > (:model, :key) AND NOT EXISTS "
                      f"(SELECT 1 FROM {PGVEC} p WHERE p.model = tv.model AND p.key = tv.key) "
                      "ORDER BY tv.model, tv.key LIMIT :n")
    done, after = 0, {"model": "", "key": ""}
    while rows := conn.execute(missing, {**after, "n": chunk}).all():
        pg_insert_vectors(conn, [(r[0], r[1], np.frombuffer(r[2], "<f4")) for r in rows])
        done += len(rows)
        after = {"model": rows[-1][0], "key": rows[-1][1]}
    if done:
        log.info("pgvector: %d text vectors copied in from search_text_vectors", done)
    return done


def word_levels(words: list[str]) -> list[tuple[list[str], str]]:
    """The moments holding any of ``words``, split by how many of them they hold, most first and without
    overlap: all of them; all but one (and not all); ... ; any (and not in a level above). A level is
    ``(to_tsquery texts, one per combination of the words it needs, each an AND that the GIN index answers
    from its rarest word; to_tsquery text of the level above, to leave out)``. A middle level of more than
    ``MAX_LEVEL_SCANS`` combinations is left out, and the level below takes its moments."""
    n, levels, above = len(words), [], ""
    for need in range(n, 0, -1):
        if 1 < need < n and math.comb(n, need) > MAX_LEVEL_SCANS:
            continue
        combos = [" & ".join(c) for c in itertools.combinations(words, need)] if need > 1 else [" | ".join(words)]
        levels.append((combos, above))
        above = " | ".join(f"({c})" for c in combos)
    return levels


def pg_words(conn: Connection, words: list[str], k: int, pool: int) -> list[tuple[int, float]]:
    """The ``k`` moments best ranked by ``ts_rank_cd`` for any of ``words``, scored over a first cut of at
    most ``pool`` moments: those holding the most of the words (``word_levels``, read in that order from
    the GIN index, each level a query of its own that runs only while the cut is not full). When no more
    than ``pool`` moments hold any of the words, every one is scored: the answer is then exactly the
    ranking over all of them."""
    params: dict[str, object] = {"any": " | ".join(words), "pool": pool, "k": k}
    parts = []
    for i, (combos, above) in enumerate(word_levels(words)):
        params.update({f"l{i}_{j}": c for j, c in enumerate(combos)})
        match = " OR ".join(f"terms_tsv @@ to_tsquery('simple', :l{i}_{j})" for j in range(len(combos)))
        if above:
            params[f"a{i}"] = above
            match = f"({match}) AND NOT terms_tsv @@ to_tsquery('simple', :a{i})"
        parts.append(f"(SELECT id, terms_tsv FROM search_moments WHERE {match} LIMIT :pool)")
    return [(r[0], float(r[1])) for r in conn.execute(sa.text(
        f"SELECT id, ts_rank_cd(terms_tsv, to_tsquery('simple', :any)) AS r FROM "
        f"(SELECT id, terms_tsv FROM ({' UNION ALL '.join(parts)}) AS levels LIMIT :pool) AS cut "
        "ORDER BY r DESC, id LIMIT :k"), params)]


def vector_literal(v: np.ndarray) -> str:
    """pgvector's text form of a vector."""
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(v, np.float32).reshape(-1)) + "]"


Of = Literal["video_id", "event_id"]  # the moments of one video, or of one camera event


def after_insert(conn: Connection, of: Of, key: str) -> None:
    if has_fts(conn):
        conn.exec_driver_sql(f"INSERT INTO {FTS}(rowid, terms) SELECT id, terms FROM search_moments "
                             f"WHERE {of} = ? AND terms != ''", (key,))


def before_delete(conn: Connection, of: Of, key: str) -> None:
    if has_fts(conn):
        conn.exec_driver_sql(f"DELETE FROM {FTS} WHERE rowid IN (SELECT id FROM search_moments WHERE {of} = ?)",
                             (key,))
