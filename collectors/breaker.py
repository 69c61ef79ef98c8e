"""Provides a circuit breaker: after repeated failures, stop asking for a while, then try again."""

from __future__ import annotations

import time
from collections.abc import Callable

FAILURES_TO_OPEN = 3
"""Consecutive failures after which the breaker opens."""


class CircuitBreaker:
    """Guards one endpoint: closed (ask every poll), open (skip it), half-open (one trial).

    After ``threshold`` failures in a row the breaker opens for ``base_delay`` seconds; while open
    the endpoint is not asked at all. The first poll after that is a trial: a success closes the
    breaker, a failure opens it again for twice as long, up to ``max_delay``. So a dead endpoint
    costs nothing most of the time, and a revived one is noticed by itself.
    """

    __slots__ = (
        "_clock",
        "base_delay",
        "delay",
        "failures",
        "last_error",
        "max_delay",
        "open_until",
        "threshold",
    )

    def __init__(
        self,
        base_delay: float,
        max_delay: float,
        threshold: int = FAILURES_TO_OPEN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        base_delay: seconds the breaker first stays open.
        max_delay: the longest it stays open, however often the trials fail.
        threshold: consecutive failures that open it.
        clock: monotonic clock, in seconds.
        """
        self.base_delay = base_delay
        self.max_delay = max(max_delay, base_delay)
        self.threshold = threshold
        self._clock = clock
        self.failures = 0
        """Consecutive failures so far."""
        self.delay = 0.0
        """Seconds of the current (or last) open period; 0 while closed."""
        self.open_until: float | None = None
        """Monotonic time the open period ends; None while closed."""
        self.last_error: str | None = None
        """The last failure's one-line description."""

    @property
    def is_open(self) -> bool:
        """True while the breaker has tripped (open or waiting for its trial)."""
        return self.open_until is not None

    def allow(self) -> bool:
        """Return True when the endpoint may be asked now (closed, or time for a trial)."""
        return self.open_until is None or self._clock() >= self.open_until

    def retry_in(self) -> float:
        """Return the seconds until the next trial (0 when it may be asked now)."""
        if self.open_until is None:
            return 0.0
        return max(0.0, self.open_until - self._clock())

    def success(self) -> None:
        """Record an answer: the breaker closes and forgets past failures."""
        self.failures = 0
        self.delay = 0.0
        self.open_until = None
        self.last_error = None

    def failure(self, error: str) -> None:
        """Record a failure; the threshold-th in a row (or a failed trial) opens the breaker."""
        self.failures += 1
        self.last_error = error
        if self.failures < self.threshold:
            return
        self.delay = self.base_delay if self.delay == 0 else min(self.delay * 2, self.max_delay)
        self.open_until = self._clock() + self.delay


def backoff_for(interval: float) -> tuple[float, float]:
    """Return (base, max) open periods in seconds suited to a source polled every ``interval``."""
    base = 2.0 * interval
    return base, max(base, min(16.0 * interval, 600.0))
