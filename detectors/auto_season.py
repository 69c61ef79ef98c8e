"""Provides the seasonal guesses of ``auto``: the value a day or a week earlier at the same phase,
for one series (``Seasons``) and for a bank of series in arrays (``BankSeasons``).

Machine and human activity share two cycles: the day (office hours, nightly jobs) and the
week (the working week against the weekend, a backup that runs on Sundays). A series sampled
coarsely enough for a season to fit in a ring of at most ``MAX_PERIOD`` points gets a ring per
season that fits. Each season offers two guesses for the next point: its value one season ago,
and the last value moved as the series moved one season ago. A season is *evident* while the
running mean squared error of its guesses beats the plain guesses' over the same points
(squares, so that a daily rise the plain guesses keep missing weighs as much as it costs); the
ensemble's error is then the nearer of the evident season's guesses, the season with the
smaller running error first. So a weekday rise is expected on a weekday, a quiet Sunday on a
Sunday, and a holiday that looks like neither stands out.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from detectors.base import FloatArray

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

DAY = 86400.0
SEASONS = (DAY, 7 * DAY)
"""The seasons tried, in seconds: the day and the week."""
STEP_SAMPLES = 20
"""A series' step is the median of its first this many time differences."""
MIN_PERIOD = 24
"""A season must hold at least this many steps (a day of hourly points)..."""
MAX_PERIOD = 2016
"""... and at most this many (a week of 5-minute points, 16 kB per series): series sampled
every minute keep a daily ring, series sampled every second keep none."""
NUMBERS = STEP_SAMPLES + 3 + 5 * len(SEASONS)
"""Numbers per series for the bookkeeping (the first time steps, their count, the last time,
the step; per season its period, both ensembles' errors, their count, the season-ago value)."""


def season_period(step: float, span: float) -> int:
    """Points per season of ``span`` seconds for a series sampled every ``step`` seconds; 0
    when out of range."""
    if not step > 0.0:
        return 0
    period = round(span / step)
    return period if MIN_PERIOD <= period <= MAX_PERIOD else 0


class _Season:
    """One season's ring and the running errors that say whether it is evident."""

    __slots__ = ("before", "err_plain", "err_season", "j", "period", "ring", "span", "step")

    def __init__(self, span: float) -> None:
        self.span = span
        self.step = 0.0
        self.period = 0
        self.ring: list[float] = []
        self.err_season = self.err_plain = 0.0
        self.j = 0
        self.before = math.nan
        """The season-ago value of the last point learned."""

    def start(self, step: float) -> None:
        self.step = step
        self.period = season_period(step, self.span)
        self.ring = [math.nan] * self.period

    def slot(self, t: float) -> int:
        return round(t / self.step) % self.period


class Seasons:
    """The seasonal guesses of one series."""

    __slots__ = ("dts", "seasons", "t_last")

    def __init__(self) -> None:
        self.dts: list[float] = []
        self.t_last: float | None = None
        self.seasons = tuple(_Season(span) for span in SEASONS)

    def error(self, t: float, x: float, last: float, plain: float, memory: int) -> float:
        """The ensemble's error at ``x``: ``plain`` (the plain guesses' error) unless a season
        is evident; learns both errors of every season that guessed."""
        e, best = plain, math.inf
        for s in self.seasons:
            if not s.period:
                continue
            g1 = s.ring[s.slot(t)]
            if g1 != g1:  # a season ago is not known yet
                continue
            g2 = last + g1 - s.before
            e_s = min(abs(x - g1), abs(x - g2)) if g2 == g2 else abs(x - g1)
            if s.err_season < s.err_plain and s.err_season < best:
                e, best = e_s, s.err_season
            s.j += 1
            w = 1.0 / min(s.j, memory)
            s.err_season += w * (e_s * e_s - s.err_season)
            s.err_plain += w * (plain * plain - s.err_plain)
        return e

    def learn(self, t: float, x: float) -> None:
        """Learn ``x`` at ``t``: into the rings once the step is known, else into the step."""
        for s in self.seasons:
            if s.period:
                slot = s.slot(t)
                s.before = s.ring[slot]
                s.ring[slot] = x
        if self.t_last is not None and len(self.dts) < STEP_SAMPLES:
            self.dts.append(t - self.t_last)
            if len(self.dts) == STEP_SAMPLES:
                step = sorted(self.dts)[STEP_SAMPLES // 2]
                for s in self.seasons:
                    s.start(step)
        self.t_last = t


class _BankSeason:
    """One season of every series of a bank. The ring has as many rows as the longest period
    among the series (none until a step is known), so fine series cost nothing here."""

    def __init__(self, n: int, span: float) -> None:
        self.span = span
        self.period = np.zeros(n, dtype=np.int64)
        self.ring = np.full((0, n), np.nan)
        self.err_season = np.zeros(n)
        self.err_plain = np.zeros(n)
        self.before = np.full(n, np.nan)
        self.j = np.zeros(n, dtype=np.int64)

    def arrays(self) -> list[np.ndarray]:
        return [self.period, self.ring, self.err_season, self.err_plain, self.before, self.j]

    def slots(self, t: float | FloatArray, step: FloatArray) -> IntArray:
        on = self.period > 0
        safe = np.where(on, step, 1.0)
        return np.where(on, np.round(t / safe).astype(np.int64) % np.maximum(self.period, 1), 0)


class BankSeasons:
    """``Seasons`` for every series of a bank, in arrays."""

    def __init__(self, n: int) -> None:
        self.cols = np.arange(n)
        self.dts = np.zeros((STEP_SAMPLES, n))
        self.ndts = np.zeros(n, dtype=np.int64)
        self.t_last = np.full(n, np.nan)
        self.step = np.zeros(n)
        self.seasons = [_BankSeason(n, span) for span in SEASONS]

    @classmethod
    def of(cls, each: list[Seasons]) -> BankSeasons:
        """The seasonal state of each of these series (their ``Auto``'s), as a bank's."""
        bank = cls(len(each))
        for col, one in enumerate(each):
            bank.dts[: len(one.dts), col] = one.dts
            bank.ndts[col] = len(one.dts)
            bank.t_last[col] = math.nan if one.t_last is None else one.t_last
            bank.step[col] = one.seasons[0].step
        for k, mine in enumerate(bank.seasons):
            theirs = [one.seasons[k] for one in each]
            mine.period[:] = [s.period for s in theirs]
            mine.ring = np.full((int(mine.period.max(initial=0)), len(each)), np.nan)
            for col, s in enumerate(theirs):
                mine.ring[: s.period, col] = s.ring
            mine.err_season[:] = [s.err_season for s in theirs]
            mine.err_plain[:] = [s.err_plain for s in theirs]
            mine.before[:] = [s.before for s in theirs]
            mine.j[:] = [s.j for s in theirs]
        return bank

    def one(self, col: int) -> Seasons:
        """The seasonal state of series ``col`` as its own ``Auto``'s (``of`` undone)."""
        out = Seasons()
        out.dts = self.dts[: int(self.ndts[col]), col].tolist()
        t_last = float(self.t_last[col])
        out.t_last = None if math.isnan(t_last) else t_last
        for mine, theirs in zip(out.seasons, self.seasons, strict=True):
            mine.step = float(self.step[col])
            mine.period = int(theirs.period[col])
            mine.ring = theirs.ring[: mine.period, col].tolist()
            mine.err_season = float(theirs.err_season[col])
            mine.err_plain = float(theirs.err_plain[col])
            mine.before = float(theirs.before[col])
            mine.j = int(theirs.j[col])
        return out

    def arrays(self) -> list[np.ndarray]:
        """Every array of state (for counting bytes)."""
        own = [self.dts, self.ndts, self.t_last, self.step]
        return own + [a for s in self.seasons for a in s.arrays()]

    def error(
        self,
        t: float | FloatArray,
        x: FloatArray,
        last: FloatArray,
        plain: FloatArray,
        go: BoolArray,
        memory: int,
    ) -> FloatArray:
        """``Seasons.error`` for every series that has a value (``go``)."""
        e, best = plain, np.full(len(self.cols), np.inf)
        for s in self.seasons:
            if not len(s.ring):
                continue
            g1 = np.where(s.period > 0, s.ring[s.slots(t, self.step), self.cols], np.nan)
            g2 = last + g1 - s.before
            seen = go & ~np.isnan(g1)
            e_s = np.where(np.isnan(g2), np.abs(x - g1), np.minimum(np.abs(x - g1), np.abs(x - g2)))
            use = seen & (s.err_season < s.err_plain) & (s.err_season < best)
            e, best = np.where(use, e_s, e), np.where(use, s.err_season, best)
            s.j += seen
            w = 1.0 / np.minimum(np.maximum(s.j, 1), memory)
            s.err_season = np.where(
                seen, s.err_season + w * (e_s * e_s - s.err_season), s.err_season
            )
            s.err_plain = np.where(
                seen, s.err_plain + w * (plain * plain - s.err_plain), s.err_plain
            )
        return e  # type: ignore[no-any-return]

    def learn(self, t: float | FloatArray, x: FloatArray, ok: BoolArray) -> None:
        """Learn the values into the rings, or the steps while they are unknown (``t``: one
        time, or each series' own)."""
        for s in self.seasons:
            on = ok & (s.period > 0)
            if on.any():
                slot = s.slots(t, self.step)
                s.before = np.where(on, s.ring[slot, self.cols], s.before)
                s.ring[slot[on], self.cols[on]] = x[on]
        take = ok & ~np.isnan(self.t_last) & (self.ndts < STEP_SAMPLES)
        if take.any():
            cols = self.cols[take]
            self.dts[self.ndts[take], cols] = (t - self.t_last)[take]
            self.ndts[take] += 1
            done = cols[self.ndts[cols] == STEP_SAMPLES]
            if len(done):
                self._start(done)
        self.t_last = np.where(ok, t, self.t_last)

    def _start(self, done: IntArray) -> None:
        """The step of the series in ``done`` is known: give them their periods and rings."""
        self.step[done] = np.sort(self.dts[:, done], axis=0)[STEP_SAMPLES // 2]
        for s in self.seasons:
            s.period[done] = [season_period(float(st), s.span) for st in self.step[done]]
            rows = int(s.period.max())
            if rows > len(s.ring):
                grow = np.full((rows - len(s.ring), len(self.cols)), np.nan)
                s.ring = np.vstack([s.ring, grow])
