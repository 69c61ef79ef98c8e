"""Provides ``AutoBank``: the ``auto`` detector over many series updated together, with its
state in arrays and one numpy step per tick."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.auto import (
    LEVELS,
    MAX_VISITS,
    NORM_WARMUP,
    PERIODS,
    PHASE_ALPHA,
    RESIDUAL_ALPHA,
    SEASON_BINS,
    STEP_SAMPLES,
    AutoParams,
    BoolArray,
    _check,
    season_bins,
)
from detectors.base import FloatArray


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


class _BankSeason:
    """One period's profiles for every series of a bank: (SEASON_BINS, n) arrays."""

    def __init__(self, period: float, n: int) -> None:
        self.period = period
        self.bins = np.zeros(n, dtype=np.int64)
        """Phases per series; 0 until its step is known or when the season does not fit."""
        self.means = np.zeros((SEASON_BINS, n))
        self.visits = np.zeros((SEASON_BINS, n), dtype=np.uint8)
        self.resvar = np.full(n, -1.0)


class AutoBank:
    """``auto`` over ``n`` series updated together, one numpy step per tick. Series i of the
    bank gives the same verdicts as its own ``Auto`` fed the same values (a NaN skips that
    series for the tick, as ``Auto`` skips a missing value).

    Memory: the seasonal profiles take about 2 x 336 x 9 bytes per series (6 MB per 1,000
    series) beside the ``window`` and ``rest`` rings."""

    def __init__(self, n: int, **options: float) -> None:
        """Args:
        n: how many series.
        **options: as ``Auto``.
        """
        p = AutoParams(**options)  # type: ignore[arg-type]
        self.params = AutoParams(
            p.window,
            p.rest,
            p.threshold,
            min(p.warmup, p.window),
            p.rel_floor,
            p.abs_floor,
            bool(p.season),
            p.season_ratio,
            p.cap,
            p.memory,
            p.rarity,
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
        self._last_t = np.full(n, np.nan)
        self._dts = np.zeros((STEP_SAMPLES, n))
        self._ndts = np.zeros(n, dtype=np.int64)
        self._seasons = [_BankSeason(period, n) for period in PERIODS] if p.season else []
        self._plain_err = np.full(n, -1.0)
        self._pending: list[tuple[_BankSeason, npt.NDArray[np.int64], FloatArray]] = []
        self._nmu = np.zeros(n)
        self._nvar = np.zeros(n)
        self._rates = np.zeros((len(LEVELS), n))
        self._levels = np.array(LEVELS)[:, None]

    def _learn_step(self, t: float, ok: BoolArray) -> None:
        take = ok & ~np.isnan(self._last_t) & (self._ndts < STEP_SAMPLES)
        if take.any():
            cols = self._cols[take]
            self._dts[self._ndts[take], cols] = t - self._last_t[take]
            self._ndts[take] += 1
            done = cols[self._ndts[cols] == STEP_SAMPLES]
            if len(done):
                steps = np.median(self._dts[:, done], axis=0)
                for s in self._seasons:
                    s.bins[done] = [season_bins(float(st), s.period) for st in steps]
        self._last_t[ok] = t

    def _season(self, t: float, x: FloatArray, ok: BoolArray) -> tuple[FloatArray, FloatArray]:
        """Learn and return (residual variance, expected) of the best season per series; the
        variance is inf where no season applies."""
        best_ev = np.full(self.n, np.inf)
        best_mean = np.zeros(self.n)
        self._pending.clear()
        for s in self._seasons:
            on = ok & (s.bins > 0)
            if not on.any():
                continue
            cols = self._cols[on]
            bins = s.bins[on]
            ph = (((t % s.period) / s.period * bins).astype(np.int64)) % bins
            seen = s.visits[ph, cols].astype(np.int64)
            mean = s.means[ph, cols]
            xv = x[on]
            r = xv - mean
            ev = s.resvar[on]
            cand = (ev >= 0.0) & (seen >= 2) & (ev < best_ev[on])
            best_ev[cols[cand]] = ev[cand]
            best_mean[cols[cand]] = mean[cand]
            upd = seen > 0
            new_ev = np.where(ev < 0.0, r * r, ev + RESIDUAL_ALPHA * (r * r - ev))
            self._pending.append((s, cols[upd], new_ev[upd]))
            a = np.maximum(PHASE_ALPHA, 1.0 / (seen + 1))
            s.means[ph, cols] = mean + a * (xv - mean)
            s.visits[ph, cols] = np.minimum(seen + 1, MAX_VISITS)
        return best_ev, best_mean

    def _normalise(self, z: FloatArray, ready: BoolArray) -> FloatArray:
        p = self.params
        r = np.minimum(z, p.cap)
        k = self._judged
        a = np.maximum(1.0 / p.memory, 1.0 / (k + 1))
        mu, var = self._nmu, self._nvar
        sd = np.sqrt(np.maximum(var, 0.0))
        s = np.where(k >= NORM_WARMUP, np.maximum((z - mu) / np.maximum(sd, 1e-3), 0.0), 0.0)
        d = r - mu
        self._nmu = np.where(ready, mu + a * d, mu)
        self._nvar = np.where(ready, (1.0 - a) * (var + a * d * d), var)
        self._judged = k + ready
        ar = 1.0 / p.rarity
        above = self._levels < s  # (levels, n)
        j = above.sum(axis=0)
        rate = self._rates[np.maximum(j - 1, 0), self._cols]
        log_span = math.log10(p.rarity + 1.0)
        f = np.where(j > 0, np.clip(-np.log10(rate + ar) / log_span, 0.0, 1.0), 1.0)
        self._rates[:, ready] += ar * (above[:, ready] - self._rates[:, ready])
        return np.where(ready, s * f, 0.0)  # type: ignore[no-any-return]

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
        t = float(t)
        p = self.params
        ok = np.isfinite(x)
        if self._seasons:
            self._learn_step(t, ok)
            best_ev, best_mean = self._season(t, x, ok)
        else:
            best_ev, best_mean = np.full(self.n, np.inf), np.zeros(self.n)
        k = np.minimum(self._count, p.window)
        ready = ok & (k >= p.warmup)
        kk = np.maximum(k, 1)
        mean = self._sum / kk
        var = self._sumsq / kk - mean * mean
        raw_sd = np.sqrt(np.maximum(var, 0.0))
        floor = np.maximum(p.rel_floor * np.abs(mean), p.abs_floor)
        pe = self._plain_err
        seasonal = best_ev < p.season_ratio * pe
        expected = np.where(seasonal, best_mean, mean)
        sd = np.maximum(
            np.where(seasonal, np.sqrt(np.where(seasonal, best_ev, 0.0)), raw_sd), floor
        )
        z = np.where(ready, np.abs(np.where(ok, x, 0.0) - expected) / sd, 0.0)
        keep = ok & (~ready | (z <= 2.0 * p.threshold))
        e2 = (np.where(ok, x, 0.0) - mean) ** 2
        upd = keep & ready & ((pe >= 0.0) | (e2 > 0.0))
        self._plain_err = np.where(upd, np.where(pe < 0.0, e2, pe + RESIDUAL_ALPHA * (e2 - pe)), pe)
        for season, cols_s, new_ev in self._pending:
            sel = keep[cols_s]
            season.resvar[cols_s[sel]] = new_ev[sel]
        s = self._normalise(z, ready)
        fresh = s > self._zs.max(axis=0)
        rest_slot = (self._judged - ready) % p.rest  # _normalise counted this tick already
        cols = self._cols[ready]
        self._zs[rest_slot[ready], cols] = s[ready]
        self._push(x, ok)
        shown = np.where(ready & fresh, s, 0.0)
        band = p.threshold * sd
        exp_out = np.where(ready, expected, np.nan)
        return BankVerdicts(
            shown / (shown + p.threshold),
            ready & (z > p.threshold),
            exp_out,
            exp_out - np.where(ready, band, np.nan),
            exp_out + np.where(ready, band, np.nan),
        )
