"""Registration retry delays: exponential back-off, so a registrar that is down (or a wrong
password) is not hammered by every desktop at once.

Pure and single-threaded: the SIP owner thread owns the instance.
"""

from __future__ import annotations


class Backoff:
    """`next_delay()` yields min_s, 2*min_s, 4*min_s ... capped at max_s; `reset()` on success."""

    def __init__(self, min_s: float, max_s: float) -> None:
        if min_s <= 0 or max_s < min_s:
            raise ValueError(f"need 0 < min_s <= max_s, got {min_s}, {max_s}")
        self._min = float(min_s)
        self._max = float(max_s)
        self._next = self._min

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self._max)
        return delay

    def reset(self) -> None:
        self._next = self._min
