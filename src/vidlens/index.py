"""Signals and indexes: the seam every fingerprint and every search plugs into.

The shape is python-threatexchange's: a ``SignalType`` turns media into a signal, checks signals read
back from storage, compares two of them and names the ``Index`` class that searches many; an
``Index`` maps entries (an id, a signal value, a small JSON payload) to the ones near a query. Both
are plugins (entry-point group ``vidlens.plugins``, kinds ``fingerprinter`` and ``index``), and
``tests/contract`` runs one contract over every installed one, driven by its own ``examples()``.

Index files are ``.npz`` archives whose first member is a JSON header naming the format, the index
and its version; they are written with plain arrays and read with ``allow_pickle=False``, so a crafted
file can never run code. A file from another version of its index raises ``StaleIndexError``: the
holder rebuilds it from its entries, which an index never is the only copy of.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

import numpy as np

from vidlens.errors import StoreError, UsageError

if TYPE_CHECKING:
    from vidlens.plugins import PluginManifest
    from vidlens.types import Video

INDEX_FORMAT = "vidlens-index"
V = TypeVar("V")  # the signal value an index holds and is queried with
R = TypeVar("R")  # what comparing two signals gives
IndexT = TypeVar("IndexT", bound="Index[Any]")


class CorruptIndexError(StoreError):
    """A stored index is unreadable, truncated, or inconsistent with its header."""

    code = "corrupt_index"


class StaleIndexError(CorruptIndexError):
    """A readable index written by another version of its index class: rebuild it from its entries."""

    code = "stale_index"


@dataclass(frozen=True, slots=True)
class Hit:
    """One entry that answers a query.

    ``distance`` is how far the entry's nearest part lies from the query, in the index's ``measure``
    (0 for an exact match); ``score`` is how strongly the entry answers (larger is better: matched
    frames, shared hashes, a similarity), and hits come best score first; ``payload`` is what the
    entry was added with.
    """

    id: str
    distance: float
    score: float
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexExample(Generic[V]):
    """A self-contained case every index must answer (used by the contract test).

    ``expect`` names the ids the query must find, best first; empty when nothing may be found.
    """

    name: str
    entries: Sequence[tuple[str, V, Mapping[str, Any]]]
    query: V
    expect: tuple[str, ...]
    threshold: float | None = None


class Index(ABC, Generic[V]):
    """Entries ``(id, value, payload)`` searched by nearness of value.

    Subclasses implement ``_add``, ``query``, ``_state`` and ``_restore``; ids, payloads, the
    checkpoint, persistence and the checks on load are done here once.
    """

    name: ClassVar[str]  # in the file header and the plugin manifest
    version: ClassVar[int]  # bumped whenever the stored arrays change meaning or layout
    manifest: ClassVar[PluginManifest]
    measure: ClassVar[str]  # what ``Hit.distance`` and ``threshold`` count, for people
    default_threshold: ClassVar[float]
    former_formats: ClassVar[tuple[str, ...]] = ()  # file formats this index was once saved in (stale)

    def __init__(self, *, checkpoint: str = "") -> None:
        self.checkpoint = checkpoint  # what the entries were taken from (a registry's ledger head, ...)
        self._ids: list[str] = []
        self._payloads: list[dict[str, Any]] = []
        self._positions: dict[str, int] = {}

    # -- entries --------------------------------------------------------------
    @classmethod
    def build(cls, entries: Iterable[tuple[str, V] | tuple[str, V, Mapping[str, Any]]], *,
              checkpoint: str = "", **options: Any) -> Self:
        """A new index (``options`` go to the constructor) holding ``entries``: ``(id, value)`` or
        ``(id, value, payload)``."""
        index = cls(checkpoint=checkpoint, **options)
        index.add_all(entries)
        return index

    def add(self, id: str, value: V, payload: Mapping[str, Any] | None = None) -> None:
        """Add one entry; an id already present is refused (ids name entries, they are not keys)."""
        if not isinstance(id, str) or not id or "\x00" in id:
            raise UsageError(f"{self.name} index: an entry id must be a non-empty string without NUL, got {id!r}")
        if id in self._positions:
            raise UsageError(f"{self.name} index: entry '{id}' is already indexed")
        body = dict(payload or {})
        try:
            json.dumps(body)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{self.name} index: payload of '{id}' is not JSON ({exc})") from None
        self._add(len(self._ids), value)  # first: a value it refuses leaves the index as it was
        self._positions[id] = len(self._ids)
        self._ids.append(id)
        self._payloads.append(body)

    def add_all(self, entries: Iterable[tuple[str, V] | tuple[str, V, Mapping[str, Any]]]) -> None:
        for entry in entries:
            self.add(*entry)

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def _hit(self, position: int, distance: float, score: float) -> Hit:
        return Hit(self._ids[position], float(distance), float(score), self._payloads[position])

    @abstractmethod
    def _add(self, position: int, value: V) -> None:
        """Index ``value`` as the entry at ``position`` (raise before changing anything if it is unusable)."""

    @abstractmethod
    def query(self, value: V, threshold: float | None = None) -> list[Hit]:
        """Entries within ``threshold`` of ``value`` (``default_threshold`` when None), best first."""

    # -- persistence ----------------------------------------------------------
    @abstractmethod
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(small JSON-able facts, plain arrays) that ``_restore`` turns back into this index."""

    @abstractmethod
    def _restore(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Load the entries' signal values from ``_state``'s output; raise ``CorruptIndexError`` if they
        do not fit together."""

    def to_bytes(self) -> bytes:
        meta, arrays = self._state()
        if any(k.startswith("__") for k in arrays):
            raise UsageError(f"{self.name} index: array names starting with '__' are reserved")
        arrays = {**arrays, "__ids__": np.array(self._ids, dtype=np.str_),
                  "__payloads__": np.frombuffer(json.dumps(self._payloads).encode(), np.uint8)}
        header = {"format": INDEX_FORMAT, "index": self.name, "version": self.version, "count": len(self),
                  "checkpoint": self.checkpoint, "meta": meta,
                  "arrays": {k: [str(v.dtype), list(v.shape)] for k, v in sorted(arrays.items())}}
        buf = io.BytesIO()
        np.savez(buf, __header__=np.frombuffer(json.dumps(header, sort_keys=True).encode(), np.uint8), **arrays)
        return buf.getvalue()

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the old file or the new one, never half of one."""
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "index") -> Self:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                header = json.loads(bytes(z["__header__"]).decode())
                arrays = {k: z[k] for k in z.files if k != "__header__"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise CorruptIndexError(f"{source}: not a readable index ({exc})") from None
        if not isinstance(header, dict):
            raise CorruptIndexError(f"{source}: not a VidLens index (bad header)")
        if header.get("format") in cls.former_formats:
            raise StaleIndexError(f"{source}: a {cls.name} index in the earlier format "
                                  f"'{header.get('format')}' version {header.get('version')}; rebuild it")
        if header.get("format") != INDEX_FORMAT or header.get("index") != cls.name:
            raise CorruptIndexError(f"{source}: not a '{cls.name}' index (header names "
                                    f"{header.get('format')!r} {header.get('index')!r})")
        if header.get("version") != cls.version:
            raise StaleIndexError(f"{source}: '{cls.name}' index version {header.get('version')} is not the "
                                  f"supported version {cls.version}; rebuild it")
        declared = header.get("arrays")
        if not isinstance(declared, dict) or set(declared) != set(arrays):
            raise CorruptIndexError(f"{source}: index arrays {sorted(arrays)} do not match its header")
        for name, spec in declared.items():
            a = arrays[name]
            if not isinstance(spec, list) or len(spec) != 2 or str(a.dtype) != spec[0] or list(a.shape) != spec[1]:
                raise CorruptIndexError(f"{source}: array '{name}' is {a.dtype}{list(a.shape)}, header says {spec}")
        try:
            ids = [str(i) for i in arrays.pop("__ids__").tolist()]
            payloads = json.loads(bytes(arrays.pop("__payloads__")).decode())
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            raise CorruptIndexError(f"{source}: index entries unreadable ({exc})") from None
        count = header.get("count")
        if (not isinstance(payloads, list) or len(ids) != count or len(payloads) != count
                or len(set(ids)) != len(ids) or not all(isinstance(p, dict) for p in payloads)):
            raise CorruptIndexError(f"{source}: index entries do not match its header")
        index = cls(checkpoint=str(header.get("checkpoint", "")))
        index._ids, index._payloads = ids, payloads
        index._positions = {i: n for n, i in enumerate(ids)}
        try:
            index._restore(header.get("meta") or {}, arrays)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise CorruptIndexError(f"{source}: index arrays do not fit together ({type(exc).__name__}: "
                                    f"{exc})") from None
        return index

    @classmethod
    def load(cls, path: Path) -> Self:
        return cls.from_bytes(Path(path).read_bytes(), source=str(path))

    # -- contract ---------------------------------------------------------------
    @classmethod
    @abstractmethod
    def examples(cls) -> list[IndexExample[V]]:
        """Cases the contract test builds and queries: at least one that must find an entry, one that
        must find none."""


class HotIndex(Generic[IndexT]):
    """Holds a loaded index and swaps it when ``current()`` reports a new checkpoint.

    ``current`` returns ``(checkpoint, loader)`` where ``loader()`` produces the index for that
    checkpoint (reading a saved file, or rebuilding when none is saved yet), so a long-running
    matcher or search service sees new entries without a restart.
    """

    def __init__(self, current: Callable[[], tuple[str, Callable[[], IndexT]]]) -> None:
        self._current = current
        self._index: IndexT | None = None
        self._lock = threading.Lock()
        self.loads = 0

    def get(self) -> IndexT:
        checkpoint, loader = self._current()
        with self._lock:
            if self._index is None or self._index.checkpoint != checkpoint:
                self._index = loader()
                self.loads += 1
            return self._index


class SignalType(ABC, Generic[V, R]):
    """Turns media into a signal, checks and compares signals, and names the index that searches them.

    ``name`` and ``version`` tag every value it makes; a value of another version is refused by
    ``validate``, never compared, so a change of meaning forces a rebuild instead of silent misses.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    manifest: ClassVar[PluginManifest]

    @abstractmethod
    def fingerprint(self, video: Video) -> V:
        """The signal of a probed video."""

    @abstractmethod
    def validate(self, value: V) -> V:
        """Return ``value`` if it is a well-formed signal of this type and version, else raise."""

    @abstractmethod
    def compare(self, query: V, reference: V) -> R:
        """How ``query`` relates to ``reference`` (the brute-force answer an index speeds up)."""

    @classmethod
    @abstractmethod
    def index_cls(cls) -> type[Index[V]]:
        """The index class that retrieves candidate references for this signal."""

    @classmethod
    @abstractmethod
    def examples(cls) -> list[Any]:
        """Cases the contract test makes and checks."""
