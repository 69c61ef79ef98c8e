"""Provides ``auto``, the monitor's default streaming detector, and ``AutoBank``, the same
detector over many series at once with its state in arrays.

Each point gets a z-score against the mean and standard deviation of the ``window`` points
before it. A live metric that goes wrong rarely does so for one sample: it spikes, shifts or
starts to oscillate, and a plain z-score then fires on every sample of the episode. So the
score only speaks when a point is a fresh maximum, more surprising than every point of the
last ``rest`` samples; the rest of an episode scores 0 unless it gets worse. The score is
``z / (z + threshold)``, 0.5 on the threshold. ``Verdict.anomalous`` is the plain
``z > threshold`` and stays true through the episode, so alert rules that wait for a metric
to stay anomalous for a while keep working; the score is for ranking and first alarms.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.base import QUIET, FloatArray, Verdict, register
from detectors.scoring import finite

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class AutoParams:
    """The tuning of ``auto`` (chosen on NAB's development files)."""

    window: int = 200
    """Points the mean and the standard deviation are taken over."""
    rest: int = 100
    """A point must beat the z of this many points before it to be reported."""
    threshold: float = 5.0
    """z above which a reported point is anomalous."""
    warmup: int = 50
    """Points needed before any verdict."""
    rel_floor: float = 0.01
    """The deviation never drops below this fraction of |mean| (flat series)."""
    abs_floor: float = 1e-9
    """Nor below this."""


def _check(p: AutoParams) -> None:
    if p.window < 2 or p.rest < 1 or p.threshold <= 0 or p.warmup < 2:
        raise ValueError("window >= 2, rest >= 1, threshold > 0 and warmup >= 2 are required")


@register("auto", "streaming", "the default: rolling z-score that speaks on fresh maxima only")
class Auto:
    """The default detector for live server metrics (see the module docstring)."""

    def __init__(
        self,
        window: int = 200,
        rest: int = 100,
        threshold: float = 5.0,
        warmup: int = 50,
        rel_floor: float = 0.01,
    ) -> None:
        """Args:
        window: points the mean and deviation are taken over.
        rest: a point must beat the z of this many points before it to be reported.
        threshold: z above which a reported point is anomalous.
        warmup: points needed before any verdict.
        rel_floor: the deviation never drops below this fraction of |mean|.
        """
        self.params = AutoParams(window, rest, threshold, min(warmup, window), rel_floor)
        _check(self.params)
        self._buf: deque[float] = deque()
        self._sum = 0.0
        self._sumsq = 0.0
        self._recent: deque[float] = deque(maxlen=rest)
        self._pushed = 0

    def _push(self, x: float) -> None:
        buf = self._buf
        buf.append(x)
        self._sum += x
        self._sumsq += x * x
        if len(buf) > self.params.window:
            old = buf.popleft()
            self._sum -= old
            self._sumsq -= old * old
        self._pushed += 1
        if self._pushed % (64 * self.params.window) == 0:
            self._sum = math.fsum(buf)  # re-sum now and then so rounding cannot drift
            self._sumsq = math.fsum(v * v for v in buf)

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against the window before it, then add it to the window."""
        if not finite(x):
            return QUIET
        x = float(x)
        p = self.params
        n = len(self._buf)
        if n < p.warmup:
            self._push(x)
            return QUIET
        mean = self._sum / n
        var = self._sumsq / n - mean * mean
        sd = max(math.sqrt(var) if var > 0 else 0.0, p.rel_floor * abs(mean), p.abs_floor)
        z = abs(x - mean) / sd
        fresh = not self._recent or z > max(self._recent)
        self._recent.append(z)
        self._push(x)
        shown = z if fresh else 0.0
        bad = z > p.threshold
        band = p.threshold * sd
        return Verdict(
            shown / (shown + p.threshold),
            bad,
            mean,
            mean - band,
            mean + band,
            "warning" if bad else "none",
            f"z={z:.1f}" + ("" if fresh else " (same episode)"),
        )


@dataclass(frozen=True, slots=True)
class BankVerdicts:
    """What ``AutoBank.update`` returns: one entry per series."""

    score: FloatArray
    anomalous: BoolArray
    expected: FloatArray
    """NaN while a series is warming up or had no value this tick."""
    low: FloatArray
    high: FloatArray

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Unpack as (score, anomalous, expected, low, high)."""
        return iter((self.score, self.anomalous, self.expected, self.low, self.high))


class AutoBank:
    """``auto`` over ``n`` series updated together, one numpy step per tick. Series i of the
    bank gives the same verdicts as its own ``Auto`` fed the same values (a NaN skips that
    series for the tick, as ``Auto`` skips a missing value)."""

    def __init__(self, n: int, **options: float) -> None:
        """Args:
        n: how many series.
        **options: as ``Auto``.
        """
        p = AutoParams(**options)  # type: ignore[arg-type]
        self.params = AutoParams(
            p.window, p.rest, p.threshold, min(p.warmup, p.window), p.rel_floor, p.abs_floor
        )
        _check(self.params)
        self.n = n
        self._buf = np.zeros((self.params.window, n))
        self._zs = np.full((self.params.rest, n), -np.inf)
        self._count = np.zeros(n, dtype=np.int64)
        self._judged = np.zeros(n, dtype=np.int64)
        self._sum = np.zeros(n)
        self._sumsq = np.zeros(n)
        self._cols = np.arange(n)

    def _judge(
        self, x: FloatArray, ok: BoolArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
        p = self.params
        k = np.minimum(self._count, p.window)
        ready = ok & (k >= p.warmup)
        kk = np.maximum(k, 1)
        mean = self._sum / kk
        var = self._sumsq / kk - mean * mean
        sd = np.maximum(
            np.sqrt(np.maximum(var, 0.0)), np.maximum(p.rel_floor * np.abs(mean), p.abs_floor)
        )
        z = np.abs(x - mean) / sd
        fresh = z > self._zs.max(axis=0)
        slot = self._judged % p.rest
        cols = self._cols[ready]
        self._zs[slot[ready], cols] = z[ready]
        self._judged += ready
        shown = np.where(ready & fresh, z, 0.0)
        return mean, sd, np.where(ready, shown, 0.0), ready & (z > p.threshold)

    def _push(self, x: FloatArray, ok: BoolArray) -> None:
        p = self.params
        slot = self._count % p.window
        full = ok & (self._count >= p.window)
        old = np.where(full, self._buf[slot, self._cols], 0.0)
        xv = np.where(ok, x, 0.0)
        self._sum += xv - old
        self._sumsq += xv * xv - old * old
        self._buf[slot[ok], self._cols[ok]] = x[ok]
        self._count += ok
        resum = ok & (self._count % (64 * p.window) == 0)
        if resum.any():
            self._sum[resum] = self._buf[:, resum].sum(axis=0)
            self._sumsq[resum] = (self._buf[:, resum] ** 2).sum(axis=0)

    def update(self, t: float, x: FloatArray) -> BankVerdicts:
        """Judge one value per series (NaN = no value), then learn from them."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n,):
            raise ValueError(f"expected {self.n} values, got shape {x.shape}")
        ok = np.isfinite(x)
        ready = ok & (np.minimum(self._count, self.params.window) >= self.params.warmup)
        mean, sd, shown, bad = self._judge(x, ok)
        self._push(x, ok)
        p = self.params
        band = p.threshold * sd
        expected = np.where(ready, mean, np.nan)
        return BankVerdicts(
            shown / (shown + p.threshold),
            bad,
            expected,
            expected - np.where(ready, band, np.nan),
            expected + np.where(ready, band, np.nan),
        )
