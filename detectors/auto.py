"""Provides ``auto``, the monitor's default streaming detector: a calibrated tail probability of
how surprising each point is, so that one threshold means the same on every series
(``detectors.auto_bank`` has the same detector over many series at once, in arrays).

Each point goes through three stages, all causal:

1. **Surprise.** Simple predictors guess the point before it arrives: the last value and
   exponential averages over about 4 and about 64 points. For series coarse enough to keep
   a day or a week in a ring (``detectors.auto_season``: hourly to every minute for the day,
   hourly to every 5 minutes for the week), once a season is evident (its guesses' running
   error is below the plain ones'), they give way to two seasonal guesses: the value a
   season ago, and the last value moved as the series moved a season ago. The week tells a
   holiday from a Sunday, which the day cannot. The ensemble's error is the distance
   to the *nearest* guess (a value is unusual only when no simple model expected it); the
   surprise is that error over a robust running scale of the ensemble's own errors (a
   winsorised average over about ``scale_memory`` points). Errors within 1 % of the series'
   long-run magnitude are below the resolution that matters and are no surprise at all; the
   scale never drops below that nor below the series' quantisation (the smallest step it has
   made), so a flat or nearly flat series (an idle network rate of a few hundred B/s) cannot
   make a tiny wiggle look enormous.
2. **Tail probability** (a peaks-over-threshold fit, as SPOT does, with cheap running means):
   the log-surprise ``s = log(1 + surprise)`` (averaged over the last ``average`` points) is
   compared with its own history over about ``memory`` points: its mean, the rate and mean
   excess of the points above the mean, and the mean excess above a second level one mean
   excess higher. Above the mean the tail is exponential in ``s`` (a Pareto tail in the
   surprise, which real metrics have), with the first mean excess as its slope up to the
   second level and the second beyond it (lighter-tailed series get a steeper tail there).
   The score is that tail probability ``p`` written in decades, ``score = -log10(p) / 10``,
   capped at 1. So 0.3 is "rarer than 1 in 1,000" on *any* series, whatever its units, noise
   or spikiness; that is what lets one threshold serve all.
3. **New extremes** (the spatial novelty of Numenta's NAB detector, calibrated): a value
   beyond the highest or lowest of the ``n`` values so far by more than 5 % of their range
   has a tail probability of ``2 / n`` (in random order, the last of ``n + 1`` values is the
   highest or the lowest that often, whatever their distribution). It catches what a drift to
   a new level hides from the ensemble, whose guesses follow the drift. The score takes the
   more surprising of the two signals with a Bonferroni correction: ``p = 2 * min(p1, p2)``.
4. **One strike per event.** NAB counts every false-positive row and a gong should ring once
   per incident, so a point is reported only when its score beats the last peak, a bar that
   falls by ``1 / rest`` per point: after a peak of 0.6, a score of 0.3 speaks again only
   ``0.3 * rest`` points later, a worse one at once. Non-reported points score 0.

``Verdict.anomalous`` is for alert rules, which fire once per anomalous run and may wait for a
metric to stay anomalous for a while: a run starts at a reported score at or above
``threshold`` (so the one-strike rule holds for the gong too) and lasts while the undamped
score stays above ``RELEASE`` times the threshold or the value stays outside ``RELEASE`` times
the band of ordinary values around the slow level it left (so one incident is one run, and a
level that moved and stays is anomalous until the slow level has followed it).

State per series in the bank (``auto_bank.bytes_per_series``): 417 bytes, plus 8 bytes per
point of each seasonal ring (none for series finer than a minute; 18.4 kB more at 5 minutes:
a day of 288 points and a week of 2016); the pure-Python object here is larger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detectors.auto_season import Seasons
from detectors.base import QUIET, FloatArray, Verdict, register
from detectors.scoring import finite

FAST = 1.0 / 4.0
"""Weight of a new point in the fast average: it follows a level within a few points."""
SLOW = 1.0 / 64.0
"""Weight of a new point in the slow average: the level of a noisy but steady series."""
REL_FLOOR = 0.01
"""Errors within this fraction of the series' long-run magnitude are no surprise, and the
error scale never drops below it: a change smaller than 1 % of what a metric usually reads is
below the resolution that matters for monitoring, however still the series was before."""
CLIP = 4.0
"""An error counts at most this many scales in the scale's average (winsorising): a spike
cannot blind the detector to the next one, yet a lasting rise in volatility is learned."""
SCALE_WARMUP = 10
"""The first this many errors are averaged plainly (nothing to winsorise against yet)."""
DECADES = 10.0
"""The score is -log10(p) over this many decades (as NAB's HTM detector reports it)."""
B_FLOOR = math.log10(2.0)
"""The mean excesses (log-surprise units) never drop below this: in the fitted tail a surprise
must at least double to be ten times rarer, so a series that has been perfectly predictable
still needs a miss of several scales, not a wiggle, to be news."""
PRIOR = 10
"""Each mean excess starts as this many excesses of ``B_FLOOR``: until about ten real ones are
seen, the tail leans on the floor rather than on one or two early misses (a series' first
minutes, when its scale is still being learned)."""
LN10 = math.log(10.0)
RELEASE = 0.6
"""An anomalous run ends when the undamped score falls below this fraction of the threshold."""
SPATIAL_TOL = 0.05
"""A value is a new extreme when it passes the series' highest or lowest so far by more than
this fraction of the range between them (the tolerance of Numenta's NAB detector): a record
by a hair is how a slow drift looks, a record by a margin is how an outage or a surge looks."""
SIGNALS = 2
"""How many calibrated signals the score takes the most surprising of (the ensemble's surprise
and the new extreme): its tail probability is the least of theirs times this (Bonferroni), so
a threshold means the same rarity whichever signal reached it."""


@dataclass(frozen=True, slots=True)
class AutoParams:
    """The knobs of ``auto``; each is a span of points or a probability, none a unit."""

    threshold: float = 0.25
    """Score at or above which a point is anomalous: 0.25 is a tail of 1 in 316. On stationary
    noise such points are rarer than that (none in 40,000 on normal noise, about one in 850
    on Student's t with 3 degrees of freedom); on NAB's files the nested held-out choice is
    0.223 to 0.226 in every fold (``benchmarks/nab_eval.py``), 0.25 trades a little of that for
    fewer false alarms (0.6 per 1,000 points outside NAB's windows)."""
    scale_memory: int = 300
    """Points the error scale is averaged over: long enough to hold the errors of a few
    bursts of a bursty series, short enough to follow a change of volatility. Fixed, not
    tuned: choosing it on NAB's files lowered the held-out score (``benchmarks/nab_eval.py``)."""
    average: int = 1
    """Points the log-surprise is averaged over before the likelihood (HTM uses 10)."""
    memory: int = 2000
    """Points the tail of the log-surprise is fitted over (its mean, the rate above it, the
    mean excesses), and the series' magnitude and the seasonal errors are averaged over."""
    rest: int = 1000
    """After a peak the bar to speak again falls by 1 / rest per point: for hundreds of
    points only a surprise nearly as bad speaks (a burst of spikes is one incident, not many).
    Fixed, not tuned: choosing among 300, 1000 and 3000 on NAB's files lowered the held-out
    score."""
    warmup: int = 30
    """Surprises learned before any verdict."""


def check_params(p: AutoParams) -> None:
    """Raise ValueError on knobs outside their domain."""
    if not 0.0 < p.threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    if min(p.scale_memory, p.average, p.memory, p.rest, p.warmup) < 1:
        raise ValueError("scale_memory, average, memory, rest and warmup must be >= 1")


def describe(z: float, decades: float) -> str:
    """Words for a surprise of ``z`` usual errors with a tail of 10^-decades."""
    odds = f"1 in {10**decades:,.0f}" if decades < 7 else f"1 in 10^{decades:.0f}"
    return f"{z:.1f}x its usual change, rarer than {odds}"


def _span(seconds: float) -> str:
    """A stretch of time in the largest unit that keeps it at least 2 (``3 days``, ``40 min``)."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def novel_words(x: float, lo: float, hi: float, seconds: float) -> str:
    """Words for ``x`` as a new extreme of a series whose values so far spanned ``lo`` to
    ``hi`` over ``seconds`` (``above its highest in 3 days by 40 % of its range``)."""
    over = x - hi if x > hi else lo - x
    rng = hi - lo
    side = "above its highest" if x > hi else "below its lowest"
    pct = f" by {100.0 * over / rng:,.0f} % of its range" if rng > 0 else ""
    return f"{side} in {_span(seconds)}{pct}"


@register("auto", "streaming", "the default: calibrated tail probability of an ensemble's surprise")
class Auto:
    """The default detector for live server metrics (see the module docstring)."""

    def __init__(
        self,
        threshold: float = 0.25,
        scale_memory: int = 300,
        average: int = 1,
        memory: int = 2000,
        rest: int = 1000,
        warmup: int = 30,
    ) -> None:
        """Args:
        threshold: score at or above which a point is anomalous (0.25: p = 1 in 316).
        scale_memory: points the error scale is averaged over.
        average: points the log-surprise is averaged over.
        memory: points the long-run statistics of that average are taken over.
        rest: after a peak, the bar to speak again falls by 1 / rest per point.
        warmup: averages learned before any verdict.
        """
        self.params = AutoParams(threshold, scale_memory, average, memory, rest, warmup)
        check_params(self.params)
        self._n = 0
        self._last = self._fast = self._slow = self._mag = 0.0
        self._quantum = math.inf
        self._scale = 0.0
        self._ring = [0.0] * average
        self._sum = 0.0
        self._k = 0
        self._mu = self._f1 = 0.0
        self._b1 = self._b2 = B_FLOOR  # the prior's pseudo-excesses
        self._k1 = self._k2 = 0
        self._bar = 0.0
        self._fall = DECADES / rest
        self.decades = 0.0
        """The undamped tail probability of the last point judged, in decades (-log10 p)."""
        self._on = False
        self._why = ""
        self._seasons = Seasons()
        self._lo = math.inf
        self._hi = -math.inf
        self._t0 = 0.0
        self._novel = ""

    def _surprise(self, x: float, t: float) -> tuple[float, float]:
        """The ensemble's surprise at ``x`` and the scale it was measured in; learns the scale.
        Where a daily season is evident the ensemble is its two seasonal guesses (a plain
        guess would expect a daily rise not to come)."""
        last = self._last
        e = min(abs(x - last), abs(x - self._fast), abs(x - self._slow))
        e = self._seasons.error(t, x, last, e, self.params.memory)
        n = self._n
        dead = max(REL_FLOOR * self._mag, 1e-12)
        q = self._quantum
        sc = max(self._scale, dead, q if q < math.inf else 0.0)
        step = abs(x - last)
        if 0.0 < step < self._quantum:
            self._quantum = step
        if n > SCALE_WARMUP:
            self._scale += (min(e, CLIP * sc) - self._scale) / min(n, self.params.scale_memory)
        else:
            self._scale += (e - self._scale) / n
        # Errors within 1 % of the magnitude are below the resolution that matters.
        return max(e - dead, 0.0) / sc, sc

    def _novelty(self, x: float, t: float) -> float:
        """The decades of ``x`` as a new extreme: ``log10(n / 2)`` when it passes the highest
        or the lowest of the ``n`` values so far by more than ``SPATIAL_TOL`` of their range
        (and by more than the resolution that matters and the series' quantisation), else 0.
        Among ``n + 1`` values in random order, the last is the highest or the lowest with
        probability ``2 / (n + 1)``, whatever their distribution: a calibrated tail with no
        fitting at all. All history counts (not a window): a record is news against
        everything seen, and a window would make every old peak new again once it left."""
        lo, hi, q = self._lo, self._hi, self._quantum
        tol = max(SPATIAL_TOL * (hi - lo), REL_FLOOR * self._mag, q if q < math.inf else 0.0)
        over = x - hi if x > hi else lo - x
        if over <= tol:
            return 0.0
        self._novel = novel_words(x, lo, hi, t - self._t0)
        return math.log10(self._n / 2.0)

    def _learn_level(self, x: float) -> None:
        self._last = x
        self._lo = min(self._lo, x)
        self._hi = max(self._hi, x)
        self._lo = min(self._lo, x)
        self._hi = max(self._hi, x)
        self._fast += FAST * (x - self._fast)
        self._slow += SLOW * (x - self._slow)
        self._n += 1
        self._mag += (abs(x) - self._mag) / min(self._n, self.params.memory)

    def _likelihood(self, s: float) -> float:
        """Push the log-surprise ``s``; return the decades of the tail probability of the new
        average under the tail fitted so far (0 while warming up), then learn the average."""
        p = self.params
        slot = self._k % p.average
        self._sum += s - self._ring[slot]
        self._ring[slot] = s
        k = self._k = self._k + 1
        m = self._sum / min(k, p.average)
        a = 1.0 / min(k, p.memory)
        decades = self._decades(m, a) if k > p.warmup else 0.0
        mu, b1 = self._mu, max(self._b1, B_FLOOR)
        u2, b2 = mu + b1, max(self._b2, B_FLOOR)
        # Learn: the mean, the rate and mean excess over it, and the mean excess over the
        # second level u2; excesses are capped at CLIP mean excesses.
        self._mu = mu + a * (m - mu)
        self._f1 += a * ((m > mu) - self._f1)
        if m > mu:
            self._k1 += 1
            self._b1 += (min(m - mu, CLIP * b1) - self._b1) / min(self._k1 + PRIOR, p.memory)
        if m > u2:
            self._k2 += 1
            self._b2 += (min(m - u2, CLIP * b2) - self._b2) / min(self._k2 + PRIOR, p.memory)
        return decades

    def _decades(self, m: float, a: float) -> float:
        """-log10 of the tail probability of ``m``: 0 up to the mean; above it, the rate of
        exceeding the mean times an exponential tail, whose slope is the mean excess over
        the mean up to the second level and the mean excess over that level beyond it."""
        mu = self._mu
        if m <= mu:
            return 0.0
        b1 = max(self._b1, B_FLOOR)
        u2 = mu + b1
        d = -math.log10(max(self._f1, a)) + (min(m, u2) - mu) / (b1 * LN10)
        return d + max(m - u2, 0.0) / (max(self._b2, B_FLOOR) * LN10)

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against what came before it, then learn it."""
        if not finite(x):
            return QUIET
        x = float(x)
        t = float(t)
        if self._n == 0:
            self._last = self._fast = self._slow = x
            self._t0 = t
            self._seasons.learn(t, x)
            self._learn_level(x)
            return QUIET
        expected, away = self._fast, abs(x - self._slow)
        new = self._novelty(x, t)  # before _surprise, which learns the quantum from x
        z, sc = self._surprise(x, t)
        change = self._likelihood(math.log1p(z))
        decades = max(max(change, new) - math.log10(SIGNALS), 0.0)
        self._seasons.learn(t, x)
        self._learn_level(x)
        if self._k <= self.params.warmup:
            return QUIET
        return self._verdict(z, sc, decades, expected, away, new > change)

    def _verdict(
        self, z: float, sc: float, decades: float, expected: float, away: float, novel: bool
    ) -> Verdict:
        """The verdict on a judged point (``away``: its distance from the slow level; ``novel``:
        the new extreme, not the surprise, gave its score)."""
        p = self.params
        raw = min(decades / DECADES, 1.0)
        bar = self._bar - self._fall
        score = raw if decades > bar else 0.0
        self._bar = max(bar, min(decades, DECADES))  # capped: a huge peak must not silence all
        self.decades = decades
        half = self._half(sc)
        # A run lasts while the surprise stays high or the value stays outside the band of
        # ordinary values around the slow level it left (a level that moved and stays).
        held = raw >= RELEASE * p.threshold or away > RELEASE * half
        start = score >= p.threshold
        on = start or (self._on and held)
        if start:
            self._why = self._novel if novel else describe(z, decades)
        self._on = on
        return Verdict(
            score,
            on,
            expected,
            expected - half,
            expected + half,
            "warning" if on else "none",
            (self._why if start else f"{self._why} (ongoing)") if on else "",
        )

    def _half(self, sc: float) -> float:
        """Half the band of ordinary values: how far the next point must miss for its score to
        reach the threshold (exactly so with ``average`` 1)."""
        p = self.params
        b1 = max(self._b1, B_FLOOR)
        f1 = max(self._f1, 1.0 / min(self._k, p.memory))
        r = LN10 * (p.threshold * DECADES + math.log10(f1))  # e-folds needed above the mean
        top = self._mu + b1 * min(max(r, 0.0), 1.0) + max(self._b2, B_FLOOR) * max(r - 1.0, 0.0)
        need = p.average * top - (self._sum - self._ring[self._k % p.average])
        return math.expm1(min(max(need, 0.0), 700.0)) * sc


def rest_scores(decades: FloatArray, rest: int) -> FloatArray:
    """The one-strike rule of ``Auto`` applied afterwards to the undamped tails of a series
    (``Auto.decades`` after each point, 0 for points without a verdict): the scores
    ``Auto(rest=rest)`` would have given. Lets a benchmark try several ``rest`` without
    rerunning the detector."""
    out = np.zeros(len(decades))
    bar, fall = 0.0, DECADES / rest
    for i, d in enumerate(np.asarray(decades, dtype=np.float64).tolist()):
        bar -= fall
        if d > bar:
            out[i] = min(d / DECADES, 1.0)
        bar = max(bar, min(d, DECADES))
    return out
