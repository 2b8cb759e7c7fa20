"""The layout of the visual fingerprint's codes: what each of a frame's 64-bit codes covers.

Shared by the fingerprinter that writes the codes, the aligner that compares them and the index
that holds some of them, so none of those needs another.

Every frame stores ``len(VARIANTS)`` codes: the canonical one (centre 80 % of the content box,
which drops corner logos and caption bars) and the variants a copy may need: mirrored, centre 90 %
and 100 % (the copy was cropped 10–20 %), the inset box, and the centre 55 % (plain and mirrored)
for copies with large overlays at the edges. References are indexed by their ``ANCHOR_SLOTS``;
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
)
# The reference slot each query slot is compared with: every variant tries to rebuild the
# canonical code, except the centre ones, compared centre to centre: they keep a match when logos
# and caption bands cover the picture's edges.
REF_SLOT = np.array([0, 0, 0, 0, 0, 0, 0, 0, 8, 8])
ANCHOR_SLOTS = (0, 8)  # reference codes the index holds
BITS = 64

_BIT_WEIGHTS = (np.uint64(1) << np.arange(BITS, dtype=np.uint64))


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(..., 64) bool → (...,) uint64."""
    return (bits.astype(np.uint64) * _BIT_WEIGHTS).sum(axis=-1, dtype=np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distance between broadcastable uint64 arrays."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8)
