"""Provides Holt-Winters forecasting and aberration as Graphite's ``holtWintersAnalysis``,
``holtWintersConfidenceBands`` and ``holtWintersAberration`` compute them, one point at a time.

Per point i (season length L in points, from the series' step; a day by default):
intercept_i = a (x_i - s_{i-L}) + (1 - a)(intercept_{i-1} + slope_{i-1});
slope_i = b (intercept_i - intercept_{i-1}) + (1 - b) slope_{i-1};
s_i = g (x_i - intercept_i) + (1 - g) s_{i-L};
the prediction of point i is intercept_{i-1} + slope_{i-1} + s_{i-L} (the first point predicts
itself); deviation_i = g |x_i - prediction_i| + (1 - g) deviation_{i-L}. The band is prediction
± delta · deviation, and the aberration is how far x lies outside it. Missing points (a gap of
whole steps in time) are fed as Graphite's ``None``: they reset the intercept and leave a zero
seasonal and deviation in their slot.

With ``season=0`` there is no seasonal term (Holt's linear method): the level and trend are
smoothed as above with s = 0, and the deviation is smoothed point by point, so a series too
short to hold two seasons still gets an honest band instead of an invented period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detectors.base import QUIET, FloatArray, Verdict, register
from detectors.scoring import band_verdict, finite

DAY = 86400.0
MAX_SEASON_POINTS = 1_000_000
"""Most points a season may hold (16 MB of state): a day at one point every 0.1 s."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """The next points as Holt-Winters sees them."""

    t: FloatArray
    """Times (seconds) of the forecast points."""
    expected: FloatArray
    low: FloatArray
    high: FloatArray


@register("holtwinters", "streaming", "Holt-Winters forecast band and aberration, as Graphite")
class HoltWinters:
    """Graphite's Holt-Winters, streaming. ``update`` returns the point's prediction and band
    and flags it when it falls outside (the aberration is ``Verdict.reason``)."""

    def __init__(
        self,
        season: float = DAY,
        step: float | None = None,
        delta: float = 3.0,
        alpha: float = 0.1,
        beta: float = 0.0035,
        gamma: float = 0.1,
    ) -> None:
        """Args:
        season: season length in seconds (Graphite: a day); 0 for no season.
        step: seconds between points; None takes the first interval seen.
        delta: half-width of the band in smoothed deviations (Graphite's ``delta``).
        alpha: level smoothing.
        beta: trend smoothing.
        gamma: seasonal and deviation smoothing.
        """
        if not (season >= 0 and delta > 0 and (step is None or step > 0)):
            raise ValueError("season must be 0 or positive, step and delta positive")
        if step is not None:
            season_points(season, step)
        self.season, self.delta = season, delta
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        self.step = step
        self._first: tuple[float, float] | None = None
        self._length = 0
        self._i = 0
        self._t = 0.0

    def _start(self, step: float) -> None:
        self._length = season_points(self.season, step)
        self.step = step
        self._seasonal = np.zeros(self._length)
        self._deviation = np.zeros(self._length)
        self._intercept: float | None = None
        self._slope = 0.0
        self._next_pred: float | None = None

    def _missing(self) -> None:
        """Graphite's handling of a ``None`` point."""
        slot = self._i % self._length
        self._intercept, self._slope = None, 0.0
        self._seasonal[slot] = 0.0
        self._deviation[slot] = 0.0
        self._next_pred = None
        self._i += 1

    def _last(self, i: int, arr: FloatArray) -> float:
        return float(arr[i % self._length]) if i >= self._length else 0.0

    def _step(self, x: float) -> tuple[float | None, float]:
        """Run Graphite's loop body for the point; returns (prediction, deviation)."""
        i, a, b, g = self._i, self.alpha, self.beta, self.gamma
        prediction: float | None
        if i == 0:
            last_intercept, last_slope, prediction = x, 0.0, x
        else:
            last_intercept = x if self._intercept is None else self._intercept
            last_slope, prediction = self._slope, self._next_pred
        last_seasonal = self._last(i, self._seasonal)
        next_last_seasonal = self._last(i + 1, self._seasonal)
        last_dev = self._last(i, self._deviation)
        intercept = a * (x - last_seasonal) + (1 - a) * (last_intercept + last_slope)
        slope = b * (intercept - last_intercept) + (1 - b) * last_slope
        seasonal = g * (x - intercept) + (1 - g) * last_seasonal if self.season else 0.0
        self._next_pred = intercept + slope + next_last_seasonal
        pred0 = 0.0 if prediction is None else prediction
        deviation = g * math.fabs(x - pred0) + (1 - g) * last_dev
        slot = i % self._length
        self._seasonal[slot], self._deviation[slot] = seasonal, deviation
        self._intercept, self._slope = intercept, slope
        self._i += 1
        return prediction, deviation

    def _advance(self, t: float) -> bool:
        """Set up the season on the second point and feed gaps as missing points; False while
        the step is still unknown."""
        if self.step is None:
            # The step is the first interval that moves time on: rows that repeat the first
            # timestamp only replace its value, so a season is never counted in zero-length
            # steps.
            if self._first is None or t <= self._first[0]:
                return False
            self._start(t - self._first[0])
            self._t = self._first[0]
            self._step(self._first[1])
        elif self._length == 0:
            self._start(self.step)
            self._t = t - self.step
        step = float(self.step or 1.0)  # set by now: given, or learnt just above
        gap = round((t - self._t) / step) - 1 if self._i else 0
        for _ in range(max(0, min(gap, self._length))):
            self._missing()
        # Past a whole season every slot is already empty: only the phase moves on.
        self._i += max(0, gap - self._length)
        self._t = t
        return True

    def update(self, t: float, x: float) -> Verdict:
        """Predict the point at ``t``, judge ``x`` against the band, then learn from it."""
        if not finite(x):
            return QUIET
        x = float(x)
        if not self._advance(t):
            self._first = (t, x)
            return QUIET
        prediction, deviation = self._step(x)
        if prediction is None:
            return QUIET
        half = self.delta * deviation
        low, high = prediction - half, prediction + half
        aberration = x - high if x > high else (x - low if x < low else 0.0)
        ratio = abs(x - prediction) / half if half > 0 else (0.0 if x == prediction else math.inf)
        # Outside the band (a non-zero aberration) is exactly a ratio past 1.
        return band_verdict(ratio, prediction, half, f"aberration={aberration:+.4g}")

    def forecast(self, k: int) -> Forecast:
        """The next ``k`` points (level + h·slope + that phase's seasonal) with their bands."""
        if self.step is None or self._length == 0 or self._intercept is None:
            empty = np.zeros(0)
            return Forecast(empty, empty, empty, empty)
        h = np.arange(1, k + 1)
        idx = self._i - 1 + h
        phase = np.where(idx - self._length >= 0, (idx - self._length) % self._length, -1)
        seas = np.where(phase >= 0, self._seasonal[np.maximum(phase, 0)], 0.0)
        dev = np.where(phase >= 0, self._deviation[np.maximum(phase, 0)], 0.0)
        yhat = np.asarray(self._intercept + h * self._slope + seas, dtype=np.float64)
        times = np.asarray(self._t + h * self.step, dtype=np.float64)
        return Forecast(times, yhat, yhat - self.delta * dev, yhat + self.delta * dev)


def season_points(season: float, step: float) -> int:
    """Return how many points of ``step`` seconds a season of ``season`` seconds holds.

    Raises:
        ValueError: the season would hold more than ``MAX_SEASON_POINTS`` points.
    """
    if season == 0:
        return 1  # no season: one slot, which keeps the deviation smoothed point by point
    points = season / step
    if not points <= MAX_SEASON_POINTS:
        raise ValueError(
            f"a season of {season:g} s at one point every {step:g} s holds {points:.3g} points;"
            f" at most {MAX_SEASON_POINTS:,} (give a longer step or a shorter season)"
        )
    return max(1, int(season // step))
