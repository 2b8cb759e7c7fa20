"""The layout of the visual fingerprint's codes: what each of a frame's 64-bit codes covers.

Shared by the fingerprinter that writes the codes, the aligner that compares them and the index
that holds some of them, so none of those needs another.

Every frame stores ``len(VARIANTS)`` codes: the canonical one (centre 80 % of the content box,
which drops corner logos and caption bars) and the variants a copy may need: mirrored, centre 90 %
and 100 % (the copy was cropped 10–20 %), the inset box, the centre 55 % (plain and mirrored)
for copies with large overlays at the edges, and the next two inset candidates. References are
indexed by their ``ANCHOR_SLOTS``;
queries try all variants, each against the reference code it stands for (``REF_SLOT``).
"""

from __future__ import annotations

import numpy as np

CANON = 0.8  # the canonical code covers the centre of the content box, this fraction of each side
CENTRE = 0.55  # the centre code: clear of corner logos and the bottom caption band
# Variant slots: (region, scale, mirrored); the larger content scales undo a 10-20 % crop
VARIANTS: tuple[tuple[str, float, bool], ...] = (
    ("content", CANON, False), ("content", CANON, True),
    ("content", 0.9, False), ("content", 0.9, True),
    ("content", 1.0, False), ("content", 1.0, True),
    ("inset", CANON, False), ("inset", CANON, True),
    ("content", CENTRE, False), ("content", CENTRE, True),
    ("inset2", CANON, False), ("inset3", CANON, False),
)
# The reference slot each query slot is compared with: every variant tries to rebuild the
# canonical code, except the centre ones, compared centre to centre: they keep a match when logos
# and caption bands cover the picture's edges.
REF_SLOT = np.array([0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 0, 0])
ANCHOR_SLOTS = (0, 8)  # reference codes the index holds
# fingerprints made before the second and third inset candidates have this many codes a frame; they
# are read as if those slots repeated the first inset's (``widened``)
LEGACY_WIDTH = 10
BITS = 64

_BIT_WEIGHTS = (np.uint64(1) << np.arange(BITS, dtype=np.uint64))


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(..., 64) bool → (...,) uint64."""
    return (bits.astype(np.uint64) * _BIT_WEIGHTS).sum(axis=-1, dtype=np.uint64)


def widened(codes: np.ndarray) -> np.ndarray:
    """(T, LEGACY_WIDTH) codes of an earlier fingerprint → (T, len(VARIANTS)); other shapes unchanged.

    The slots added since hold further inset candidates; a repeat of the first inset's code measures the
    same as having none, and a reference is only ever read at its ``REF_SLOT`` codes.
    """
    if codes.ndim != 2 or codes.shape[1] != LEGACY_WIDTH:
        return codes
    first_inset = VARIANTS.index(("inset", CANON, False))
    added = np.repeat(codes[:, [first_inset]], len(VARIANTS) - LEGACY_WIDTH, axis=1)
    return np.concatenate([codes, added], axis=1)


def distinct_slots(codes: np.ndarray) -> np.ndarray:
    """Slots of (T, V) query codes that differ, in some frame, from every earlier slot compared with the
    same reference slot: the others would only repeat those slots' distances (no inset found, or fewer
    candidates)."""
    keep: list[int] = []
    for j in range(codes.shape[1]):
        if not any(REF_SLOT[k] == REF_SLOT[j] and np.array_equal(codes[:, k], codes[:, j]) for k in keep):
            keep.append(j)
    return np.array(keep, dtype=np.int64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distance between broadcastable uint64 arrays."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8)
