"""Provides S-H-ESD, the seasonal hybrid extreme studentized deviate test of Twitter's
AnomalyDetection R package (``AnomalyDetectionVec``), as a batch detector.

The series is decomposed by STL (``s.window="periodic"``, robust), the residual
``x - seasonal - median(x)`` is tested by the generalized ESD test with the median and the MAD
in place of the mean and the standard deviation, and the anomalies are the points removed up to
the last step whose statistic beat its critical value. The points removed always sit at an end
of the sorted residual, so the test keeps the survivors as a slice of one sorted array: each
step's median is an index, its MAD a binary search, and the critical values of all the steps
come from one vectorised Student's t quantile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.base import FloatArray, register
from detectors.stats import t_isf
from detectors.stl import stl

MAD_CONSTANT = 1.4826
"""R's ``mad`` scale factor."""

DIRECTIONS = ("pos", "neg", "both")


def _median(a: FloatArray, lo: int, hi: int) -> float:
    n = hi - lo
    mid = lo + n // 2
    if n % 2:
        return float(a[mid])
    # Halves are exact, so this is the correctly rounded mean, as R's median gives.
    return float(0.5 * a[mid - 1] + 0.5 * a[mid])


def _kth_distance(a: FloatArray, lo: int, hi: int, m: float, k: int) -> float:
    """The k-th smallest |a[i] - m| over the sorted slice a[lo:hi] (k >= 1)."""
    left, right = lo, hi - k
    while left < right:
        mid = (left + right) // 2
        if m - a[mid] > a[mid + k] - m:
            left = mid + 1
        else:
            right = mid
    return max(abs(float(a[left]) - m), abs(float(a[left + k - 1]) - m))


def _mad(a: FloatArray, lo: int, hi: int, m: float) -> float:
    n = hi - lo
    k = n // 2
    if n % 2:
        raw = _kth_distance(a, lo, hi, m, k + 1)
    else:
        raw = 0.5 * _kth_distance(a, lo, hi, m, k) + 0.5 * _kth_distance(a, lo, hi, m, k + 1)
    return MAD_CONSTANT * raw


def critical_values(n: int, count: int, alpha: float, one_tail: bool) -> FloatArray:
    """The generalized ESD critical values lambda_i for i = 1..count on n points."""
    i = np.arange(1, count + 1, dtype=np.float64)
    q = alpha / ((n - i + 1) if one_tail else 2 * (n - i + 1))
    t = t_isf(q, n - i - 1)
    return t * (n - i) / np.sqrt((n - i - 1 + t**2) * (n - i + 1))  # type: ignore[no-any-return]


def _end_candidate(
    a: FloatArray, order: np.ndarray, lo: int, hi: int, m: float, sigma: float, top: bool
) -> tuple[float, int, int]:
    """The statistic at one end of the survivors and, among the points that share it, the
    earliest in the series (R takes the first index of the maximum): (stat, index, position)."""
    pos = hi - 1 if top else lo
    stat = ((float(a[pos]) - m) if top else (m - float(a[pos]))) / sigma
    best_pos, best_idx = pos, int(order[pos])
    p, step, stop = (pos - 1, -1, lo - 1) if top else (pos + 1, 1, hi)
    while p != stop and (((float(a[p]) - m) if top else (m - float(a[p]))) / sigma) == stat:
        if order[p] < best_idx:
            best_pos, best_idx = p, int(order[p])
        p += step
    return stat, best_idx, best_pos


def _remove(a: FloatArray, order: np.ndarray, lo: int, hi: int, pos: int, top: bool) -> None:
    """Take the point at ``pos`` out of the survivors a[lo:hi], keeping them sorted."""
    if top:
        a[pos : hi - 1], order[pos : hi - 1] = a[pos + 1 : hi].copy(), order[pos + 1 : hi].copy()
    else:
        a[lo + 1 : pos + 1], order[lo + 1 : pos + 1] = a[lo:pos].copy(), order[lo:pos].copy()


def esd(resid: FloatArray, max_outliers: int, alpha: float, direction: str) -> list[int]:
    """Run the hybrid ESD test on ``resid``; return the anomalies' indices in test order."""
    n = len(resid)
    order = np.argsort(resid, kind="stable")
    a = resid[order]
    lam = critical_values(n, max_outliers, alpha, direction != "both")
    lo, hi, removed, found = 0, n, [], 0
    for i in range(1, max_outliers + 1):
        m = _median(a, lo, hi)
        sigma = _mad(a, lo, hi, m)
        if not math.isfinite(sigma) or sigma == 0.0:
            break
        cands = []
        if direction != "neg":
            cands.append((*_end_candidate(a, order, lo, hi, m, sigma, True), True))
        if direction != "pos":
            cands.append((*_end_candidate(a, order, lo, hi, m, sigma, False), False))
        r = max(c[0] for c in cands)
        _, idx, pos, top = min((c for c in cands if c[0] == r), key=lambda c: c[1])
        _remove(a, order, lo, hi, pos, top)
        if top:
            hi -= 1
        else:
            lo += 1
        removed.append(idx)
        if r > lam[i - 1]:
            found = i
    return removed[:found]


def _fill(x: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Drop leading and trailing NaNs and interpolate inner ones; returns the values and the
    indices they came from (R stops on inner NAs; a monitor prefers to go on)."""
    idx = np.nonzero(np.isfinite(x))[0]
    if len(idx) == 0:
        return x[:0], idx
    keep = np.arange(idx[0], idx[-1] + 1)
    vals = np.interp(keep, idx, x[idx])
    return vals, keep


def shesd_indices(
    x: FloatArray,
    period: int,
    max_anoms: float = 0.10,
    direction: str = "pos",
    alpha: float = 0.05,
) -> npt.NDArray[np.int64]:
    """The anomalies of ``x`` by S-H-ESD, as R's ``AnomalyDetectionVec(x, max_anoms,
    direction, alpha, period)$anoms$index``: 1-based indices, ascending.

    Args:
        x: the series (evenly spaced; NaNs at the ends are dropped, inner ones interpolated).
        period: points per season for the STL decomposition.
        max_anoms: at most this fraction of the points are anomalies (below 0.5).
        direction: ``pos``, ``neg`` or ``both``.
        alpha: significance level of the test.

    Returns:
        The 1-based indices of the anomalies, ascending.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
    if max_anoms > 0.49:
        raise ValueError("max_anoms must be less than 50% of the data points")
    vals, keep = _fill(np.asarray(x, dtype=np.float64))
    n = len(vals)
    if n < 2 * period:
        raise ValueError("anomaly detection needs at least 2 periods worth of data")
    max_anoms = max(max_anoms, 1.0 / n)
    decomp = stl(vals, period, "periodic", robust=True)
    resid = vals - decomp.seasonal - float(np.median(vals))
    max_outliers = math.trunc(n * max_anoms)
    found = esd(resid, max_outliers, alpha, direction)
    return np.sort(keep[np.asarray(found, dtype=np.int64)]) + 1


@register("shesd", "batch", "S-H-ESD: STL residual tested by a robust generalized ESD (Twitter)")
@dataclass(frozen=True, slots=True)
class SHESD:
    """Seasonal hybrid ESD as a batch detector.

    Attributes are the options of ``AnomalyDetectionVec`` of the same names.
    """

    period: int = 1440
    """Points per season."""
    max_anoms: float = 0.10
    """Most anomalies, as a fraction of the points."""
    direction: str = "both"
    """``pos``, ``neg`` or ``both``."""
    alpha: float = 0.05
    """Significance level."""

    def detect(
        self, t: FloatArray, x: FloatArray, progress: Callable[[float], object] | None = None
    ) -> npt.NDArray[np.bool_]:
        """Return the mask of the anomalies of ``x`` (``t`` is not used: the points are taken
        as evenly spaced; ``progress`` neither: the test takes well under a second)."""
        mask = np.zeros(len(x), dtype=bool)
        idx = shesd_indices(x, self.period, self.max_anoms, self.direction, self.alpha)
        mask[idx - 1] = True
        return mask
