"""The analyzer seam.

An analyzer declares how it wants frames sampled and consumes them as a stream
from the single decode. It returns a JSON-able document; the runner caches it by
(content sha256, analyzer@version, config hash) and stores it. One failing analyzer
marks its own result failed and never stops the others.

An analyzer that can read a long video in time ranges on several workers (``splits``) says how far
beyond its own span a range must read (``range_margin_s``), what a range hands over
(``analyze_range``) and how the ranges' parts make the document ``analyze`` would have made
(``merge_ranges``); ``vidlens.analyze.ranges`` runs them. The others run over the whole video.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from vidlens.blobs.local import BlobStore
from vidlens.errors import ConfigError, UsageError
from vidlens.hashing import sha256_bytes
from vidlens.media.decode import AudioSampling, Sampling
from vidlens.plugins import PluginManifest
from vidlens.types import FrameSample, Video


class AnalyzerConfig(BaseModel):
    """Base of every analyzer's config: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class AnalysisContext:
    """What an analyzer may use besides its frames."""

    video: Video
    blobs: BlobStore | None = None
    progress: Callable[[float], None] = lambda _f: None
    #: True once the caller wants the run stopped; an analyzer with long work of its own (speech) checks it
    cancelled: Callable[[], bool] = lambda: False
    #: True when the sound the analyzer asked for (``Analyzer.audio_for``) arrives as ``AudioChunk``s among the
    #: items of its frame iterator, from the same decode (the runner does this); False: it reads the sound itself
    sound_in_frames: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class SeamMismatch(UsageError):
    """The ranges of a split read do not join into one pass (the analyzer is then run whole)."""


@dataclass(frozen=True)
class Span:
    """One time range of a split analysis: the frames with ``start <= t < end`` are its own (``None``:
    the video's start or end); it reads from ``read_start`` to ``read_end``, a margin beyond them.
    ``origin`` is the time of the video's first frame (rate-limited samplings keep its phase)."""

    index: int
    start: float | None
    end: float | None
    read_start: float | None
    read_end: float | None
    origin: float

    def owns(self, t: float) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)


@dataclass(frozen=True)
class AnalyzerExample:
    """A self-checking example: ``make(dir)`` writes a clip, ``check(doc)`` asserts on the result."""

    name: str
    make: Callable[[Path], Path]
    check: Callable[[dict[str, Any]], None]
    config: dict[str, Any] = field(default_factory=dict)


def sample_rate(fps: float, min_samples: int, duration_s: float, ceiling: float = 5.0) -> float:
    """``fps``, raised for short videos so they still get ``min_samples`` looks (at most ``ceiling`` fps).

    Tracking and clustering need a few samples per appearance: one look a second is
    plenty for a film, but a 4-second clip would get four. The extra cost is bounded
    by ``min_samples`` per video.
    """
    if duration_s <= 0:
        return fps
    return max(fps, min(ceiling, min_samples / duration_s))


class Analyzer(ABC):
    manifest: ClassVar[PluginManifest]
    Config: ClassVar[type[AnalyzerConfig]] = AnalyzerConfig
    #: One sampling, several (each FrameSample's ``stream`` says which), or None for an analyzer that
    #: reads no video frames (e.g. speech reads the audio stream itself) and gets an empty iterator.
    sampling: ClassVar[Sampling | tuple[Sampling, ...] | None]
    #: The sound the analyzer hears (mono float32 at a rate, in chunks), or None. A runner delivers it from the
    #: one decode, among the frames (see ``AnalysisContext.sound_in_frames``), instead of a second read of the file.
    audio_sampling: ClassVar[AudioSampling | None] = None

    def __init__(self, config: AnalyzerConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Analyzer:
        try:
            return cls(cls.Config(**(raw or {})))
        except ValidationError as exc:
            from vidlens.settings import format_validation_error

            raise ConfigError(format_validation_error(exc, f"config of analyzer '{cls.manifest.name}'")) from None

    @property
    def name(self) -> str:
        return self.manifest.name

    def config_hash(self) -> str:
        return sha256_bytes(json.dumps(self.config.model_dump(mode="json"), sort_keys=True).encode())[:16]

    def sampling_for(self, video: Video) -> Sampling | tuple[Sampling, ...] | None:
        """The sampling for this video; override when it depends on the video."""
        return self.sampling

    #: Whether ``analyze_range``/``merge_ranges`` give exactly the document ``analyze`` would.
    splits: ClassVar[bool] = False

    def range_margin_s(self, video: Video) -> float:
        """Seconds a range reads beyond its own span on each side (only for ``splits``)."""
        raise NotImplementedError

    def range_samplings(self, video: Video, span: Span) -> Sampling | tuple[Sampling, ...]:
        """The sampling of a range (only for ``splits``): rate-limited ones keep the whole video's phase."""
        sampling = self.sampling_for(video)
        assert sampling is not None
        samplings = (sampling,) if isinstance(sampling, Sampling) else sampling
        return tuple(replace(s, origin=span.origin) if s.fps is not None else s for s in samplings)

    def analyze_range(self, ctx: AnalysisContext, frames: Iterator[FrameSample], span: Span) -> Any:
        """Consume one range's frames; return what ``merge_ranges`` needs of it (picklable)."""
        raise NotImplementedError

    def merge_ranges(self, ctx: AnalysisContext, spans: list[Span], parts: list[Any]) -> dict[str, Any]:
        """The document of the whole video from its ranges' parts, in time order."""
        raise NotImplementedError
    def audio_for(self, video: Video) -> AudioSampling | None:
        """The sound to deliver for this video: ``audio_sampling`` when the video has an audio stream."""
        return self.audio_sampling if video.has_audio else None

    def prepare(self, ctx: AnalysisContext) -> None:
        """Load models now, before the decode starts (the runner calls this once per run).

        Models are cached per process, so a worker pays the load once, not per video; a bad
        model file fails here, before any frame is decoded; and load time is not counted as
        analysis time. The default needs nothing.
        """

    @abstractmethod
    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        """Consume the frames and return a JSON-able document."""

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        return []
