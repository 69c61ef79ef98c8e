"""Provides E-Divisive with Medians (EDM), the breakout detector of Twitter's BreakoutDetection
R package, as a batch detector.

The series is scaled to [0, 1]. ``amoc`` finds at most one change: exactly (the median
statistic over every split and prefix, as the package's ``EDMX``) or approximately (its
``EDM_tail``, which keeps interval-tree histograms of pairwise distances and updates them with
the package's own incremental moves, in ``detectors/edm_tail.py``). ``multi`` finds many by
dynamic programming with a penalty, either ``beta`` per change (``EDM_multi``) or a required
``percent`` gain (``EDM_percent``). The medians of every segment are computed once each, a row
or a column at a time as the search needs them, so memory stays linear in the series (a table
of them all would take 400 MB at 7,000 points); the dynamic programme is a vectorised pass per
segment end.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.base import FloatArray, register
from detectors.edm_tail import edm_tail

METHODS = ("amoc", "multi")
Progress = Callable[[float], object]
"""Told the share of the work done, in [0, 1], now and then during a long search."""


def scale01(x: FloatArray) -> FloatArray:
    """(x - min) / (max - min), as the R package scales its input."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return (x - lo) / (hi - lo)  # type: ignore[no-any-return]


def running_medians(values: FloatArray) -> FloatArray:
    """Return out with out[k - 1] = median(values[:k]) for every k from 1 to len(values).

    Two heaps: ``low`` (negated, a max-heap) holds the smaller half and one more when the
    count is odd, ``high`` the larger half, so each median is read off their tops.
    """
    out = np.empty(len(values))
    low: list[float] = []
    high: list[float] = []
    push, pushpop = heapq.heappush, heapq.heappushpop
    for i, v in enumerate(values.tolist()):
        if i % 2 == 0:
            push(low, -pushpop(high, v))
            out[i] = -low[0]
        else:
            push(high, -pushpop(low, -v))
            out[i] = (high[0] - low[0]) / 2
    return out


def segment_medians(z: FloatArray) -> FloatArray:
    """Table M with M[t, s] = median(z[t:s]) for t < s (NaN elsewhere); O(n^2) memory, for
    tests and small series only (the searches below never build it)."""
    n = len(z)
    table = np.full((n + 1, n + 1), np.nan)
    for t in range(n):
        table[t, t + 1 :] = running_medians(z[t:])
    return table


def ending_at(z: FloatArray, s: int) -> FloatArray:
    """Column s of the medians: out[t] = median(z[t:s]) for every t < s."""
    return running_medians(z[:s][::-1])[::-1]


def edmx(z: FloatArray, min_size: int, progress: Progress | None = None) -> tuple[int, float]:
    """Exact single breakout (the package's ``EDMX``): returns (location, statistic)."""
    n = len(z)
    head = running_medians(z)  # head[t - 1] = median(z[:t])
    best_stat, best_loc = -3.0, -1
    for tau1 in range(min_size, n - min_size + 1):
        if progress is not None and tau1 % 256 == 0:
            progress(tau1 / n)
        tau2 = np.arange(tau1 + min_size, n + 1)
        row = running_medians(z[tau1:])  # row[s - tau1 - 1] = median(z[tau1:s])
        stat = (head[tau1 - 1] - row[tau2 - tau1 - 1]) ** 2
        stat = stat * (tau1 * (tau2 - tau1) / tau2)
        k = int(np.argmax(stat))
        if stat[k] > best_stat:
            best_stat, best_loc = float(stat[k]), tau1
    return best_loc, best_stat


def _penalty(degree: int) -> tuple[float, float]:
    """G(k) = c0 + c1 k for the package's Const (0), Linear (1) and Quadratic (2)."""
    return {0: (0.0, 0.0), 1: (1.0, 0.0), 2: (1.0, 2.0)}.get(degree, (0.0, 0.0))


def edm_multi(
    z: FloatArray,
    min_size: int,
    beta: float | None,
    degree: int,
    percent: float | None = None,
    progress: Progress | None = None,
) -> list[int]:
    """Multiple breakouts by dynamic programming (the package's ``EDM_multi`` with ``beta``,
    or ``EDM_percent`` with ``percent``); returns the locations, ascending."""
    n = len(z)
    g0, g1 = _penalty(degree)
    use_percent = percent is not None
    pen = abs(beta or 0.0)
    prev = np.zeros(n + 1, dtype=np.int64)
    number = np.zeros(n + 1, dtype=np.int64)
    f = np.full(n + 1, 0.0 if use_percent else -3.0)
    # The pass for segment end s needs median(z[t:s]) for every t (column s), and the median
    # of the best last segment ending at each earlier t, kept from t's own pass.
    last_median = np.zeros(n + 1)
    for s in range(min_size, n + 1):
        if progress is not None and s % 256 == 0:
            progress(s / n)
        column = ending_at(z, s)
        if s >= 2 * min_size:
            t = np.arange(min_size, s - min_size + 1)
            norm = ((t - prev[t]) * (s - t)) / ((s - prev[t]).astype(np.float64) ** 2)
            tmp = f[t] + norm * (last_median[t] - column[t]) ** 2
            if not use_percent:
                tmp = tmp - pen * (g0 + g1 * number[t])
            k = int(np.argmax(tmp))
            if tmp[k] > f[s]:
                number[s], f[s], prev[s] = number[t[k]] + 1, tmp[k], t[k]
            if use_percent and prev[s]:
                p = prev[s]
                if f[s] - f[p] < float(percent or 0.0) * (g0 + g1 * number[p]) * f[p]:
                    number[s], f[s], prev[s] = number[p], f[p], prev[p]
        last_median[s] = column[prev[s]]
    locs, at = [], n
    while at:
        if prev[at]:
            locs.append(int(prev[at]))
        at = int(prev[at])
    return sorted(locs)


def breakout(
    x: FloatArray,
    min_size: int = 30,
    method: str = "amoc",
    beta: float | None = None,
    degree: int = 1,
    percent: float | None = None,
    exact: bool = True,
    progress: Progress | None = None,
) -> list[int]:
    """The breakouts of ``x`` as R's ``breakout(x, min.size, method, ...)$loc``.

    Args:
        x: the series.
        min_size: fewest points between two breakouts (at least 2).
        method: ``amoc`` (at most one change) or ``multi``.
        beta: ``multi``: penalty per added change (0.008 when neither it nor percent is set).
        degree: ``multi``: penalty growth, 0 constant, 1 linear, 2 quadratic.
        percent: ``multi``: each added change must raise the statistic by this fraction.
        exact: ``amoc``: exact medians (True) or the interval-tree approximation.
        progress: told the share done now and then (the search is quadratic in time).

    Returns:
        The breakout locations as R reports them (the number of points before each change).
    """
    if min_size < 2:
        raise ValueError("min_size must be an integer greater than 2")
    if method not in METHODS:
        raise ValueError("method must be either 'amoc' or 'multi'")
    z = scale01(np.asarray(x, dtype=np.float64))
    if method == "amoc":
        loc, _ = edmx(z, min_size, progress) if exact else edm_tail(z, min_size)
        return [loc] if loc >= 0 else []
    if degree not in (0, 1, 2):
        degree = 1
    if beta is None and percent is not None:
        return edm_multi(z, min_size, None, degree, percent, progress)
    return edm_multi(z, min_size, 0.008 if beta is None else beta, degree, None, progress)


@register("edm", "batch", "E-Divisive with Medians: breakouts (mean shifts) in a series (Twitter)")
@dataclass(frozen=True, slots=True)
class EDM:
    """Breakout detection as a batch detector: the mask marks the first point after each
    breakout."""

    min_size: int = 30
    """Fewest points between two breakouts."""
    method: str = "multi"
    """``amoc`` or ``multi``."""
    beta: float | None = None
    """Penalty per added breakout (``multi``)."""
    degree: int = 1
    """Penalty growth (``multi``)."""
    percent: float | None = None
    """Required relative gain per added breakout (``multi``)."""
    exact: bool = True
    """Exact medians or the interval-tree approximation (``amoc``)."""

    def detect(
        self, t: FloatArray, x: FloatArray, progress: Progress | None = None
    ) -> npt.NDArray[np.bool_]:
        """Return the mask of the points that start a new level (``progress``: see
        ``breakout``)."""
        mask = np.zeros(len(x), dtype=bool)
        locs = breakout(
            x, self.min_size, self.method, self.beta, self.degree, self.percent, self.exact,
            progress,
        )  # fmt: skip
        mask[[loc for loc in locs if loc < len(x)]] = True
        return mask
