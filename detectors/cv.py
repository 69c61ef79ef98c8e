"""Provides the coefficient of variation over a rolling window, as Graphite's ``stdev`` divided
by the window's mean."""

from __future__ import annotations

import math

from detectors.base import QUIET, Verdict, register
from detectors.scoring import Ring, band_verdict, finite


@register("cv", "streaming", "coefficient of variation (stdev / mean) over a rolling window")
class CoefficientOfVariation:
    """Judge how jumpy a series has become: the population standard deviation of the last
    ``window`` points (the current one included, as Graphite's ``stdev(series, points)``)
    divided by the absolute value of their mean. Anomalous when it exceeds ``threshold``."""

    def __init__(self, window: int = 30, threshold: float = 0.5, tolerance: float = 0.1) -> None:
        """Args:
        window: points in the rolling window.
        threshold: coefficient of variation beyond which the series is anomalous.
        tolerance: fraction of the window that must hold values before any verdict
            (Graphite's ``windowTolerance``).
        """
        if window < 2 or threshold <= 0 or not 0 < tolerance <= 1:
            raise ValueError("window >= 2, threshold > 0 and 0 < tolerance <= 1 are required")
        self.window = window
        self.threshold = threshold
        self.min_points = max(2, math.ceil(tolerance * window))
        self._ring = Ring(window)
        self._sum = 0.0
        self._sumsq = 0.0

    def _push(self, x: float) -> None:
        if len(self._ring) == self.window:
            old = self._ring.oldest()
            self._sum -= old
            self._sumsq -= old * old
        self._ring.push(x)
        self._sum += x
        self._sumsq += x * x
        if self._ring._n % (64 * self.window) == 0:
            vals = self._ring.values()  # re-sum now and then so rounding cannot drift
            self._sum, self._sumsq = float(vals.sum()), float((vals * vals).sum())

    def update(self, t: float, x: float) -> Verdict:
        """Add ``x`` to the window and judge the window's coefficient of variation."""
        if not finite(x):
            return QUIET
        self._push(float(x))
        n = len(self._ring)
        if n < self.min_points:
            return QUIET
        mean = self._sum / n
        stdev = math.sqrt(max(n * self._sumsq - self._sum * self._sum, 0.0)) / n
        flat = 0.0 if stdev == 0.0 else math.inf
        cv = flat if mean == 0.0 else stdev / abs(mean)
        return band_verdict(cv / self.threshold, mean, self.threshold * abs(mean), f"cv={cv:.2f}")
