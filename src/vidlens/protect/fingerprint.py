"""The fingerprinter seam, in the shape of python-threatexchange's ``SignalType``.

A ``Fingerprinter`` turns a decoded video into a ``Fingerprint`` (named arrays plus
a little metadata, tagged with the fingerprinter's name and version), validates
fingerprints read back from storage, compares two of them into aligned
``Segment``s, and names the ``Index`` class that searches many of them.

Fingerprints serialise to an ``.npz`` whose first member is a JSON header; they
are read back with ``allow_pickle=False`` so a crafted file can never run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vidlens.errors import StoreError

if TYPE_CHECKING:
    from vidlens.protect.index import Index
    from vidlens.types import Video

FORMAT = "vidlens-fingerprint"
PLACEMENT_UNSURE_BELOW = 0.25  # a segment's confidence under which its place in the work is "ambiguous"


class CorruptFingerprintError(StoreError):
    """A stored fingerprint or index is unreadable, truncated, or from an unknown version."""

    code = "corrupt_fingerprint"


@dataclass(frozen=True)
class Fingerprint:
    """What a fingerprinter extracted from one video.

    ``arrays`` hold the signal (per-frame codes, times, landmark hashes...);
    ``meta`` holds small JSON-able facts (rate, picture size, flags).
    """

    kind: str
    version: int
    duration_s: float
    arrays: Mapping[str, np.ndarray]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when the source held nothing to fingerprint (silence, black picture)."""
        return bool(self.meta.get("empty", False))

    def header(self) -> dict[str, Any]:
        return {"format": FORMAT, "kind": self.kind, "version": self.version,
                "duration_s": round(float(self.duration_s), 6), "meta": dict(self.meta),
                "arrays": {k: [str(v.dtype), list(v.shape)] for k, v in sorted(self.arrays.items())}}

    def digest(self) -> str:
        """sha256 over the header and the raw array bytes: stable across save/load."""
        h = hashlib.sha256(json.dumps(self.header(), sort_keys=True, separators=(",", ":")).encode())
        for name in sorted(self.arrays):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.arrays[name]).tobytes())
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        header = np.frombuffer(json.dumps(self.header(), sort_keys=True).encode(), dtype=np.uint8)
        np.savez_compressed(buf, __header__=header, **{f"a_{k}": v for k, v in self.arrays.items()})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "fingerprint") -> Fingerprint:
        """Read a fingerprint back; any damage becomes ``CorruptFingerprintError``."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                header = json.loads(bytes(z["__header__"]).decode())
                arrays = {k[2:]: z[k] for k in z.files if k.startswith("a_")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise CorruptFingerprintError(f"{source}: not a readable fingerprint ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CorruptFingerprintError(f"{source}: not a VidLens fingerprint (bad header)")
        declared = header.get("arrays", {})
        if set(declared) != set(arrays):
            raise CorruptFingerprintError(f"{source}: fingerprint arrays {sorted(arrays)} do not match "
                                          f"its header {sorted(declared)}")
        for name, (dtype, shape) in declared.items():
            a = arrays[name]
            if str(a.dtype) != dtype or list(a.shape) != shape:
                raise CorruptFingerprintError(f"{source}: array '{name}' is {a.dtype}{list(a.shape)}, "
                                              f"header says {dtype}{shape}")
        return cls(kind=str(header["kind"]), version=int(header["version"]),
                   duration_s=float(header["duration_s"]), arrays=arrays, meta=header.get("meta", {}))


@dataclass(frozen=True, slots=True)
class Segment:
    """One copied stretch: query ``[q0, q1)`` seconds shows reference ``[r0, r1)``.

    ``r1 - r0 == speed * (q1 - q0)``. ``confidence`` says how sure the reference placement is:
    1.0 when no other place in the work fits the copied frames, near 0 when another fits them
    as well (a still camera's footage; see ``align.placement_confidence``).
    """

    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    score: float
    speed: float = 1.0
    hints: Mapping[str, Any] = field(default_factory=dict)
    confidence: float = 1.0

    @property
    def query_duration_s(self) -> float:
        return self.query_end_s - self.query_start_s

    @property
    def placement(self) -> str:
        """"unique", or "ambiguous" when another place in the work fits nearly as well."""
        return "unique" if self.confidence >= PLACEMENT_UNSURE_BELOW else "ambiguous"

    def to_dict(self) -> dict[str, Any]:
        return {"query_start_s": round(self.query_start_s, 3), "query_end_s": round(self.query_end_s, 3),
                "reference_start_s": round(self.reference_start_s, 3),
                "reference_end_s": round(self.reference_end_s, 3), "score": round(self.score, 4),
                "speed": round(self.speed, 4), "hints": dict(self.hints), "confidence": round(self.confidence, 3),
                "placement": self.placement}


@dataclass(frozen=True, slots=True)
class Example:
    """A self-contained case every fingerprinter must get right (used by the contract test).

    ``reference`` and ``query`` are FFmpeg ``-filter_complex`` graphs over lavfi sources
    producing ``[v]`` (and ``[a]`` when ``audio``); ``match`` says whether a copy must be found.
    """

    name: str
    reference: str
    query: str
    match: bool
    duration_s: float = 6.0
    audio: bool = False


class Fingerprinter(ABC):
    """Extracts, checks and compares one kind of fingerprint."""

    name: ClassVar[str]
    version: ClassVar[int]

    @abstractmethod
    def fingerprint(self, video: Video) -> Fingerprint:
        """Fingerprint a probed video (one decode)."""

    @abstractmethod
    def validate(self, value: Fingerprint) -> Fingerprint:
        """Return ``value`` if it is a well-formed fingerprint of this kind, else raise."""

    @abstractmethod
    def compare(self, query: Fingerprint, reference: Fingerprint) -> list[Segment]:
        """Copied segments of ``reference`` found in ``query`` (empty when none)."""

    @classmethod
    @abstractmethod
    def index_cls(cls) -> type[Index]:
        """The index class that retrieves candidate references for this kind."""

    @classmethod
    @abstractmethod
    def examples(cls) -> list[Example]:
        """Cases the contract test renders with FFmpeg and checks."""

    def _check_kind(self, value: Fingerprint) -> None:
        if value.kind != self.name:
            raise CorruptFingerprintError(f"expected a '{self.name}' fingerprint, got '{value.kind}'")
        if value.version != self.version:
            raise CorruptFingerprintError(f"'{self.name}' fingerprint version {value.version} is not the "
                                          f"supported version {self.version}; re-register the work")
