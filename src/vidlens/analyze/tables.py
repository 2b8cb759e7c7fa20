"""Understand tables: the stored analysis document of each video, and the tables projected from it.

``documents`` holds the current document per video (docs/formats.md), written once per analysis
from the stored analyzer results. ``people`` and ``tracks`` are projections of it (see
``vidlens.analyze.projections``): typed rows that face search, the people gallery and surveillance
read without parsing documents. Projections are rebuilt from the document by ``vidlens reindex``,
so they hold nothing the document does not.
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

documents = sa.Table(
    "documents", metadata,
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False, comment="document version (docs/formats.md)"),
    sa.Column("status", sa.String(16), nullable=False, comment="analysed | partial | failed"),
    sa.Column("analyzers", sa.JSON, nullable=False,
              comment="per analyzer: version, config_hash, status and error of the result it was built from"),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

people = sa.Table(
    "people", metadata,
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.String(64), primary_key=True, comment="distinct face cluster within the video"),
    sa.Column("identity", sa.String(255), nullable=True, index=True, comment="gallery name, when matched"),
    sa.Column("identity_score", sa.Float, nullable=True),
    sa.Column("first_s", sa.Float, nullable=True),
    sa.Column("screen_time_s", sa.Float, nullable=False),
    sa.Column("faces", sa.Integer, nullable=False, comment="detections clustered into this person"),
    sa.Column("best_t", sa.Float, nullable=True),
    sa.Column("thumbnail_blob", sa.String(128), nullable=True),
    sa.Column("embedding", sa.LargeBinary, nullable=True, comment="float32 little-endian, unit length"),
)

tracks = sa.Table(
    "tracks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("kind", sa.String(16), nullable=False, comment="object | person"),
    sa.Column("ref", sa.String(64), nullable=False, comment="object track_id, or people.person_id"),
    sa.Column("label", sa.String(128), nullable=False, index=True,
              comment="COCO label of an object; identity (else 'person') of a person"),
    sa.Column("start_s", sa.Float, nullable=False),
    sa.Column("end_s", sa.Float, nullable=False),
    sa.Column("shot_index", sa.Integer, nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("best_t", sa.Float, nullable=True),
    sa.Column("box_x1", sa.Float, nullable=True, comment="best box, display pixels"),
    sa.Column("box_y1", sa.Float, nullable=True),
    sa.Column("box_x2", sa.Float, nullable=True),
    sa.Column("box_y2", sa.Float, nullable=True),
)

# People across the library. An identity is one person, whatever the video; ``identity_faces`` links each
# per-video person (``people``) to one. The links are the ``identities`` projection: written from each
# stored document by nearest identity, except links a person set by hand (``pinned``: a merge or a
# split), which the projection keeps. Names are given by people, never derived, so they live here.
identities = sa.Table(
    "identities", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=True, index=True, comment="given by a person; null until named"),
    sa.Column("created_at", sa.Float, nullable=False),
)

identity_faces = sa.Table(
    "identity_faces", metadata,
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.String(64), primary_key=True, comment="people.person_id within the video"),
    sa.Column("identity_id", sa.Integer, sa.ForeignKey("identities.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("similarity", sa.Float, nullable=True, comment="cosine to the identity when linked automatically"),
    sa.Column("pinned", sa.Boolean, nullable=False, comment="set by a merge or split; kept by the projection"),
)
