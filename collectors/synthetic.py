"""Provides the synthetic collector: any number of made-up series, for load tests, benchmarks
and demonstrations of the alert path on a machine with nothing to watch."""

from __future__ import annotations

import time

import numpy as np

from collectors.base import Batch, Reading, Status


class SyntheticCollector:
    """Makes ``series`` smooth, noisy series (``synthetic/s0000`` ...), one point each per poll.

    With ``critical_after``, the first series jumps past its critical limit that many seconds
    after the first poll and stays there: a fault the alert rules can be tested on.
    """

    def __init__(
        self,
        series: int = 10,
        interval: float = 1.0,
        *,
        critical_after: float | None = None,
        name: str = "synthetic",
        seed: int = 0,
    ) -> None:
        """Args:
        series: how many series.
        interval: seconds between polls.
        critical_after: seconds after the first poll when series 0 goes critical; None never.
        name: the source's name.
        seed: seeds the noise, so two runs make the same numbers.
        """
        self.name, self.interval, self.critical_after = name, interval, critical_after
        self.keys = [f"synthetic/s{i:04d}" for i in range(series)]
        rng = np.random.default_rng(seed)
        self._period = rng.uniform(60.0, 600.0, series)
        self._level = rng.uniform(10.0, 90.0, series)
        self._rng = rng
        self._first: float | None = None

    def poll(self) -> Batch:
        """Return one point of every series."""
        now = time.time()
        if self._first is None:
            self._first = time.monotonic()
        phase = 2 * np.pi * now / self._period
        values = self._level + 5.0 * np.sin(phase) + self._rng.normal(0.0, 0.5, len(self.keys))
        pairs = zip(self.keys, values.tolist(), strict=True)
        readings = [Reading(key, v, "%", now, crit=1000.0) for key, v in pairs]
        after = self.critical_after
        if after is not None and readings and time.monotonic() - self._first >= after:
            readings[0] = Reading(
                self.keys[0], 1500.0, "%", now, crit=1000.0, status=Status.CRITICAL
            )
        return Batch(self.name, tuple(readings))
