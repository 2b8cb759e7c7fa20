"""Error correction for the watermark: CRC-16 + a rate-1/2, K=7 convolutional code with soft Viterbi.

The watermark channel gives a real-valued confidence per coded bit, not a hard
bit, so a soft-decision decoder gains several dB over hard-decision block codes
(which is what makes 64 bits readable after CRF 32). The CRC tells a decoded
payload from a decoded accident.
"""

from __future__ import annotations

import numpy as np

K = 7
POLYS = (0o133, 0o171)  # the NASA/CCSDS pair
N_STATES = 1 << (K - 1)
CRC_BITS = 16


def crc16(bits: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT (poly 0x1021, init 0xFFFF) of a bit array, as 16 bits."""
    reg = 0xFFFF
    for b in bits.astype(np.uint8):
        top = ((reg >> 15) & 1) ^ int(b)
        reg = ((reg << 1) & 0xFFFF) ^ (0x1021 if top else 0)
    return np.array([(reg >> (15 - i)) & 1 for i in range(16)], np.uint8)


def _parity(x: int) -> int:
    return x.bit_count() & 1


# For each (state, input bit): next state and the two output bits.
_NEXT = np.zeros((N_STATES, 2), np.int64)
_OUT = np.zeros((N_STATES, 2, 2), np.float64)
for _s in range(N_STATES):
    for _b in (0, 1):
        _reg = (_b << (K - 1)) | _s
        _NEXT[_s, _b] = _reg >> 1
        _OUT[_s, _b] = [_parity(_reg & p) * 2 - 1 for p in POLYS]


def coded_length(payload_bits: int) -> int:
    return 2 * (payload_bits + CRC_BITS + K - 1)


def encode(payload_bits: np.ndarray) -> np.ndarray:
    """Payload → (payload + CRC + tail) convolutionally coded, as 0/1 bits."""
    bits = np.concatenate([payload_bits.astype(np.uint8), crc16(payload_bits), np.zeros(K - 1, np.uint8)])
    state = 0
    out = np.zeros(2 * len(bits), np.uint8)
    for i, b in enumerate(bits):
        o = _OUT[state, b]
        out[2 * i:2 * i + 2] = (o > 0).astype(np.uint8)
        state = _NEXT[state, b]
    return out


def decode(soft: np.ndarray, payload_bits: int) -> tuple[np.ndarray, bool]:
    """Soft Viterbi (positive = bit 1); returns the payload bits and whether the CRC matches."""
    steps = len(soft) // 2
    metric = np.full(N_STATES, -np.inf)
    metric[0] = 0.0
    back = np.zeros((steps, N_STATES), np.int64)  # predecessor state * 2 + bit
    prev_state = np.repeat(np.arange(N_STATES), 2)
    prev_bit = np.tile(np.array([0, 1]), N_STATES)
    nxt = _NEXT[prev_state, prev_bit]
    outs = _OUT[prev_state, prev_bit]
    for t in range(steps):
        gain = metric[prev_state] + outs @ soft[2 * t:2 * t + 2]
        if t >= steps - (K - 1):
            gain = np.where(prev_bit == 0, gain, -np.inf)  # tail bits are zeros
        order = np.lexsort((-gain, nxt))
        first = order[np.r_[True, nxt[order][1:] != nxt[order][:-1]]]
        metric = np.full(N_STATES, -np.inf)
        metric[nxt[first]] = gain[first]
        back[t, nxt[first]] = prev_state[first] * 2 + prev_bit[first]
    state = 0
    bits = np.zeros(steps, np.uint8)
    for t in range(steps - 1, -1, -1):
        code = back[t, state]
        bits[t] = code & 1
        state = code >> 1
    payload, crc = bits[:payload_bits], bits[payload_bits:payload_bits + CRC_BITS]
    return payload, bool(np.array_equal(crc16(payload), crc))
