"""Pieces of the visual fingerprint, the aligner and the index, on arrays."""

from __future__ import annotations

import numpy as np
import pytest

from vidlens.index import CorruptIndexError, HotIndex
from vidlens.protect.align import AlignParams, _contested, align_pairs, align_visual
from vidlens.protect.codes import LEGACY_WIDTH, VARIANTS, hamming, pack_bits
from vidlens.protect.fingerprint import Fingerprint, Segment
from vidlens.protect.index import BinaryIndex
from vidlens.protect.visual import VisualFingerprinter, codes_from_thumbnails, content_box, inset_box

RNG = np.random.default_rng(3)


def _smooth_frames(t: int, h: int, w: int) -> np.ndarray:
    """Blocky random pictures whose block edges move from frame to frame, as content does."""
    base = RNG.random((t, h // 8 + 2, w // 8 + 2)) * 200 + 20
    big = np.kron(base, np.ones((1, 8, 8)))
    dy, dx = RNG.integers(0, 8, t), RNG.integers(0, 8, t)
    return np.stack([big[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(t)]).astype(np.uint8)


def test_pack_and_hamming() -> None:
    bits = np.zeros((2, 64), bool)
    bits[1, [0, 5, 63]] = True
    codes = pack_bits(bits)
    assert codes[0] == 0 and codes[1] == (1 | 1 << 5 | 1 << 63)
    assert hamming(codes[0], codes[1]) == 3


def test_mirrored_code_equals_code_of_mirrored_picture() -> None:
    thumbs = RNG.random((4, 32, 32)) * 255
    plain, flip, _ = codes_from_thumbnails(thumbs)
    plain_of_mirror, _, _ = codes_from_thumbnails(thumbs[:, :, ::-1])
    assert np.all(hamming(flip, plain_of_mirror) <= 1)
    assert np.all(hamming(plain, flip) > 8)  # mirroring a random picture does change the code


def test_content_box_trims_letterbox_and_pillarbox() -> None:
    frames = _smooth_frames(10, 90, 160)
    frames[:, :12] = 16
    frames[:, -12:] = 16
    frames[:, :, :20] = 0
    assert content_box(frames) == (12, 78, 20, 160)
    dark = np.zeros((5, 90, 160), np.uint8)
    assert content_box(dark) == (0, 90, 0, 160)  # nothing left: keep the whole frame
    # bars of two colours (windowboxing) trim too
    frames[:, :12, 20:] = 40
    assert content_box(frames) == (12, 78, 20, 160)


def test_content_box_keeps_a_still_smooth_stretch_of_picture() -> None:
    """Blurred asphalt under a fixed camera is flat-ish and still, but it is picture, not a bar."""
    frames = _smooth_frames(10, 90, 160)
    frames[:, :, :50] = np.clip(120 + RNG.normal(0, 3, (90, 50)), 0, 255).astype(np.uint8)[None]
    assert content_box(frames) == (0, 90, 0, 160)
    shaded = _smooth_frames(10, 90, 160)
    shaded[:, :, :50] = np.linspace(100, 130, 50).astype(np.uint8)[None, None, :]  # flat columns, shaded
    assert content_box(shaded) == (0, 90, 0, 160)


def test_inset_box_finds_picture_in_picture() -> None:
    frames = _smooth_frames(20, 90, 160)
    inset = _smooth_frames(20, 45, 80) // 2 + 100
    frames[:, 36:81, 70:150] = inset
    box = inset_box(frames, (0, 90, 0, 160))
    assert box is not None
    y0, y1, x0, x1 = box
    assert abs(y0 - 36) <= 2 and abs(y1 - 81) <= 2 and abs(x0 - 70) <= 2 and abs(x1 - 150) <= 2  # measured exact
    assert VARIANTS[6][0] == "inset" and VARIANTS[8][1] < VARIANTS[0][1]


def test_a_fingerprint_of_the_earlier_layout_still_reads() -> None:
    """Works registered before the later inset slots: their codes are widened on reading, never refused."""
    n = 40
    codes = RNG.integers(0, 2**64 - 1, (n, LEGACY_WIDTH), dtype=np.uint64, endpoint=True)
    old = Fingerprint("visual", VisualFingerprinter.version, n / 5,
                      {"times": (np.arange(n) / 5).astype(np.float32), "codes": codes,
                       "valid": np.ones(n, bool)},
                      {"rate": 5.0})
    read = VisualFingerprinter().validate(old)
    assert read.arrays["codes"].shape == (n, len(VARIANTS)) and len(VARIANTS) > LEGACY_WIDTH
    assert np.array_equal(read.arrays["codes"][:, :LEGACY_WIDTH], codes)
    assert BinaryIndex.build([("old", old)]).query(read)[0].id == "old"
    assert [s.reference_start_s for s in align_visual(read, read)] == [0.0]


def _still_scene(t: int, h: int, w: int) -> np.ndarray:
    """A fixed camera: a textured wall with a bright window (frame-shaped), one small thing moving."""
    wall = np.kron(RNG.random((h // 4, w // 4)) * 40 + 60, np.ones((4, 4)))
    wall[10:60, 20:110] += 90
    frames = np.repeat(wall[None], t, axis=0)
    for i in range(t):
        x = (7 * i) % (w - 12)
        frames[i, 70:82, x:x + 12] = 240
    return np.clip(frames, 0, 255).astype(np.uint8)


def test_inset_box_ignores_the_still_edges_of_a_fixed_camera() -> None:
    """The window's edges are strong and frame-shaped, but they never move: no inset."""
    assert inset_box(_still_scene(30, 90, 160), (0, 90, 0, 160)) is None


def test_inset_box_finds_a_borderless_scope_film_in_a_still_scene() -> None:
    """A 2.35:1 film at about a third of the area, no border, over the fixed camera."""
    frames = _still_scene(30, 90, 160)
    frames[:, 40:82, 52:151] = _smooth_frames(30, 42, 99)
    box = inset_box(frames, (0, 90, 0, 160))
    assert box is not None
    y0, y1, x0, x1 = box
    assert abs(y0 - 40) <= 1 and abs(y1 - 82) <= 1 and abs(x0 - 52) <= 1 and abs(x1 - 151) <= 1  # measured exact


def test_one_moment_of_an_upload_placed_at_two_offsets_is_unsure() -> None:
    """Still footage: 2-5 s and 4.4-10 s of the upload were matched 3 s apart in the work (as a
    surveillance clip in picture was): each segment's own frames preferred its place, but one moment
    cannot show two, so both are reported ambiguous. Copies side by side in time keep their places."""
    a = Segment(2.0, 5.0, 18.0, 21.0, 0.7, confidence=0.6)
    b = Segment(4.4, 10.0, 15.0, 20.6, 0.8, confidence=0.9)
    later = Segment(10.0, 14.0, 40.0, 44.0, 0.8, confidence=0.9)
    out = _contested([a, b, later], AlignParams())
    assert [s.placement for s in out] == ["ambiguous", "ambiguous", "unique"]
    same_place = Segment(4.4, 10.0, 20.4, 26.0, 0.8, confidence=0.9)  # the same offset: one copy
    assert [s.placement for s in _contested([a, same_place], AlignParams())] == ["unique", "unique"]


def test_alignment_recovers_two_copies_and_a_speed_change() -> None:
    rate = 5.0
    qt = np.arange(0, 40, 1 / rate)
    rt = np.arange(0, 60, 1 / rate)
    pairs_i, pairs_j = [], []
    for i, t in enumerate(qt):
        if 5 <= t < 15:  # query 5-15 s = reference 20-30 s
            pairs_i.append(i)
            pairs_j.append(int(round((t + 15) * rate)))
        if 25 <= t < 33:  # query 25-33 s = reference 2-12 s played 1.25x faster
            pairs_i.append(i)
            pairs_j.append(int(round((2 + (t - 25) * 1.25) * rate)))
    noise_i = RNG.integers(0, len(qt), 40)
    noise_j = RNG.integers(0, len(rt), 40)
    qi = np.concatenate([pairs_i, noise_i])
    rj = np.concatenate([pairs_j, noise_j])
    dist = np.concatenate([np.full(len(pairs_i), 4.0), np.full(40, 13.0)])
    segs = align_pairs(qt, rt, qi, rj, dist, np.zeros(len(qi), int), np.ones(len(qt), bool), 40.0, 60.0, rate,
                       AlignParams())
    assert len(segs) == 2, segs
    a, b = segs
    # measured with three noise draws: 5.0-15.0(15.2) -> 20.0-30.0(30.2) at 1.0, 25.0-33.0 -> 2.0-12.0 at 1.25
    assert a.query_start_s == pytest.approx(5, abs=0.25) and a.query_end_s == pytest.approx(15, abs=0.3)
    assert a.reference_start_s == pytest.approx(20, abs=0.3) and a.speed == 1.0
    assert b.query_start_s == pytest.approx(25, abs=0.25) and b.speed == pytest.approx(1.25, abs=0.03)
    assert b.reference_end_s == pytest.approx(12, abs=0.5)


def _fp(codes: np.ndarray) -> Fingerprint:
    n = len(codes)
    return Fingerprint("visual", 1, n / 5, {"times": (np.arange(n) / 5).astype(np.float32),
                                            "codes": np.repeat(codes[:, None], len(VARIANTS), axis=1),
                                            "valid": np.ones(n, bool)}, {"rate": 5.0})


def _noisy(codes: np.ndarray, rng: np.random.Generator, bits: int = 2) -> np.ndarray:
    """Flip ``bits`` random bits of each code, as re-encoding does."""
    out = codes.copy()
    for _ in range(bits):
        out ^= np.uint64(1) << rng.integers(0, 64, len(codes)).astype(np.uint64)
    return out


def _still_camera(seconds: float, events: list[tuple[float, float]], rng: np.random.Generator) -> np.ndarray:
    """Codes at 5 fps of a fixed camera: one picture give or take a bit, except while something happens."""
    n = int(seconds * 5)
    codes = _noisy(np.full(n, rng.integers(0, 2**64 - 1, dtype=np.uint64, endpoint=True)), rng, 1)
    for s, e in events:
        codes[int(s * 5):int(e * 5)] = rng.integers(0, 2**64 - 1, int(e * 5) - int(s * 5), dtype=np.uint64,
                                                    endpoint=True)
    return codes


def test_low_motion_copy_keeps_its_time_scale_and_place() -> None:
    """A car park: still, but for three cars passing. The copy is 10.0-22.2 s, at real speed."""
    rng = np.random.default_rng(15)
    ref = _still_camera(30.0, [(4, 6), (14, 17), (25, 27)], rng)
    query = _noisy(ref[50:111], rng)  # 10.0-22.2 s
    segs = align_visual(_fp(query), _fp(ref))
    assert len(segs) == 1, segs
    s = segs[0]
    assert s.speed == 1.0
    assert s.query_start_s == pytest.approx(0.0, abs=0.3) and s.query_end_s == pytest.approx(12.2, abs=0.3)
    assert s.reference_start_s == pytest.approx(10.0, abs=0.5)
    assert s.reference_end_s - s.reference_start_s == pytest.approx(s.query_duration_s * s.speed, abs=1e-6)
    # the passing car's frames pin the place, the still ones side with no place: measured 0.94
    # (0.90 with other noise draws); ambiguous is < 0.25
    assert s.placement == "unique" and s.confidence >= 0.75


def test_still_copy_is_found_but_its_place_is_reported_unsure() -> None:
    rng = np.random.default_rng(16)
    ref = _still_camera(30.0, [(4, 6), (25, 27)], rng)
    query = _noisy(ref[35:70], rng)  # 7-14 s: nothing moves
    segs = align_visual(_fp(query), _fp(ref))
    assert segs, "a still copy is still a copy"
    s = max(segs, key=lambda x: x.query_duration_s)
    assert s.speed == 1.0 and s.query_duration_s >= 6.0
    assert s.reference_end_s - s.reference_start_s == pytest.approx(s.query_duration_s, abs=1e-6)
    # every still second of the work fits as well (measured 0.0; the unsure line is 0.25)
    assert s.placement == "ambiguous" and s.confidence <= 0.1


def test_speed_changed_copy_reports_spans_at_its_speed() -> None:
    rng = np.random.default_rng(17)
    ref = rng.integers(0, 2**64 - 1, 300, dtype=np.uint64, endpoint=True)  # 60 s of changing picture
    t = np.arange(0, 18, 0.2)
    query = _noisy(ref[np.round((10 + 1.1 * t) * 5).astype(int)], rng)  # 10-29.8 s played 1.1x
    segs = align_visual(_fp(query), _fp(ref))
    assert len(segs) == 1, segs
    s = segs[0]
    assert s.speed == pytest.approx(1.1, abs=0.02)
    assert s.reference_start_s == pytest.approx(10.0, abs=0.5)
    assert s.reference_end_s - s.reference_start_s == pytest.approx(s.query_duration_s * s.speed, abs=1e-6)
    assert s.placement == "unique" and s.confidence >= 0.75  # measured 1.0


def test_multi_index_search_agrees_with_a_full_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = RNG.integers(0, 2**64 - 1, 50_000, dtype=np.uint64, endpoint=True)
    index = BinaryIndex.from_anchors(codes, np.zeros(len(codes), np.uint32), np.zeros(len(codes), np.float32), ["a"])
    q = codes[:200] ^ np.uint64(0b1011)  # 3 bits away: within reach of multi-index hashing's guarantee
    full = index.search(q, 3)
    monkeypatch.setattr("vidlens.protect.index.EXHAUSTIVE_LIMIT", 0)
    mih = index.search(q, 3)
    assert sorted(zip(*full[:2], strict=True)) == sorted(zip(*mih[:2], strict=True))
    assert len(full[0]) >= 200


def test_index_round_trip_refuses_damage_and_hot_swaps() -> None:
    a = _fp(RNG.integers(0, 2**64 - 1, 100, dtype=np.uint64, endpoint=True))
    b = _fp(RNG.integers(0, 2**64 - 1, 100, dtype=np.uint64, endpoint=True))
    idx = BinaryIndex.build([("a", a), ("b", b)], checkpoint="c1")
    back = BinaryIndex.from_bytes(idx.to_bytes())
    assert back.ids == ["a", "b"] and back.checkpoint == "c1" and np.array_equal(back.codes, idx.codes)
    assert back.query(b)[0].id == "b"
    data = idx.to_bytes()
    with pytest.raises(CorruptIndexError):
        BinaryIndex.from_bytes(data[:-100])
    state = {"checkpoint": "c1"}
    hot = HotIndex(lambda: (state["checkpoint"],
                            lambda: BinaryIndex.build([("a", a)], checkpoint=state["checkpoint"])))
    assert hot.get() is hot.get() and hot.loads == 1
    state["checkpoint"] = "c2"
    assert hot.get().checkpoint == "c2" and hot.loads == 2
