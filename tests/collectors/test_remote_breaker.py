"""Tests the circuit breaker on its own, with a hand-moved clock."""

from __future__ import annotations

from collectors.breaker import CircuitBreaker, backoff_for
from tests.clock import ManualClock


def test_opens_after_threshold_doubles_on_failed_trials_and_closes_on_success() -> None:
    clock = ManualClock(0.0)
    b = CircuitBreaker(base_delay=10.0, max_delay=25.0, threshold=2, clock=clock)
    b.failure("x")
    assert b.allow() and not b.is_open
    b.failure("x")
    assert b.is_open and not b.allow() and b.retry_in() == 10.0
    clock.now = 10.0
    assert b.allow()  # the trial
    b.failure("y")
    assert b.delay == 20.0 and b.last_error == "y" and not b.allow()
    clock.now = 30.0
    b.failure("y")
    assert b.delay == 25.0  # capped
    b.success()
    assert not b.is_open and b.allow() and b.failures == 0 and b.last_error is None


def test_backoff_suits_the_interval() -> None:
    assert backoff_for(30.0) == (60.0, 480.0)
    assert backoff_for(60.0) == (120.0, 600.0)
    assert backoff_for(600.0) == (1200.0, 1200.0)
