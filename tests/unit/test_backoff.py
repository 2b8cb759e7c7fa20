"""The reconnect policy shared by Watch's cameras and ``vidlens humans live``: waits that double up to a
ceiling, back to the first after the source delivered, and a wait that a stop cuts short."""

from __future__ import annotations

import threading
import time

import pytest

from vidlens.media.backoff import Backoff


def test_waits_double_to_the_ceiling_and_start_again_after_the_source_delivered() -> None:
    b = Backoff(0.01, 0.04)
    waits = []
    for _ in range(4):
        waits.append(b.next_s)
        assert b.wait(lambda: False)
    assert waits == [0.01, 0.02, 0.04, 0.04] and b.tries == 4
    b.delivered()
    assert (b.next_s, b.tries) == (0.01, 0)


def test_a_stop_cuts_the_wait_short() -> None:
    b = Backoff(30.0)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    began = time.monotonic()
    assert b.wait(stop.is_set) is False
    assert time.monotonic() - began < 5.0  # far below the 30 s wait: it looked at the stop while waiting
    assert b.next_s == 30.0  # a stopped wait is not a failed try


@pytest.mark.parametrize(("first", "ceiling"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 30.0)])
def test_nonsense_waits_are_refused(first: float, ceiling: float) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(first, ceiling)
