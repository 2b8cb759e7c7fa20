from __future__ import annotations

from vidlens.analyze.tracking import peak_concurrent


def test_pieces_of_one_track_do_not_add_up() -> None:
    assert peak_concurrent([(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]) == 1  # half-open: end and start may touch


def test_overlapping_spans_count_together() -> None:
    assert peak_concurrent([(0.0, 5.0), (1.0, 2.0), (1.5, 3.0), (4.0, 6.0)]) == 3
    assert peak_concurrent([]) == 0
    assert peak_concurrent([(3.0, 3.0)]) == 0  # empty span
