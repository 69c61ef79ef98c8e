"""Provides simple and exponential moving averages, for smoothing charts; with a band they can
also flag points far from the average."""

from __future__ import annotations

import math

from detectors.base import QUIET, Verdict, register
from detectors.scoring import Ring, band_verdict, finite


def _judge(x: float, mean: float, std: float, band: float | None, word: str) -> Verdict:
    if band is None:
        return Verdict(0.0, False, mean, reason=f"{word}={mean:.4g}")
    half = band * std
    flat = 0.0 if x == mean else math.inf
    ratio = flat if half <= 0.0 else abs(x - mean) / half
    return band_verdict(ratio, mean, half, f"{word}={mean:.4g}")


@register("sma", "streaming", "simple moving average (smoothing; a band makes it a detector)")
class SimpleMovingAverage:
    """The mean of the last ``window`` points before the current one. Its verdict's
    ``expected`` is that mean; with ``band`` = k, points more than k standard deviations of the
    window from it are anomalous, otherwise nothing ever is."""

    def __init__(self, window: int = 10, band: float | None = None) -> None:
        """Args:
        window: points averaged.
        band: width of the band in standard deviations of the window, or None for none.
        """
        if window < 1 or (band is not None and band <= 0):
            raise ValueError("window must be >= 1 and band > 0")
        self.window = window
        self.band = band
        self._ring = Ring(window)

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against the average of the points before it, then add it."""
        if not finite(x):
            return QUIET
        x = float(x)
        verdict = QUIET
        if len(self._ring):
            vals = self._ring.values()
            verdict = _judge(x, float(vals.mean()), float(vals.std()), self.band, "sma")
        self._ring.push(x)
        return verdict


@register("ema", "streaming", "exponential moving average (smoothing; a band makes it a detector)")
class ExponentialMovingAverage:
    """An exponentially weighted mean: ``m += a (x - m)`` with ``a = 2 / (span + 1)``, or by time
    with a ``halflife`` in seconds, so irregular samples weigh by how long ago they came. Its
    ``expected`` is the average before the current point; with ``band`` = k, points more than k
    exponentially weighted standard deviations away are anomalous."""

    def __init__(
        self, span: float = 10.0, halflife: float | None = None, band: float | None = None
    ) -> None:
        """Args:
        span: the average's span in points (alpha = 2 / (span + 1)).
        halflife: if given, seconds after which a point's weight halves (overrides span).
        band: width of the band in standard deviations, or None for none.
        """
        if span < 1 or (halflife is not None and halflife <= 0) or (band is not None and band <= 0):
            raise ValueError("span >= 1, halflife > 0 and band > 0 are required")
        self.alpha = 2.0 / (span + 1.0)
        self.halflife = halflife
        self.band = band
        self._mean: float | None = None
        self._var = 0.0
        self._t = 0.0

    def _weight(self, t: float) -> float:
        if self.halflife is None:
            return self.alpha
        return 1.0 - float(0.5 ** (max(t - self._t, 0.0) / self.halflife))

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against the average so far, then fold it in."""
        if not finite(x):
            return QUIET
        x = float(x)
        if self._mean is None:
            self._mean, self._t = x, t
            return QUIET
        verdict = _judge(x, self._mean, math.sqrt(self._var), self.band, "ema")
        a = self._weight(t)
        diff = x - self._mean
        self._mean += a * diff
        self._var = (1.0 - a) * (self._var + a * diff * diff)
        self._t = t
        return verdict
