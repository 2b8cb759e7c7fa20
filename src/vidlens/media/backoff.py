"""How long to wait before connecting again to a live source that failed or dropped.

The first wait is ``first_s``; each failure in a row doubles it, up to ``max_s``; once the source
delivers again the next failure waits ``first_s`` again. A camera that is down for an hour is then
asked twice a minute, and one that blinked is back within a second. Watch's cameras and
``vidlens humans live`` both reconnect through this one policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_BACKOFF_S = 30.0
POLL_S = 0.1  # how often a wait looks at its stop condition


class Backoff:
    def __init__(self, first_s: float = 1.0, max_s: float = MAX_BACKOFF_S) -> None:
        if not 0 < first_s <= max_s:
            raise ValueError(f"backoff needs 0 < first_s <= max_s, got {first_s} and {max_s}")
        self.first_s, self.max_s = first_s, max_s
        self.next_s = first_s  # the wait before the next try
        self.tries = 0  # tries since the source last delivered

    def delivered(self) -> None:
        """The source gave data: the next failure waits ``first_s`` again."""
        self.next_s, self.tries = self.first_s, 0

    def wait(self, stopped: Callable[[], bool]) -> bool:
        """Sleep ``next_s`` (looking at ``stopped`` every ``POLL_S``), then double the wait up to ``max_s``.

        False when ``stopped()`` became true: the caller should give up instead of trying again."""
        deadline = time.monotonic() + self.next_s
        while (left := deadline - time.monotonic()) > 0:
            if stopped():
                return False
            time.sleep(min(POLL_S, left))
        self.tries += 1
        self.next_s = min(self.max_s, self.next_s * 2)
        return not stopped()
