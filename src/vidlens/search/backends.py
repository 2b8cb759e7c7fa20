"""What each database adds to the moments table: a word index and, on PostgreSQL, a vector column.

The word index of SQLite and the vector table of PostgreSQL are derived data, created at run time (and
back-filled then) rather than migrated, and kept in step by the ``moments`` projection once they exist:

- SQLite: an FTS5 table ``search_moments_fts`` over the segmented ``terms`` (rowid = moment id),
  ranked by bm25 over a bounded first cut (``fts_words``), with an ``fts5vocab`` table over it. A SQLite
  built without FTS5 cannot search words: Find says so and ranks by meaning.
- PostgreSQL: the stored ``terms_tsv`` column (``to_tsvector('simple', terms)``, migration search_0004)
  with a GIN index, ranked by ``ts_rank_cd`` over a bounded first cut that reads the query's rarest words
  first (``pg_words``, word shares from the statistics ANALYZE keeps); and with the ``vector`` extension
  (pgvector 0.7 or later) the table ``search_text_pgvec`` of text vectors as ``halfvec`` with an HNSW index
  (``pg_nearest``; the layout of migration search_0005). Without the extension, or with one too old for
  ``halfvec``, text vectors are searched through the HNSW file as on SQLite.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

FTS = "search_moments_fts"
FTS_VOCAB = f"{FTS}_vocab"  # fts5vocab 'row' table over the word index: each word's document count
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
# the most GIN scans pg_words's first cut plans (each is planned, even those it never runs)
MAX_CUT_SCANS = 32


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


@dataclass(frozen=True)
class WordStats:
    """How common words are among the moments, from the statistics ANALYZE keeps for ``terms_tsv``
    (``pg_stats.most_common_elems``): the share of moments holding each listed word, and the smallest
    listed share. A word the list leaves out is rarer than that."""

    share: dict[str, float]
    floor: float

    def rarest_first(self, words: list[str]) -> list[str]:
        """``words`` from the rarest to the most common (words left out of the list first, in query order)."""
        return sorted(words, key=lambda w: self.share.get(w, self.floor / 2))


class WordHit(NamedTuple):
    id: int
    rank: float  # ts_rank_cd
    terms: str
    kind: str


def pg_word_stats(conn: Connection) -> WordStats:
    """The word statistics of ``search_moments.terms_tsv`` (none before its first ANALYZE: every word is
    then "rare" and the query's order is kept)."""
    row = conn.exec_driver_sql(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
        "WHERE schemaname = current_schema() AND tablename = 'search_moments' AND attname = 'terms_tsv'"
    ).first()
    if row is None or not row[0]:
        return WordStats({}, 1.0)
    freqs = [float(f) for f in row[1][:len(row[0])]]  # the list ends with the min, max (and null) shares
    return WordStats(dict(zip(row[0], freqs, strict=True)), min(freqs))


def cut_scans(words: list[str]) -> list[str]:
    """The GIN scans of pg_words's first cut, in the order they run (``words`` given rarest first), as
    ``to_tsquery`` texts, at most ``MAX_CUT_SCANS``: for each number of the words a moment holds, most first,
    one AND per combination of that many words, the rarest combinations first (GIN answers an AND from its
    rarest word's posting list); then one scan per word, the rarest first. The first level whose
    combinations would leave no scan for the single words is left out with every level below it (six
    words: the levels of six, five and four are scanned; seven: seven to five); past the last scan left,
    the commonest words share one."""
    n, scans = len(words), []
    for need in range(n, 1, -1):
        combos = [" & ".join(c) for c in itertools.combinations(words, need)]
        if len(scans) + len(combos) >= MAX_CUT_SCANS:
            break
        scans += combos
    room = MAX_CUT_SCANS - len(scans)
    return scans + (list(words) if n <= room else [*words[:room - 1], " | ".join(words[room - 1:])])


def pg_words(conn: Connection, words: list[str], k: int, pool: int, stats: WordStats | None = None
             ) -> list[WordHit]:
    """The ``k`` moments best ranked by ``ts_rank_cd`` for any of ``words``, scored over a first cut of at
    most ``pool`` moments, in one statement: the moments of each of ``cut_scans`` (words rarest first, by
    ``stats``, read from pg_stats when not given) that no earlier scan took, read until the cut is full (the
    scans after it never run). So the cut holds the moments with the most query words (every level is
    scanned for up to five words) and, among those holding as many, those with the rarer words. When no
    more than ``pool`` moments hold any of the words, every one is scored: the answer is then exactly the
    ranking over all of them."""
    ordered = (stats if stats is not None else pg_word_stats(conn)).rarest_first(words)
    scans = cut_scans(ordered)
    # bound rarest first, so the statement's text depends only on how many words there are: the driver
    # prepares it after a few uses and PostgreSQL can keep one plan of its scans instead of planning each time
    params: dict[str, object] = {"any": " | ".join(words), "pool": pool, "k": k}
    params.update({f"w{i}": w for i, w in enumerate(ordered)})
    bound = {w: f"w{i}" for i, w in enumerate(ordered)}
    parts = []
    for i, scan in enumerate(scans):
        if " | " in scan:
            params[f"s{i}"] = scan
            match = f"terms_tsv @@ to_tsquery('simple', :s{i})"
        else:  # an AND as one condition per word: GIN intersects them faster than one tsquery's AND
            match = " AND ".join(f"terms_tsv @@ to_tsquery('simple', :{bound[w]})" for w in scan.split(" & "))
        if i:
            params[f"t{i}"] = " | ".join(f"({s})" for s in scans[:i])
            match += f" AND NOT terms_tsv @@ to_tsquery('simple', :t{i})"
        parts.append(f"(SELECT id, terms_tsv, terms, kind FROM search_moments WHERE {match})")
    return [WordHit(r[0], float(r[1]), r[2], r[3]) for r in conn.execute(sa.text(
        f"SELECT id, ts_rank_cd(terms_tsv, to_tsquery('simple', :any)) AS r, terms, kind FROM "
        f"(SELECT * FROM ({' UNION ALL '.join(parts)}) AS scans LIMIT :pool) AS cut "
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
