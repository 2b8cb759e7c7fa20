"""Video fingerprints: the ``SignalType`` of copy detection.

A ``Fingerprinter`` turns a decoded video into a ``Fingerprint`` (named arrays plus
a little metadata, tagged with the fingerprinter's name and version), validates
fingerprints read back from storage, compares two of them into aligned
``Segment``s, and names the ``Index`` class that searches many of them. Installed
fingerprinters are found through the plugin entry points (kind ``fingerprinter``).

Fingerprints serialise to an ``.npz`` whose first member is a JSON header; they
are read back with ``allow_pickle=False`` so a crafted file can never run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import StoreError
from vidlens.index import SignalType
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.plugins import discovered

FORMAT = "vidlens-fingerprint"
PLACEMENT_UNSURE_BELOW = 0.25  # a segment's confidence under which its place in the work is "ambiguous"


class CorruptFingerprintError(StoreError):
    """A fingerprint is unreadable, truncated, of another kind or version, or not the shape its kind needs."""

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

    def render(self, directory: Path) -> tuple[Path, Path]:
        """Render the reference and the query clips into ``directory`` (H.264, AAC when ``audio``)."""
        out = []
        for which, graph in (("reference", self.reference), ("query", self.query)):
            path = Path(directory) / f"{which}.mp4"
            args = ["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.1", "-filter_complex",
                    graph.replace("{d}", str(self.duration_s)), "-map", "[v]"]
            if self.audio:
                args += ["-map", "[a]", "-c:a", "aac", "-b:a", "96k"]
            run_ffmpeg([*args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)])
            out.append(path)
        return out[0], out[1]


class Fingerprinter(SignalType[Fingerprint, list[Segment]]):
    """Extracts, checks and compares one kind of fingerprint.

    ``fingerprint(video)`` decodes once; ``compare(query, reference)`` gives the copied segments of
    ``reference`` found in ``query`` (empty when none); ``examples()`` are ``Example`` clip pairs.
    """

    @classmethod
    @abstractmethod
    def examples(cls) -> list[Example]:
        """Copy and non-copy clip pairs the contract test renders with FFmpeg and checks."""

    def _check_kind(self, value: Fingerprint) -> None:
        if value.kind != self.name:
            raise CorruptFingerprintError(f"expected a '{self.name}' fingerprint, got '{value.kind}'")
        if value.version != self.version:
            raise CorruptFingerprintError(f"'{self.name}' fingerprint version {value.version} is not the "
                                          f"supported version {self.version}; re-register the work")


def fingerprinter(name: str) -> Fingerprinter:
    """The installed fingerprinter called ``name`` (plugin kind ``fingerprinter``)."""
    cls = discovered().get(name, kind="fingerprinter").cls
    return cls()
