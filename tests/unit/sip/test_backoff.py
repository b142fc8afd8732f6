"""Registration retries back off exponentially and start over after a success."""

from __future__ import annotations

import pytest

from app.sip.backoff import Backoff


def test_doubles_up_to_the_cap_then_stays() -> None:
    backoff = Backoff(5, 60)
    assert [backoff.next_delay() for _ in range(6)] == [5, 10, 20, 40, 60, 60]


def test_reset_after_success_starts_again_at_the_minimum() -> None:
    backoff = Backoff(5, 300)
    backoff.next_delay()
    backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 5


@pytest.mark.parametrize(("low", "high"), [(0, 10), (10, 5), (-1, 1)])
def test_rejects_nonsense_bounds(low: float, high: float) -> None:
    with pytest.raises(ValueError):
        Backoff(low, high)
