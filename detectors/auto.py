"""Provides ``auto``, the monitor's default streaming detector (``detectors.auto_bank`` has the
same detector over many series at once, with its state in arrays).

Each point is judged by the better of two models of what it should be:

- **plain**: the mean and standard deviation of the ``window`` points before it (a z-score);
- **seasonal**: the mean of earlier points at the same phase of a day or of a week, learned
  per phase (at most ``SEASON_BINS`` phases, an exponential average per phase) once the
  series' own step is known from its timestamps, with the deviation of its residuals. A
  seasonal profile is trusted when its mean squared residual is below ``season_ratio`` times
  the plain model's mean squared error (both exponential averages over about 100 points,
  which skip points more than twice the threshold away, so an anomaly cannot flip the choice
  of model); the season (day or week) with the smaller residuals wins. Series sampled more
  than ``MAX_PER_PHASE`` times per phase get no season.

The z of the trusted model then goes through two normalisations so that one threshold suits
every series: it is capped at ``cap`` and expressed in standard deviations above its own
long-run average (an exponential mean and variance over about ``memory`` points, like an
anomaly likelihood), and that value is discounted by how often values as large were seen
before (the decayed exceedance rate of a ladder of levels, over about ``rarity`` points): a
spike that recurs every few hundred points stops being news, a first one is not discounted.

A live metric that goes wrong rarely does so for one sample: it spikes, shifts or starts to
oscillate. So the score only speaks when a point is a fresh maximum, more surprising than every
point of the last ``rest`` samples; the rest of an episode scores 0 unless it gets worse. The
score is ``s / (s + threshold)``. ``Verdict.anomalous`` is the plain ``z > threshold`` of the
trusted model and stays true through the episode, so alert rules that wait for a metric to stay
anomalous for a while keep working; the score is for ranking and first alarms.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.base import QUIET, Verdict, register
from detectors.scoring import finite

BoolArray = npt.NDArray[np.bool_]

DAY = 86400.0
WEEK = 7 * DAY
PERIODS = (DAY, WEEK)
"""Seasons tried, in seconds."""
SEASON_BINS = 336
"""At most this many phases per season (a week of half hours)."""
MIN_PHASES = 8
"""A season must span at least this many steps to be tried."""
MAX_PER_PHASE = 8
"""Nor more than this many steps per phase (finer series get no season: a phase would hold
minutes of consecutive points, a short average rather than a season)."""
STEP_SAMPLES = 20
"""The series' step is the median of its first this many time differences."""
PHASE_ALPHA = 0.2
"""Weight of a new value in its phase's average (after the first few visits)."""
RESIDUAL_ALPHA = 0.01
"""Weight of a new squared residual in a season's residual variance."""
LEVELS = tuple(1.2**i for i in range(24))
"""Ladder of normalised scores whose exceedance rates measure rarity."""
NORM_WARMUP = 20
"""Judged points before the normalisation speaks."""
MAX_VISITS = 255


@dataclass(frozen=True, slots=True)
class AutoParams:
    """The tuning of ``auto`` (chosen on NAB's development files)."""

    window: int = 200
    """Points the plain mean and standard deviation are taken over."""
    rest: int = 100
    """A point must beat the score of this many points before it to be reported."""
    threshold: float = 5.0
    """z above which a point is anomalous."""
    warmup: int = 50
    """Points needed before any verdict."""
    rel_floor: float = 0.01
    """The deviation never drops below this fraction of |mean| (flat series)."""
    abs_floor: float = 1e-9
    """Nor below this."""
    season: bool = True
    """Learn daily and weekly profiles from the timestamps."""
    season_ratio: float = 0.7
    """A season is trusted when its residual variance is below this times the plain model's
    mean squared error."""
    cap: float = 10.0
    """z is capped here before normalisation."""
    memory: int = 1000
    """Points the long-run average of z is taken over (exponentially)."""
    rarity: int = 10000
    """Points the exceedance rates are taken over (exponentially)."""


def _check(p: AutoParams) -> None:
    if p.window < 2 or p.rest < 1 or p.threshold <= 0 or p.warmup < 2:
        raise ValueError("window >= 2, rest >= 1, threshold > 0 and warmup >= 2 are required")
    if p.season_ratio <= 0 or p.cap <= 0 or p.memory < 1 or p.rarity < 1:
        raise ValueError("season_ratio, cap, memory and rarity must be positive")


def season_bins(step: float, period: float) -> int:
    """Phases of ``period`` for a series sampled every ``step`` seconds; 0 when the season is
    too short (under ``MIN_PHASES`` steps) to learn."""
    if not step > 0:
        return 0
    pts = period / step
    if pts < MIN_PHASES or pts > MAX_PER_PHASE * SEASON_BINS:
        return 0
    return int(min(round(pts), SEASON_BINS))


def _rarity_factor(rate: float, a: float, log_span: float) -> float:
    return min(1.0, max(0.0, -math.log10(rate + a) / log_span))


@register("auto", "streaming", "the default: z against the better of a plain and a seasonal model")
class Auto:
    """The default detector for live server metrics (see the module docstring)."""

    def __init__(
        self,
        window: int = 200,
        rest: int = 100,
        threshold: float = 5.0,
        warmup: int = 50,
        rel_floor: float = 0.01,
        season: bool = True,
        season_ratio: float = 0.7,
        cap: float = 10.0,
        memory: int = 1000,
        rarity: int = 10000,
    ) -> None:
        """Args:
        window: points the plain mean and deviation are taken over.
        rest: a point must beat the score of this many points before it to be reported.
        threshold: z above which a point is anomalous.
        warmup: points needed before any verdict.
        rel_floor: the deviation never drops below this fraction of |mean|.
        season: learn daily and weekly profiles from the timestamps.
        season_ratio: trust a season whose residual variance is below this times the plain.
        cap: z is capped here before normalisation.
        memory: points the long-run average of z is taken over.
        rarity: points the exceedance rates of the normalised score are taken over.
        """
        self.params = AutoParams(
            window,
            rest,
            threshold,
            min(warmup, window),
            rel_floor,
            1e-9,
            bool(season),
            season_ratio,
            cap,
            memory,
            rarity,
        )
        _check(self.params)
        self._buf: deque[float] = deque()
        self._sum = 0.0
        self._sumsq = 0.0
        self._recent: deque[float] = deque(maxlen=rest)
        self._pushed = 0
        # Season: the step, then per period [bins, means, visits, residual variance or -1].
        self._last_t: float | None = None
        self._dts: list[float] = []
        self._seasons: list[tuple[float, int, list[float], list[int], list[float]]] = []
        # Normalisation and rarity.
        self._judged = 0
        self._plain_err = -1.0
        self._pending: list[tuple[list[float], float]] = []
        self._nmu = 0.0
        self._nvar = 0.0
        self._rates = [0.0] * len(LEVELS)

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

    def _learn_step(self, t: float) -> None:
        if self._last_t is not None and len(self._dts) < STEP_SAMPLES:
            self._dts.append(t - self._last_t)
            if len(self._dts) == STEP_SAMPLES:
                step = float(np.median(self._dts))
                for period in PERIODS:
                    bins = season_bins(step, period)
                    if bins:
                        self._seasons.append((period, bins, [0.0] * bins, [0] * bins, [-1.0]))
        self._last_t = t

    def _season(self, t: float, x: float) -> tuple[float, float] | None:
        """Learn ``x`` into each season's phase; return (residual variance, expected) of the
        season with the smallest residual variance that has seen this phase twice, if any.
        The residuals wait in ``_pending`` until the point is judged."""
        best: tuple[float, float] | None = None
        pending = self._pending
        pending.clear()
        for period, bins, means, visits, resvar in self._seasons:
            ph = int((t % period) / period * bins) % bins
            seen = visits[ph]
            if seen:
                mean = means[ph]
                ev = resvar[0]
                if ev >= 0.0 and seen >= 2 and (best is None or ev < best[0]):
                    best = (ev, mean)
                pending.append((resvar, x - mean))
            a = max(PHASE_ALPHA, 1.0 / (seen + 1))
            means[ph] += a * (x - means[ph])
            visits[ph] = min(seen + 1, MAX_VISITS)
        return best

    def _learn_errors(self, pe: float, e2: float) -> None:
        """Update the plain model's squared error (not while ``pe`` < 0, warming up) and the
        seasons' residual variances."""
        if pe >= 0.0 or e2 > 0.0:
            self._plain_err = e2 if pe < 0.0 else pe + RESIDUAL_ALPHA * (e2 - pe)
        for resvar, r in self._pending:
            ev = resvar[0]
            resvar[0] = r * r if ev < 0.0 else ev + RESIDUAL_ALPHA * (r * r - ev)

    def _normalise(self, z: float) -> float:
        """The capped z in long-run standard deviations above its long-run mean, discounted
        by how often such values were seen."""
        p = self.params
        r = min(z, p.cap)
        k = self._judged
        a = max(1.0 / p.memory, 1.0 / (k + 1))
        mu, var = self._nmu, self._nvar
        sd = math.sqrt(var) if var > 0.0 else 0.0
        s = max((z - mu) / max(sd, 1e-3), 0.0) if k >= NORM_WARMUP else 0.0
        d = r - mu
        self._nmu = mu + a * d
        self._nvar = (1.0 - a) * (var + a * d * d)
        self._judged = k + 1
        rates = self._rates
        ar = 1.0 / p.rarity
        above = bisect_left(LEVELS, s)  # levels strictly below s
        f = _rarity_factor(rates[above - 1], ar, math.log10(p.rarity + 1.0)) if above else 1.0
        for i in range(len(rates)):
            rates[i] += ar * ((1.0 if i < above else 0.0) - rates[i])
        return s * f

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against the models before it, then learn it."""
        if not finite(x):
            return QUIET
        x = float(x)
        t = float(t)
        p = self.params
        if p.season:
            self._learn_step(t)
        best = self._season(t, x) if self._seasons else None
        n = len(self._buf)
        if n < p.warmup:
            self._learn_errors(-1.0, 0.0)
            self._push(x)
            return QUIET
        mean = self._sum / n
        var = self._sumsq / n - mean * mean
        raw_sd = math.sqrt(var) if var > 0 else 0.0
        floor = max(p.rel_floor * abs(mean), p.abs_floor)
        pe = self._plain_err
        seasonal = best is not None and best[0] < p.season_ratio * pe
        if best is not None and seasonal:
            expected, sd = best[1], max(math.sqrt(best[0]), floor)
        else:
            expected, sd = mean, max(raw_sd, floor)
        z = abs(x - expected) / sd
        if z <= 2.0 * p.threshold:  # errors of anomalies would flip the choice of model
            err = x - mean  # err * err overflows to inf; a float's ** 2 would raise instead
            self._learn_errors(pe, err * err)
        s = self._normalise(z)
        fresh = not self._recent or s > max(self._recent)
        self._recent.append(s)
        self._push(x)
        shown = s if fresh else 0.0
        bad = z > p.threshold
        band = p.threshold * sd
        return Verdict(
            shown / (shown + p.threshold),
            bad,
            expected,
            expected - band,
            expected + band,
            "warning" if bad else "none",
            (f"z={z:.1f}" if z < 1000 else "z>1000")
            + (" seasonal" if seasonal else "")
            + ("" if fresh else " (same episode)"),
        )
