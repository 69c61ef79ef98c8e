"""Provides the season-over-season deviation: the relative change of a value against the same
moment a day and a week before, like comparing a Graphite series with its ``timeShift``."""

from __future__ import annotations

import math

import numpy as np

from detectors.base import QUIET, Verdict, register
from detectors.scoring import band_verdict, finite

DAY = 86400.0
WEEK = 7 * DAY
MAX_BUCKETS = 2_000_000
"""Most buckets of remembered history (48 MB): a 2-week shift at 1 s, a year at 16 s."""


class _History:
    """Bucketed memory of the past by time: the mean of the samples that fell in each
    ``resolution``-second bucket, kept for ``span`` seconds in a ring of buckets."""

    __slots__ = ("_count", "_key", "_sum", "resolution", "size")

    def __init__(self, span: float, resolution: float) -> None:
        self.resolution = resolution
        self.size = math.ceil(span / resolution) + 2
        self._key = np.full(self.size, -1, dtype=np.int64)
        self._sum = np.zeros(self.size)
        self._count = np.zeros(self.size, dtype=np.int64)

    def add(self, t: float, x: float) -> None:
        key = int(t // self.resolution)
        slot = key % self.size
        if self._key[slot] != key:
            self._key[slot], self._sum[slot], self._count[slot] = key, 0.0, 0
        self._sum[slot] += x
        self._count[slot] += 1

    def at(self, t: float, reach: int) -> float | None:
        """The mean of the bucket of time ``t``, else of the nearest filled bucket within
        ``reach`` buckets of it; None when there is none (a gap in the past)."""
        key = int(t // self.resolution)
        for d in range(reach + 1):
            for k in (key - d, key + d) if d else (key,):
                slot = k % self.size
                if self._key[slot] == k and self._count[slot]:
                    return float(self._sum[slot] / self._count[slot])
        return None


@register("season", "streaming", "deviation from the same time a day and a week before")
class SeasonOverSeason:
    """Judge ``|x - x(t - shift)| / |x|`` for each shift (a day and a week by default), looking
    the past up by time, not by index, so irregular or missing samples are fine. The point is
    anomalous when it is unlike every season that has data: the smallest deviation over the
    shifts exceeds ``threshold``. Shifts with no data at that moment are skipped; with none at
    all there is no verdict."""

    def __init__(
        self,
        shifts: tuple[float, ...] = (DAY, WEEK),
        threshold: float = 0.5,
        resolution: float = 60.0,
        tolerance: float = 300.0,
    ) -> None:
        """Args:
        shifts: how far back to compare, in seconds.
        threshold: relative deviation beyond which a point is anomalous (0.5 = 50%).
        resolution: seconds per bucket of remembered history (memory is span / resolution).
        tolerance: how far from the exact moment a past sample may be, in seconds.
        """
        numbers = (*shifts, threshold, resolution, tolerance)
        if not shifts or not all(math.isfinite(v) for v in numbers):
            raise ValueError("shifts, threshold, resolution and tolerance must be finite numbers")
        if min(shifts) <= 0 or threshold <= 0 or resolution <= 0 or tolerance < 0:
            raise ValueError("shifts, threshold and resolution must be positive")
        span = max(shifts) + tolerance + resolution
        if span / resolution > MAX_BUCKETS:
            raise ValueError(
                f"remembering {span:g} s in buckets of {resolution:g} s takes"
                f" {span / resolution:.3g} buckets; at most {MAX_BUCKETS:,} (raise resolution)"
            )
        self.shifts = tuple(float(s) for s in shifts)
        self.threshold = threshold
        self.reach = math.ceil(tolerance / resolution)
        self._hist = _History(span, resolution)

    def update(self, t: float, x: float) -> Verdict:
        """Compare ``x`` with the same moment in earlier seasons, then remember it."""
        if not finite(x):
            return QUIET
        x = float(x)
        best: tuple[float, float, float] | None = None
        for shift in self.shifts:
            past = self._hist.at(t - shift, self.reach)
            if past is None:
                continue
            diff = abs(x - past)
            dev = 0.0 if diff == 0.0 else (math.inf if x == 0.0 else diff / abs(x))
            if best is None or dev < best[0]:
                best = (dev, past, shift)
        self._hist.add(t, x)
        if best is None:
            return QUIET
        dev, past, shift = best
        reason = f"{dev:+.0%} vs {shift / 3600:g} h ago"
        return band_verdict(dev / self.threshold, past, self.threshold * abs(x), reason)
