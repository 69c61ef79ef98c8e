"""Provides the approximate single-breakout search of BreakoutDetection (its ``EDM_tail``).

It keeps three histograms of pairwise distances between scaled points (within the left part,
within the right part, between the two) as complete binary interval trees over [0, 1], reads
approximate medians from them, and moves the split point by the package's forward and backward
incremental updates. Those updates are reproduced step for step, quirks included (a zero
distance is counted on an inner node; the right histogram grows by consecutive differences only;
some pairs are removed that were never added), because the point of this module is to find the
same breakout as the R package.
"""

from __future__ import annotations

import math

from detectors.base import FloatArray


class _Trees:
    """The three interval-tree histograms and the best split found so far."""

    def __init__(self, depth: int) -> None:
        size = 1 << (depth + 1)
        self.depth = depth
        self.a = [0.0] * size
        self.b = [0.0] * size
        self.ab = [0.0] * size
        self.best_stat = -3.0
        self.best_loc = -3

    def add(self, tree: list[float], x: float, delta: float) -> None:
        """Count the distance ``x`` (delta = +1) or uncount it (-1) in ``tree``."""
        index = math.ceil(abs(x) * (1 << self.depth)) + (1 << self.depth) - 1
        while index:
            tree[index] += delta
            index //= 2

    def offer(self, stat: float, tau1: int) -> None:
        if stat > self.best_stat:
            self.best_stat, self.best_loc = stat, tau1


def _div(a: float, b: float) -> float:
    """a / b with IEEE results for b == 0, as the C++ code gets them."""
    if b != 0.0:
        return a / b
    return math.nan if a == 0.0 or math.isnan(a) else math.copysign(math.inf, a)


def quantile(x: list[float], quant: float) -> float:
    """The approximate quantile read from an interval tree (the package's ``GetQuantile``)."""
    n = len(x)
    k = math.ceil(x[1] * quant)
    lo, up, i = 0.0, 1.0, 1
    while i < n:
        j = i << 1
        if j >= n:
            break
        if x[i] == k:
            lw = _div(x[j], x[j] + x[j + 1])
            rw = 1 - lw
            lu = (up + lo) / 2
            rl = (up + lu) / 2
            return lw * (quant * (lu - lo) + lo) + rw * (quant * (up - rl) + rl)
        if x[j] >= k:
            i, up = j, (lo + up) / 2
        else:
            k = int(k - x[j])
            i, lo = j + 1, (lo + up) / 2
    return quant * (up - lo) + lo


def _stat(qa: float, qb: float, qc: float, tau1: int, tau2: int) -> float:
    return (2 * qc - qa - qb) * ((tau2 - tau1) * tau1 / tau2)


def _move_left_and_between(z: list[float], tr: _Trees, tau1: int, m: int) -> tuple[float, float]:
    """Shift the left part one step (shared start of both updates); tau1 is the new split."""
    tau2 = tau1 - 1 + m
    for i in range(tau1 - m, tau1 - 1):
        tr.add(tr.a, z[i] - z[tau1 - 1], 1)
    for i in range(tau1 - m, tau1):
        tr.add(tr.a, z[i] - z[tau1 - m - 1], -1)
    tr.add(tr.a, z[tau1 - m - 1] - z[tau1 - m], 1)
    tr.add(tr.ab, z[tau1 - 1] - z[tau1 - m - 1], -1)
    for i in range(tau1, tau2):
        tr.add(tr.ab, z[i] - z[tau1 - m - 1], -1)
        tr.add(tr.ab, z[i] - z[tau1 - 1], 1)
    for i in range(tau1 - m, tau1 - 1):
        tr.add(tr.ab, z[i] - z[tau1 - 1], -1)
        tr.add(tr.ab, z[i] - z[tau2], 1)
    tr.add(tr.ab, z[tau1 - 1] - z[tau2], 1)
    return quantile(tr.a, 0.5), quantile(tr.ab, 0.5)


def _forward(z: list[float], tr: _Trees, tau1: int, m: int, alpha: float) -> None:
    qa, qc = _move_left_and_between(z, tr, tau1, m)
    qa, qc = qa**alpha, qc**alpha
    tau2 = tau1 - 1 + m
    for i in range(tau1, tau2):
        tr.add(tr.b, z[i] - z[tau1 - 1], -1)
        tr.add(tr.b, z[i] - z[tau2], 1)
    for tau2 in range(tau1 + m, len(z) + 1):
        tr.add(tr.b, z[tau2 - 1] - z[tau2 - 2], 1)
        tr.offer(_stat(qa, quantile(tr.b, 0.5) ** alpha, qc, tau1, tau2), tau1)


def _backward(z: list[float], tr: _Trees, tau1: int, m: int, alpha: float) -> None:
    qa, qc = _move_left_and_between(z, tr, tau1, m)
    qa, qc = qa**alpha, qc**alpha
    for i in range(tau1, tau1 + m - 1):
        tr.add(tr.b, z[tau1 + m - 1] - z[i], 1)
        tr.add(tr.b, z[i] - z[tau1 - 1], -1)
    for tau2 in range(len(z), tau1 + m - 1, -1):
        tr.add(tr.b, z[tau2 - 1] - z[tau2 - 2], -1)
        tr.offer(_stat(qa, quantile(tr.b, 0.5) ** alpha, qc, tau1, tau2), tau1)


def edm_tail(zs: FloatArray, min_size: int, alpha: float = 2.0) -> tuple[int, float]:
    """Approximate single breakout of the scaled series ``zs``: (location, statistic)."""
    z = [float(v) for v in zs]
    n = len(z)
    tr = _Trees(max(math.ceil(math.log(n)), 10))
    tau1, tau2 = min_size, 2 * min_size
    for lo, hi, tree in ((0, tau1, tr.a), (tau1, tau2, tr.b)):
        for i in range(lo, hi):
            for j in range(i + 1, hi):
                tr.add(tree, z[i] - z[j], 1)
    for i in range(tau1):
        for j in range(tau1, tau2):
            tr.add(tr.ab, z[i] - z[j], 1)
    qa, qb, qc = (quantile(t, 0.5) ** alpha for t in (tr.a, tr.b, tr.ab))
    tr.best_stat, tr.best_loc = _stat(qa, qb, qc, tau1, tau2), tau1
    for tau2 in range(2 * min_size + 1, n + 1):
        tr.add(tr.b, z[tau2 - 1] - z[tau2 - 2], 1)
        tr.offer(_stat(qa, quantile(tr.b, 0.5) ** alpha, qc, tau1, tau2), tau1)
    forward = False
    while tau1 < n - min_size:
        tau1 += 1
        (_forward if forward else _backward)(z, tr, tau1, min_size, alpha)
        forward = not forward
    return tr.best_loc, tr.best_stat
