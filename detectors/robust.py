"""Provides a robust rolling z-score detector over the median and MAD of a recent window."""

from __future__ import annotations

import math
import sys

import numpy as np

from detectors.base import QUIET, FloatArray, Verdict, register

MAD_TO_SIGMA = 1.4826
"""Scales a median absolute deviation to a standard deviation for normal data."""


@register("robust_z", "streaming", "rolling median/MAD z-score over a window of recent points")
class RobustZ:
    """Judge each point by its distance from the median of the last ``window`` points, in units
    of their scaled MAD. Robust to the very outliers it is looking for, cheap, and causal."""

    def __init__(
        self,
        window: int = 120,
        threshold: float = 6.0,
        warmup: int = 20,
        rel_floor: float = 0.01,
        abs_floor: float = 1e-6,
    ) -> None:
        """Args:
        window: how many past points form the reference.
        threshold: z beyond which a point is anomalous.
        warmup: points needed before any verdict.
        rel_floor: the scale never drops below this fraction of |median| (flat series).
        abs_floor: nor below this absolute value.
        """
        if window < 3 or warmup < 3 or threshold <= 0:
            raise ValueError("window and warmup must be >= 3 and threshold > 0")
        self.window = window
        self.threshold = threshold
        self.warmup = min(warmup, window)
        self.rel_floor = rel_floor
        self.abs_floor = abs_floor
        self._buf = np.empty(window, dtype=np.float64)
        self._n = 0

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against the window before it, then add it to the window."""
        if x is None or not math.isfinite(x):
            return QUIET
        x = float(x)
        n = min(self._n, self.window)
        verdict = QUIET
        if n >= self.warmup:
            verdict = self._judge(self._buf[:n], x)
        self._buf[self._n % self.window] = x
        self._n += 1
        return verdict

    def _judge(self, ref: FloatArray, x: float) -> Verdict:
        k = 1.0
        med = float(np.median(ref))
        mad = float(np.median(np.abs(ref - med)))
        if not (math.isfinite(mad) and math.isfinite(x - med)):
            # z is free of scale, so values near the ends of the float range (±1e308, whose
            # differences overflow to inf and whose ratios become NaN) are judged scaled down.
            k = 1.0 / max(float(np.max(np.abs(ref))), abs(x))
            med = float(np.median(ref * k))
            mad = float(np.median(np.abs(ref * k - med)))
        floor = max(self.abs_floor * k, sys.float_info.min)  # never 0: z divides by it
        scale = max(MAD_TO_SIGMA * mad, self.rel_floor * abs(med), floor)
        z = abs(x * k - med) / scale
        band = self.threshold * scale / k
        expected = med / k
        return Verdict(
            score=z / (z + self.threshold),
            anomalous=bool(z > self.threshold),
            expected=expected,
            low=expected - band,
            high=expected + band,
            severity="warning" if z > self.threshold else "none",
            reason=f"z={z:.1f}",
        )
