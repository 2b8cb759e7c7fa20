"""The per-format seam: one ``LabelCodec`` per container family.

A codec finds every stored ``AIGC`` value in a file (never raising on hostile
bytes: defects become ``Problem``s), writes a new value into a copy of the file
without re-encoding, and says how to hash the file's content so that the label's
own bytes are excluded (the input of the ReservedCode signatures).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar

from vidlens.errors import CorruptMediaError
from vidlens.govern.label import Problem

if TYPE_CHECKING:
    from vidlens.plugins import PluginManifest

MAX_DEPTH = 16
SNIFF_BYTES = 1024  # enough for three MPEG-TS packet syncs


@dataclass(slots=True)
class Found:
    """One stored label value and where it sits in the file (for the report)."""

    raw: bytes
    where: str


@dataclass(slots=True)
class ReadResult:
    found: list[Found] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def corrupt(self, message: str) -> None:
        self.problems.append(Problem("corrupt_container", message))


class LabelCodec(ABC):
    """A container family that can carry the implicit label (a plugin of kind ``label_codec``)."""

    name: ClassVar[str]
    manifest: ClassVar[PluginManifest]
    extensions: ClassVar[tuple[str, ...]]
    text_utf8: ClassVar[bool] = True  # the carrier stores UTF-8 text; False: only ASCII labels can be written
    unhashed_streams: ClassVar[tuple[str, ...]] = ()  # stream types that carry the label itself
    sniff_order: ClassVar[int] = 0  # codecs are sniffed in this order, then by name: loose signatures go last

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """True if the first bytes (up to ``SNIFF_BYTES``) look like this format."""

    @abstractmethod
    def read(self, f: BinaryIO, size: int) -> ReadResult:
        """Every ``AIGC`` value in the file; hostile input is reported, never raised."""

    @abstractmethod
    def write(self, src: Path, dst: Path, value: str) -> None:
        """Write ``src`` to ``dst`` with ``value`` as the only label; no re-encoding."""

    @abstractmethod
    def examples(self, directory: Path) -> list[Path]:
        """Make small valid sample files of this format (for the contract tests)."""

    def content_hash(self, path: Path) -> str:
        """SHA-256 of the demuxed packets of every stream, in stream order.

        Packets carry the coded audio/video and none of the container's tags, so the
        hash survives any relabelling or lossless remux but not an edit of the content. Streams
        of the types in ``unhashed_streams`` are left out.
        """
        from vidlens.media.decode import iter_packets
        from vidlens.media.source import open_source

        digests: dict[int, hashlib._Hash] = {}
        for sample in iter_packets(open_source(path), streams=("all",)):  # the decode layer's tap: nothing decoded
            if sample.kind in self.unhashed_streams:
                continue
            digests.setdefault(sample.packet.stream_index, hashlib.sha256()).update(bytes(sample.packet))
        total = hashlib.sha256()
        for index in sorted(digests):
            total.update(digests[index].digest())
        return total.hexdigest()


def read_exact(f: BinaryIO, n: int) -> bytes | None:
    """``n`` bytes, or None at a short read (a truncated file)."""
    data = f.read(n)
    return data if len(data) == n else None


def copy_range(fin: BinaryIO, fout: BinaryIO, start: int, length: int) -> None:
    """Copy ``length`` bytes of ``fin`` from ``start`` to ``fout``, 1 MiB at a time."""
    fin.seek(start)
    remaining = length
    while remaining > 0:
        chunk = fin.read(min(remaining, 1 << 20))
        if not chunk:
            raise CorruptMediaError("file shrank while being copied")
        fout.write(chunk)
        remaining -= len(chunk)
