"""Provides ``AutoBank``: the ``auto`` detector over many series updated together, with its
state in arrays and one numpy step per tick.

Series i of a bank gives the same scores as its own ``Auto`` fed the same values (a NaN skips
that series for the tick, as ``Auto`` skips a missing value). Memory (``bytes_per_series``):
417 bytes per series at the defaults, plus 8 bytes per point of the seasonal rings of series
sampled between hourly and every minute (``detectors.auto_season``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from detectors.auto import (
    B_FLOOR,
    CLIP,
    DECADES,
    FAST,
    LN10,
    PRIOR,
    REL_FLOOR,
    RELEASE,
    SCALE_WARMUP,
    SIGNALS,
    SLOW,
    SPATIAL_TOL,
    Auto,
    AutoParams,
    check_params,
)
from detectors.auto_season import NUMBERS, BankSeasons
from detectors.base import FloatArray

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
_FLOATS = ("last", "fast", "slow", "mag", "scale", "sum", "mu", "b1", "b2", "f1", "bar", "lo", "hi")
_INTS = ("n", "k", "k1", "k2")


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


@dataclass(frozen=True, slots=True)
class StepParts:
    """What went into the last step's verdicts, per series (``AutoBank.last``): what the
    reason of a verdict is written from."""

    surprise: FloatArray
    """The ensemble's surprise, in usual errors."""
    decades: FloatArray
    """The undamped tail probability, in decades (-log10 p)."""
    novel: BoolArray
    """Where the new extreme, not the surprise, gave the score."""
    ready: BoolArray
    """Where a verdict was given (a value, past the warm-up)."""


def bytes_per_series(average: int = 1, rings: int = 0) -> int:
    """Bytes of state one series takes in a bank (numbers only, no per-object overhead), with
    seasonal rings of ``rings`` values in all (0 for series finer than a minute)."""
    numbers = len(_FLOATS) + 1 + len(_INTS) + average + NUMBERS + rings  # 1: quantum
    return 8 * numbers + 1  # 1: the episode flag


class AutoBank:
    """``auto`` over ``n`` series updated together, one numpy step per tick."""

    def __init__(self, n: int, **options: float) -> None:
        """Args:
        n: how many series.
        **options: as ``Auto``.
        """
        self.params = AutoParams(**options)  # type: ignore[arg-type]
        check_params(self.params)
        self.n = n
        self.cols = np.arange(n)
        self.f = {name: np.zeros(n) for name in _FLOATS}
        self.f["b1"][:] = self.f["b2"][:] = B_FLOOR  # the prior's pseudo-excesses
        self.f["lo"][:], self.f["hi"][:] = np.inf, -np.inf
        self.i = {name: np.zeros(n, dtype=np.int64) for name in _INTS}
        self.quantum = np.full(n, np.inf)
        self.ring = np.zeros((self.params.average, n))
        self.on = np.zeros(n, dtype=bool)
        self.seasons = BankSeasons(n)

    @classmethod
    def of(cls, autos: list[Auto]) -> AutoBank:
        """A bank of these series in the state their ``Auto`` (of the same knobs) holds."""
        bank = cls(len(autos), **asdict(autos[0].params))
        for name in _FLOATS:
            bank.f[name][:] = [getattr(a, f"_{name}") for a in autos]
        for name in _INTS:
            bank.i[name][:] = [getattr(a, f"_{name}") for a in autos]
        bank.quantum[:] = [a._quantum for a in autos]
        bank.ring[:] = np.array([a._ring for a in autos]).T
        bank.on[:] = [a._on for a in autos]
        bank.seasons = BankSeasons.of([a._seasons for a in autos])
        return bank

    def auto(self, col: int) -> Auto:
        """Series ``col`` as an ``Auto`` of its own in the state it holds here (``of`` undone)."""
        one = Auto(**asdict(self.params))
        for name in _FLOATS:
            setattr(one, f"_{name}", float(self.f[name][col]))
        for name in _INTS:
            setattr(one, f"_{name}", int(self.i[name][col]))
        one._quantum = float(self.quantum[col])
        one._ring = self.ring[:, col].tolist()
        one._on = bool(self.on[col])
        one._seasons = self.seasons.one(col)
        return one

    def _surprise(
        self, x: FloatArray, go: BoolArray, t: float | FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        f, nn = self.f, self.i["n"]
        e = np.minimum(np.abs(x - f["last"]), np.abs(x - f["fast"]))
        e = np.minimum(e, np.abs(x - f["slow"]))
        e = self.seasons.error(t, x, f["last"], e, go, self.params.memory)
        q = self.quantum
        dead = np.maximum(REL_FLOOR * f["mag"], 1e-12)
        sc = np.maximum(np.maximum(f["scale"], dead), np.where(q < np.inf, q, 0.0))
        step = np.abs(x - f["last"])
        self.quantum = np.where(go & (step > 0.0) & (step < q), step, q)
        n1 = np.maximum(nn, 1)
        scale = f["scale"]
        late = scale + (np.minimum(e, CLIP * sc) - scale) / np.minimum(n1, self.params.scale_memory)
        early = scale + (e - scale) / n1
        f["scale"] = np.where(go, np.where(nn > SCALE_WARMUP, late, early), scale)
        return np.maximum(e - dead, 0.0) / sc, sc

    def _decades(self, m: FloatArray, a: FloatArray) -> FloatArray:
        f = self.f
        mu = f["mu"]
        b1 = np.maximum(f["b1"], B_FLOOR)
        u2 = mu + b1
        d = -np.log10(np.maximum(f["f1"], a)) + (np.minimum(m, u2) - mu) / (b1 * LN10)
        d = d + np.maximum(m - u2, 0.0) / (np.maximum(f["b2"], B_FLOOR) * LN10)
        return np.where(m <= mu, 0.0, d)  # type: ignore[no-any-return]

    def _likelihood(self, s: FloatArray, go: BoolArray) -> FloatArray:
        p, f, ii = self.params, self.f, self.i
        slot = ii["k"] % p.average
        old = self.ring[slot, self.cols]
        f["sum"] = np.where(go, f["sum"] + (s - old), f["sum"])
        self.ring[slot[go], self.cols[go]] = s[go]
        k = ii["k"] = ii["k"] + go
        k1 = np.maximum(k, 1)
        m = f["sum"] / np.minimum(k1, p.average)
        a = 1.0 / np.minimum(k1, p.memory)
        decades = np.where(go & (k > p.warmup), self._decades(m, a), 0.0)
        mu, b1 = f["mu"], np.maximum(f["b1"], B_FLOOR)
        u2, b2 = mu + b1, np.maximum(f["b2"], B_FLOOR)
        f["mu"] = np.where(go, mu + a * (m - mu), mu)
        up1 = go & (m > mu)
        f["f1"] = np.where(go, f["f1"] + a * (up1 - f["f1"]), f["f1"])
        ii["k1"] = ii["k1"] + up1
        w1 = np.minimum(ii["k1"] + PRIOR, p.memory)
        f["b1"] = np.where(up1, f["b1"] + (np.minimum(m - mu, CLIP * b1) - f["b1"]) / w1, f["b1"])
        up2 = go & (m > u2)
        ii["k2"] = ii["k2"] + up2
        w2 = np.minimum(ii["k2"] + PRIOR, p.memory)
        f["b2"] = np.where(up2, f["b2"] + (np.minimum(m - u2, CLIP * b2) - f["b2"]) / w2, f["b2"])
        return decades  # type: ignore[no-any-return]

    def _novelty(self, x: FloatArray, go: BoolArray) -> FloatArray:
        """``Auto._novelty`` for every series: log10(n / 2) for a new extreme, else 0."""
        f, q = self.f, self.quantum
        lo, hi = f["lo"], f["hi"]
        tol = np.maximum(SPATIAL_TOL * (hi - lo), REL_FLOOR * f["mag"])
        tol = np.maximum(tol, np.where(q < np.inf, q, 0.0))
        over = np.where(x > hi, x - hi, lo - x)
        new = go & (over > tol)
        return np.where(new, np.log10(np.maximum(self.i["n"], 1) / 2.0), 0.0)  # type: ignore[no-any-return]

    def _learn_level(self, x: FloatArray, ok: BoolArray, first: BoolArray) -> None:
        f, ii = self.f, self.i
        f["lo"] = np.where(ok, np.minimum(f["lo"], x), f["lo"])
        f["hi"] = np.where(ok, np.maximum(f["hi"], x), f["hi"])
        for name in ("last", "fast", "slow"):
            f[name] = np.where(first, x, f[name])
        f["last"] = np.where(ok, x, f["last"])
        f["fast"] = np.where(ok, f["fast"] + FAST * (x - f["fast"]), f["fast"])
        f["slow"] = np.where(ok, f["slow"] + SLOW * (x - f["slow"]), f["slow"])
        nn = ii["n"] = ii["n"] + ok
        w = np.minimum(np.maximum(nn, 1), self.params.memory)
        f["mag"] = np.where(ok, f["mag"] + (np.abs(x) - f["mag"]) / w, f["mag"])

    def _band(self, sc: FloatArray) -> FloatArray:
        p, f, k = self.params, self.f, self.i["k"]
        b1 = np.maximum(f["b1"], B_FLOOR)
        f1 = np.maximum(f["f1"], 1.0 / np.minimum(np.maximum(k, 1), p.memory))
        r = LN10 * (p.threshold * DECADES + np.log10(f1))
        top = f["mu"] + b1 * np.clip(r, 0.0, 1.0)
        top = top + np.maximum(f["b2"], B_FLOOR) * np.maximum(r - 1.0, 0.0)
        need = p.average * top - (f["sum"] - self.ring[k % p.average, self.cols])
        return np.expm1(np.minimum(np.maximum(need, 0.0), 700.0)) * sc  # type: ignore[no-any-return]

    def update(self, t: float | FloatArray, x: FloatArray) -> BankVerdicts:
        """Judge one value per series (NaN = no value) at ``t`` (one time, or each series'
        own), then learn from them."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n,):
            raise ValueError(f"expected {self.n} values, got shape {x.shape}")
        # Values near the ends of the float range overflow to inf in the sums, as they do in
        # ``Auto``'s floats; the verdicts stay what ``Auto`` says, so the warnings are noise.
        with np.errstate(all="ignore"):
            return self._step(t, x)

    def _step(self, t: float | FloatArray, x: FloatArray) -> BankVerdicts:
        p, f = self.params, self.f
        ok = np.isfinite(x)
        xs = np.where(ok, x, 0.0)
        first = ok & (self.i["n"] == 0)
        go = ok & ~first
        expected, away = f["fast"].copy(), np.abs(xs - f["slow"])
        new = self._novelty(xs, go)  # before _surprise, which learns the quantum
        z, sc = self._surprise(xs, go, t)
        change = self._likelihood(np.log1p(np.where(go, z, 0.0)), go)
        decades = np.maximum(np.maximum(change, new) - np.log10(SIGNALS), 0.0)
        self.seasons.learn(t, xs, ok)
        self._learn_level(xs, ok, first)
        ready = go & (self.i["k"] > p.warmup)
        raw = np.minimum(decades / DECADES, 1.0)
        bar = f["bar"] - DECADES / p.rest
        score = np.where(ready & (decades > bar), raw, 0.0)
        f["bar"] = np.where(ready, np.maximum(bar, np.minimum(decades, DECADES)), f["bar"])
        half = np.where(ready, self._band(sc), np.nan)
        held = (raw >= RELEASE * p.threshold) | (away > RELEASE * half)
        on = (score >= p.threshold) | (self.on & held)
        self.on = np.where(ready, on, self.on)
        exp_out = np.where(ready, expected, np.nan)
        self.last = StepParts(z, decades, new > change, ready)
        return BankVerdicts(score, ready & on, exp_out, exp_out - half, exp_out + half)

    # Series that come and go: a monitor's series appear and leave while it runs, and a bank
    # that holds them grows and reuses rows rather than being rebuilt. Every array whose last
    # axis is the series' is state, wherever the bank keeps it; ``cols`` index that axis.

    def grow(self, extra: int) -> None:
        """Add ``extra`` series at the end, each as a new series starts."""
        fresh = AutoBank(extra, **asdict(self.params))
        theirs = dict(_columns(fresh, extra))
        for path, (owner, name, mine) in list(_columns(self, self.n)):
            a, b = _same_lead(mine, theirs[path][2])
            _put(owner, name, np.concatenate([a, b], axis=-1))
        self.n += extra
        for owner in _owners(self):
            if isinstance(getattr(owner, "cols", None), np.ndarray):
                owner.cols = np.arange(self.n)  # type: ignore[attr-defined]

    def load(self, rows: IntArray, other: AutoBank, source: IntArray | None = None) -> None:
        """Set the series ``rows`` to the state of ``other``'s series ``source`` (by default
        all of them), in order, ``other`` having the same knobs: series warmed elsewhere, or
        new ones."""
        if other.params != self.params or len(rows) != (other.n if source is None else len(source)):
            raise ValueError("load needs as many series, with the same knobs")
        theirs = dict(_columns(other, other.n))
        for path, (owner, name, mine) in list(_columns(self, self.n)):
            mine, src = _same_lead(mine, theirs[path][2])
            mine[..., rows] = src if source is None else src[..., source]
            _put(owner, name, mine)


Column = tuple[tuple[str, ...], tuple[object, str | int, np.ndarray]]


def _owners(obj: object) -> Iterator[object]:
    """``obj`` and every dict, list and object of this package it holds, recursively."""
    yield obj
    for _, v in _items(obj):
        if isinstance(v, dict | list) or type(v).__module__.startswith("detectors."):
            yield from _owners(v)


def _items(obj: object) -> list[tuple[str | int, object]]:
    if isinstance(obj, dict):
        return list(obj.items())
    if isinstance(obj, list):
        return list(enumerate(obj))
    return list(vars(obj).items()) if hasattr(obj, "__dict__") else []


def _columns(obj: object, n: int, path: tuple[str, ...] = ()) -> Iterator[Column]:
    """Yield ``(path, (owner, name, array))`` for every per-series array of a bank."""
    for name, v in _items(obj):
        here = (*path, str(name))
        if isinstance(v, np.ndarray):
            if v.ndim and v.shape[-1] == n and name != "cols":
                yield here, (obj, name, v)
        elif isinstance(v, dict | list) or type(v).__module__.startswith("detectors."):
            yield from _columns(v, n, here)


def _same_lead(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` with as many leading rows, the shorter padded with NaN: a seasonal
    ring has as many rows as the longest period, and a period not yet known is NaN."""
    rows = max(a.shape[:-1], b.shape[:-1])
    out = []
    for arr in (a, b):
        if arr.shape[:-1] != rows:
            pad = np.full((rows[0] - arr.shape[0], *arr.shape[1:]), np.nan)
            arr = np.concatenate([arr, pad])
        out.append(arr)
    return out[0], out[1]


def _put(owner: object, name: str | int, value: np.ndarray) -> None:
    if isinstance(owner, dict | list):
        owner[name] = value  # type: ignore[index]
    else:
        setattr(owner, str(name), value)
