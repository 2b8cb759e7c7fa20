"""Find's tables: the moments projected from each stored document and camera event, and the text vectors of
their words.

``search_moments`` is a projection (``vidlens.search.projections``): derived rows. A moment's ``source``
says what it is of: a ``video`` (a span of a library video, rebuilt by ``vidlens reindex --projection
moments``) or a camera ``event`` stored by Watch (kept in step when the event is stored, ended, given
its clip or reviewed). ``search_text_vectors`` holds the text embedding of each
distinct text (by digest, per model), made by the search service for moments that have none yet, so
re-projecting a document embeds nothing it embedded before and the write path runs no model.
Full-text and vector indexes over them (SQLite FTS5, pgvector, HNSW files) are derived at run time, except
the word vector PostgreSQL keeps in ``search_moments`` itself (a generated ``terms_tsv`` column with a GIN
index, made by migration search_0004 on PostgreSQL only). pgvector's table is made at run time too, but its
layout is migrated where it exists (search_0005: ``halfvec`` under a wider HNSW graph).
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

moments = sa.Table(
    "search_moments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(8), nullable=False, server_default="video",
              comment="video | event: a span of a library video, or a camera event"),
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=True,
              index=True),
    sa.Column("event_id", sa.String(64), nullable=True, index=True, comment="the camera event (source event)"),
    sa.Column("camera", sa.String(64), nullable=True, comment="the camera of an event"),
    sa.Column("at", sa.Float, nullable=True, comment="epoch seconds when the event was stored (source event)"),
    sa.Column("event", sa.JSON, nullable=True,
              comment="the event's type, zone, line, direction, track and links (source event)"),
    sa.Column("kind", sa.String(16), nullable=False,
              comment="speech | translation | text | object | person | tag | shot | frame | event"),
    sa.Column("start_s", sa.Float, nullable=False),
    sa.Column("end_s", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False, comment="what is shown as evidence and embedded"),
    sa.Column("terms", sa.Text, nullable=False, comment="lower-case words of text, Chinese segmented (jieba)"),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("label", sa.String(128), nullable=True, comment="object label, tag, or a person's identity"),
    sa.Column("person", sa.String(64), nullable=True, comment="person_id within the video, for people"),
    sa.Column("shot_index", sa.Integer, nullable=True),
    sa.Column("thumbnail_blob", sa.String(128), nullable=True),
    sa.Column("image_blob", sa.String(128), nullable=True, comment="keyframe feature (.npy) of frame moments"),
    sa.Column("face", sa.LargeBinary, nullable=True, comment="SFace embedding, float32 little-endian"),
    sa.Column("text_key", sa.String(64), nullable=True, index=True,
              comment="sha256 of text: its vector in search_text_vectors"),
    sa.CheckConstraint("(source = 'video' AND video_id IS NOT NULL) OR (source = 'event' AND event_id IS NOT NULL)",
                       name="source"),
    # PostgreSQL only (search_0004): terms_tsv, to_tsvector('simple', terms) stored, and its GIN index
    info={"backend_only": ("terms_tsv", "ix_search_moments_terms_tsv")},
)

text_vectors = sa.Table(
    "search_text_vectors", metadata,
    sa.Column("model", sa.String(128), primary_key=True, comment="the text model that made the vector"),
    sa.Column("key", sa.String(64), primary_key=True, comment="sha256 of the text"),
    sa.Column("vector", sa.LargeBinary, nullable=False, comment="unit float32 little-endian"),
)

events = sa.Table(
    "search_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(128), nullable=False, index=True,
              comment="the viewer, as the calling application names them (not a VidLens account)"),
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("kind", sa.String(8), nullable=False, comment="play | like | skip"),
    sa.Column("at", sa.Float, nullable=False, comment="epoch seconds"),
)
