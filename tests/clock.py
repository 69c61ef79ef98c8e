"""Provides ManualClock: a monotonic clock that a test moves by hand."""

from __future__ import annotations


class ManualClock:
    """Returns ``now``; the test advances it with ``advance`` or by setting ``now``."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds
