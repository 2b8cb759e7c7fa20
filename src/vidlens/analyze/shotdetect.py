"""Shot-boundary detection on tiny YUV frames (baseline: hard cuts only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vidlens.media.decode import Sampling
from vidlens.types import FrameSample


@dataclass(frozen=True, slots=True)
class Boundary:
    frame: int
    kind: str
    start_frame: int
    end_frame: int
    score: float


class ShotDetectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(30.0, gt=0, description="Mean absolute YUV difference that marks a cut.")


class ShotBoundaryDetector:
    SAMPLING: ClassVar[Sampling] = Sampling(max_side=64, pix_fmt="yuv")

    def __init__(self, config: ShotDetectConfig | None = None) -> None:
        self.config = config or ShotDetectConfig()
        self._prev: np.ndarray | None = None
        self._out: list[Boundary] = []

    def push(self, sample: FrameSample) -> None:
        cur = sample.image.astype(np.int16)
        if self._prev is not None and self._prev.shape == cur.shape:
            d = float(np.abs(cur - self._prev).mean())
            if d > self.config.threshold:
                self._out.append(Boundary(sample.index, "cut", sample.index, sample.index, min(1.0, d / 100)))
        self._prev = cur

    def finish(self) -> list[Boundary]:
        return list(self._out)


def detect_boundaries(frames: Iterable[FrameSample], config: ShotDetectConfig | None = None) -> list[Boundary]:
    det = ShotBoundaryDetector(config)
    for f in frames:
        det.push(f)
    return det.finish()
