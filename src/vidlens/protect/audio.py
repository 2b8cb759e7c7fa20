"""Audio fingerprint: spectral-peak landmarks (the Shazam/Panako family).

The first audio stream is resampled to 8 kHz mono; a 64 ms / 32 ms STFT gives a
log spectrogram whose local maxima (at most ``PEAKS_PER_S`` a second) are the
peaks. Each peak is paired with up to ``FAN_OUT`` later peaks in a target zone;
a pair hashes to 21 bits (anchor frequency, frequency step, time step) stored
with the anchor's time. Matching pairs of hashes vote for a time offset and the
aligner turns consistent votes into segments, so a re-upload that changed the
picture but kept the sound is still found. A missing, silent or near-silent
track gives an empty fingerprint ("nothing to match"), never a weak one.
"""

from __future__ import annotations

import numpy as np

from vidlens.media.audio import read_audio
from vidlens.plugins import PluginManifest
from vidlens.protect.align import AlignParams, align_pairs
from vidlens.protect.fingerprint import CorruptFingerprintError, Example, Fingerprint, Fingerprinter, Segment
from vidlens.protect.index import LandmarkIndex
from vidlens.types import Video

SAMPLE_RATE = 8000
N_FFT = 512
HOP = 256
PEAKS_PER_S = 30
FAN_OUT = 5
ZONE_FRAMES = (1, 40)
ZONE_BINS = 63
SILENCE_RMS = 10 ** (-60 / 20)  # -60 dBFS
SLOT_S = 0.2  # query time slots handed to the aligner (5 per second, as the picture)


def spectrogram(x: np.ndarray) -> np.ndarray:
    """(frames, N_FFT/2+1) log magnitude."""
    if len(x) < N_FFT:
        return np.zeros((0, N_FFT // 2 + 1), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP] * np.hanning(N_FFT).astype(np.float32)
    return np.log1p(np.abs(np.fft.rfft(frames, axis=1)) * 100.0).astype(np.float32)


def _max_filter(s: np.ndarray, dt: int, df: int) -> np.ndarray:
    pad = np.pad(s, ((dt, dt), (df, df)), constant_values=-np.inf)
    m = np.lib.stride_tricks.sliding_window_view(pad, 2 * dt + 1, axis=0).max(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(m, 2 * df + 1, axis=1).max(axis=-1)


def peaks(spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frame, bin) of the strongest local maxima, at most PEAKS_PER_S per second."""
    if len(spec) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    local = (spec == _max_filter(spec, 4, 10)) & (spec > spec.mean() + 0.5 * spec.std())
    local[:, :3] = False  # DC and rumble
    t, f = np.nonzero(local)
    if len(t) == 0:
        return t, f
    per_s = SAMPLE_RATE / HOP
    budget = max(1, int(PEAKS_PER_S * len(spec) / per_s))
    if len(t) > budget:
        strongest = np.argsort(-spec[t, f], kind="stable")[:budget]
        keep = np.sort(strongest)
        t, f = t[keep], f[keep]
    order = np.lexsort((f, t))
    return t[order], f[order]


def landmarks(t: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """21-bit pair hashes and their anchor frame."""
    hashes, anchors = [], []
    n = len(t)
    for step in range(1, 4 * FAN_OUT + 1):
        if step >= n:
            break
        a, b = np.arange(n - step), np.arange(step, n)
        dtf = t[b] - t[a]
        dff = f[b] - f[a]
        ok = (dtf >= ZONE_FRAMES[0]) & (dtf < ZONE_FRAMES[1]) & (np.abs(dff) <= ZONE_BINS)
        hashes.append(((f[a][ok] & 0xFF) << 13) | ((dff[ok] + 64) & 0x7F) << 6 | (dtf[ok] & 0x3F))
        anchors.append(t[a][ok])
    if not hashes:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    h = np.concatenate(hashes).astype(np.uint32)
    a = np.concatenate(anchors)
    # fan-out cap: keep the first FAN_OUT pairs per anchor peak
    order = np.lexsort((np.arange(len(a)), a))
    return h[order], a[order]


class AudioFingerprinter(Fingerprinter):
    """Spectral-peak landmark hashes of the first audio stream."""

    name = "audio"
    version = 1
    manifest = PluginManifest(name, str(version), "fingerprinter",
                              "Spectral-peak landmark hashes of the sound (8 kHz mono).")

    def fingerprint(self, video: Video) -> Fingerprint:
        samples = read_audio(video.uri, SAMPLE_RATE)
        return self.from_samples(samples, video.duration_s)

    def from_samples(self, samples: np.ndarray | None, duration_s: float) -> Fingerprint:
        reason = None
        hashes = np.zeros(0, np.uint32)
        times = np.zeros(0, np.float32)
        if samples is None:
            reason = "no audio stream"
        elif len(samples) == 0 or float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < SILENCE_RMS:
            reason = "silent audio"
        else:
            t, f = peaks(spectrogram(samples))
            h, a = landmarks(t, f)
            if len(h) < 20:
                reason = "audio too quiet or too short to fingerprint"
            else:
                hashes, times = h, (a * HOP / SAMPLE_RATE).astype(np.float32)
        return Fingerprint(kind=self.name, version=self.version, duration_s=float(duration_s),
                           arrays={"hashes": hashes, "times": times},
                           meta={"sample_rate": SAMPLE_RATE, "empty": reason is not None,
                                 **({"reason": reason} if reason else {})})

    def validate(self, value: Fingerprint) -> Fingerprint:
        self._check_kind(value)
        h, t = value.arrays.get("hashes"), value.arrays.get("times")
        if h is None or t is None or h.dtype != np.uint32 or t.dtype != np.float32 or h.shape != t.shape:
            raise CorruptFingerprintError("audio fingerprint: 'hashes' (uint32) and 'times' (float32) must pair up")
        if len(t) and not np.all(np.isfinite(t)):
            raise CorruptFingerprintError("audio fingerprint: non-finite times")
        return value

    def compare(self, query: Fingerprint, reference: Fingerprint) -> list[Segment]:
        q, r = self.validate(query), self.validate(reference)
        if q.empty or r.empty:
            return []
        qh, qt = q.arrays["hashes"], q.arrays["times"].astype(np.float64)
        rh, rt = r.arrays["hashes"], r.arrays["times"].astype(np.float64)
        order = np.argsort(rh, kind="stable")
        lo = np.searchsorted(rh[order], qh, side="left")
        hi = np.searchsorted(rh[order], qh, side="right")
        counts = hi - lo
        if counts.sum() == 0:
            return []
        first = np.cumsum(counts) - counts
        pos = np.arange(int(counts.sum())) - np.repeat(first - lo, counts)
        rj = order[pos]
        qidx = np.repeat(np.arange(len(qh)), counts)
        slots = int(np.ceil(q.duration_s / SLOT_S)) + 1
        slot_times = np.arange(slots) * SLOT_S
        qi = np.minimum((qt[qidx] / SLOT_S).astype(np.int64), slots - 1)
        valid = np.zeros(slots, dtype=bool)
        valid[np.minimum((qt / SLOT_S).astype(np.int64), slots - 1)] = True
        params = AlignParams(max_dist=1, bin_s=0.2, tol_s=0.25, min_hits=6, min_density=0.3, max_mean_dist=1.0)
        # landmark pairs carry no distance; the slot time stands for the anchor's exact time
        segs = align_pairs(slot_times, rt, qi, rj, np.zeros(len(qi)), np.zeros(len(qi), np.int64), valid,
                           q.duration_s, r.duration_s, 1.0 / SLOT_S, params)
        return [Segment(s.query_start_s, s.query_end_s, s.reference_start_s, s.reference_end_s, s.score,
                        s.speed, {"audio": True}) for s in segs]

    @classmethod
    def index_cls(cls) -> type[LandmarkIndex]:
        return LandmarkIndex

    @classmethod
    def examples(cls) -> list[Example]:
        music = ("aevalsrc='0.4*sin(2*PI*(300+200*floor(mod(t*4,5)))*t)+0.3*sin(2*PI*(900+150*floor(mod(t*3,7)))*t)'"
                 ":s=44100:d={d}")
        other = ("aevalsrc='0.4*sin(2*PI*(520+90*floor(mod(t*5,6)))*t)+0.3*sin(2*PI*(1400+110*floor(mod(t*2,5)))*t)'"
                 ":s=44100:d={d}")
        pic = "color=c=gray:size=160x120:rate=10:duration={d},format=yuv420p[v]"
        return [
            Example("same sound, picture replaced", f"{music}[a];{pic}",
                    f"{music},volume=0.6[a];testsrc2=size=160x120:rate=10:duration={{d}},format=yuv420p[v]",
                    True, audio=True),
            Example("different sound", f"{music}[a];{pic}", f"{other}[a];{pic}", False, audio=True),
        ]
