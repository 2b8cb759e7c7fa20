"""From face tracks to people, and from people to names.

Face tracks (one face followed through a shot) are grouped across the whole video
by average-linkage agglomerative clustering on the cosine similarity of their mean
embeddings. Two tracks seen at the same moment are two different people, so such
clusters never merge (a cannot-link constraint), which keeps look-alikes in one
frame apart. A gallery maps embeddings to names: a folder with one sub-folder of
photos per name (or ``name.jpg`` files), or a JSON ``{"name": [128 floats] | [[...], ...]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.errors import UsageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True, slots=True)
class FaceTrackSummary:
    embedding: np.ndarray  # unit-length mean of the track's face embeddings
    times: tuple[float, ...]  # sample times at which the face was seen


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


def cluster_tracks(tracks: list[FaceTrackSummary], threshold: float) -> list[int]:
    """Cluster label per track (0..K-1, numbered by first appearance)."""
    n = len(tracks)
    if n == 0:
        return []
    emb = np.stack([t.embedding for t in tracks]).astype(np.float64)
    link = emb @ emb.T  # link[a, b]: sum of similarities between the members of clusters a and b
    blocked = np.zeros((n, n), bool)  # clusters that share a moment can never merge
    at: dict[float, list[int]] = {}
    for i, tr in enumerate(tracks):
        for t in tr.times:
            at.setdefault(t, []).append(i)
    for idx in at.values():
        if len(idx) > 1:
            blocked[np.ix_(idx, idx)] = True
    size = np.ones(n)
    alive = np.ones(n, bool)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while alive.sum() > 1:
        avg = link / np.outer(size, size)
        avg[blocked | ~alive[:, None] | ~alive[None, :]] = -np.inf
        np.fill_diagonal(avg, -np.inf)
        a, b = divmod(int(avg.argmax()), n)
        if avg[a, b] < threshold:
            break
        members[a].extend(members.pop(b))
        link[a, :] += link[b, :]
        link[:, a] += link[:, b]
        blocked[a, :] |= blocked[b, :]
        blocked[:, a] |= blocked[:, b]
        size[a] += size[b]
        alive[b] = False
    order = sorted(members, key=lambda k: min(min(tracks[i].times) for i in members[k]))
    labels = [0] * n
    for cid, k in enumerate(order):
        for i in members[k]:
            labels[i] = cid
    return labels


class Gallery:
    """Named reference embeddings (one unit-length centroid per name)."""

    def __init__(self, names: list[str], centroids: np.ndarray, warnings: list[str]) -> None:
        self.names = names
        self.centroids = centroids
        self.warnings = warnings

    def identify(self, embedding: np.ndarray, threshold: float) -> tuple[str | None, float]:
        """The best name and its cosine score, or (None, best score) below ``threshold``."""
        if not self.names:
            return None, 0.0
        scores = self.centroids @ embedding
        i = int(scores.argmax())
        return (self.names[i] if scores[i] >= threshold else None), float(scores[i])

    @classmethod
    def load(cls, source: str | Path, embed_image) -> Gallery:  # noqa: ANN001 - Callable[[Path], ndarray|None]
        """Read a gallery folder or JSON file; ``embed_image(path)`` embeds the largest face of a photo."""
        src = Path(source).expanduser()
        if not src.exists():
            raise UsageError(f"face gallery {src} does not exist")
        vectors: dict[str, list[np.ndarray]] = {}
        warnings: list[str] = []
        if src.is_file():
            try:
                raw = json.loads(src.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UsageError(f"face gallery {src} is not a JSON file of embeddings: {exc}") from None
            if not isinstance(raw, dict):
                raise UsageError(f"face gallery {src} must be a JSON object {{name: embedding(s)}}")
            for name, value in raw.items():
                arr = np.asarray(value, np.float32)
                if arr.ndim == 1:
                    arr = arr[None]
                if arr.ndim != 2 or arr.shape[1] != 128:
                    raise UsageError(f"face gallery {src}: '{name}' must be a 128-d vector or a list of them, "
                                     f"got shape {arr.shape}")
                vectors[str(name)] = [_unit(v) for v in arr]
        else:
            entries: list[tuple[str, Path]] = []
            for p in sorted(src.iterdir()):
                if p.is_dir():
                    entries += [(p.name, f) for f in sorted(p.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
                elif p.suffix.lower() in IMAGE_SUFFIXES:
                    entries.append((p.stem, p))
            for name, f in entries:
                v = embed_image(f)
                if v is None:
                    warnings.append(f"{f.name}: no face found")
                    continue
                vectors.setdefault(name, []).append(v)
        if not vectors:
            raise UsageError(f"face gallery {src} holds no usable face"
                             + (f" ({'; '.join(warnings[:3])})" if warnings else ""))
        names = sorted(vectors)
        centroids = np.stack([_unit(np.mean(vectors[n], axis=0)) for n in names]).astype(np.float32)
        return cls(names, centroids, warnings)


def merge_spans(times: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    """Union of [start, end] intervals, joining those closer than ``gap`` seconds."""
    out: list[list[float]] = []
    for s, e in sorted(times):
        if out and s - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]
