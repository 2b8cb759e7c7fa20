"""What each database adds to the moments table: a word index and, on PostgreSQL, a vector column.

The word index of SQLite and the vector table of PostgreSQL are derived data, created at run time (and
back-filled then) rather than migrated, and kept in step by the ``moments`` projection once they exist:

- SQLite: an FTS5 table ``search_moments_fts`` over the segmented ``terms`` (rowid = moment id),
  ranked by bm25 over a bounded first cut (``fts_words``), with an ``fts5vocab`` table over it. A SQLite
  built without FTS5 cannot search words: Find says so and ranks by meaning.
- PostgreSQL: the stored ``terms_tsv`` column (``to_tsvector('simple', terms)``, migration search_0004)
  with a GIN index, ranked by ``ts_rank_cd`` over a bounded first cut (``pg_words``); and with the
  ``vector`` extension (pgvector) the table ``search_text_pgvec`` of text vectors with an HNSW index.
  Without the extension, text vectors are searched through the HNSW file as on SQLite.
"""

from __future__ import annotations

import itertools
import logging
import math
from typing import Literal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

FTS = "search_moments_fts"
FTS_VOCAB = f"{FTS}_vocab"  # fts5vocab 'row' table over the word index: each word's document count
PG_GIN = "ix_search_moments_terms_tsv"  # made by migration search_0004
PGVEC = "search_text_pgvec"
# the two PostgreSQL indexes, also what a bulk load (bench/bench_search.py) builds again after filling
PG_GIN_DDL = f"CREATE INDEX IF NOT EXISTS {PG_GIN} ON search_moments USING gin (terms_tsv)"
PGVEC_HNSW_DDL = f"CREATE INDEX IF NOT EXISTS {PGVEC}_hnsw ON {PGVEC} USING hnsw (embedding vector_cosine_ops)"
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
    """Create and fill the SQLite word index if missing, with the ``fts5vocab`` table over it that counts
    each word's moments (``fts_words``); False when this SQLite has no FTS5."""
    if not has_fts(conn):
        try:
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE {FTS} USING fts5(terms, tokenize='unicode61 remove_diacritics 2')")
        except sa.exc.OperationalError:
            return False
        conn.exec_driver_sql(f"INSERT INTO {FTS}(rowid, terms) SELECT id, terms FROM search_moments WHERE terms != ''")
    conn.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_VOCAB} USING fts5vocab({FTS}, row)")
    return True


def ensure_pg(conn: Connection, dim: int) -> bool:
    """Create the vector table when pgvector can be enabled; True with pgvector. (The word index is
    migrated: search_0004.)"""
    if has_pgvec(conn):
        return True
    available = conn.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").first() is not None
    if not available:
        log.warning("PostgreSQL has no pgvector extension ('vector'); text vectors are searched through an "
                    "HNSW file instead (install postgresql-NN-pgvector)")
        return False
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    conn.exec_driver_sql(f"CREATE TABLE {PGVEC} (model varchar(128) NOT NULL, key varchar(64) NOT NULL, "
                         f"embedding vector({dim}) NOT NULL, PRIMARY KEY (model, key))")
    conn.exec_driver_sql(PGVEC_HNSW_DDL)
    return True


def fill_pgvec(conn: Connection, chunk: int = 2000) -> int:
    """Copy the text vectors that pgvector's table lacks (made before the extension was there, or before its
    table was lost) into it; returns how many. The search service embeds new texts into both."""
    missing = sa.text(f"SELECT tv.model, tv.key, tv.vector FROM search_text_vectors tv "
                      f"WHERE (tv.model, tv.key) > (:model, :key) AND NOT EXISTS "
                      f"(SELECT 1 FROM {PGVEC} p WHERE p.model = tv.model AND p.key = tv.key) "
                      "ORDER BY tv.model, tv.key LIMIT :n")
    done, after = 0, {"model": "", "key": ""}
    while rows := conn.execute(missing, {**after, "n": chunk}).all():
        conn.execute(sa.text(f"INSERT INTO {PGVEC} (model, key, embedding) VALUES (:model, :key, CAST(:v AS vector))"),
                     [{"model": r[0], "key": r[1], "v": vector_literal(np.frombuffer(r[2], "<f4"))} for r in rows])
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
