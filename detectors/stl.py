"""Provides STL, the seasonal-trend decomposition by loess, as R's ``stats::stl`` computes it.

The steps follow the published algorithm (Cleveland et al. 1990) and the choices of R's
implementation: the loess fits at every ``jump``-th point with linear interpolation between,
cycle-subseries smoothing extended one period at each end, the low-pass filter of three moving
averages and a loess, Tukey biweight robustness weights from six times the median absolute
residual, and for ``s_window="periodic"`` a seasonal made exactly periodic by averaging each
cycle position. Every loess runs vectorised over its fitting points (and over all the
cycle-subseries at once), so a long series costs a few numpy passes per iteration.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from detectors.base import FloatArray

_CHUNK = 1 << 21
"""Largest number of weights built at once by one loess pass (bounds memory)."""


@dataclass(frozen=True, slots=True)
class StlResult:
    """The three components of a series, and the robustness weights of its points."""

    seasonal: FloatArray
    trend: FloatArray
    remainder: FloatArray
    weights: FloatArray


@dataclass(frozen=True, slots=True)
class _Params:
    period: int
    ns: int
    nt: int
    nl: int
    sdeg: int
    tdeg: int
    ldeg: int
    sjump: int
    tjump: int
    ljump: int


def _nextodd(x: float) -> int:
    """R's ``nextodd``: round, then make odd."""
    r = int(np.round(x))
    return r + 1 if r % 2 == 0 else r


def _odd_at_least_3(x: int) -> int:
    x = max(3, int(x))
    return x + 1 if x % 2 == 0 else x


@functools.lru_cache(maxsize=64)
def _geometry(
    n: int, span: int, width: int, xs_key: bytes, nleft_key: bytes
) -> tuple[np.ndarray, FloatArray, FloatArray]:
    """Window indices, tricube weights and bandwidths of a set of fitting points; they depend
    on the shape of the problem only, so every iteration of STL reuses them."""
    xs = np.frombuffer(xs_key, dtype=np.float64)
    nleft = np.frombuffer(nleft_key, dtype=np.int64)
    j = nleft[:, None] + np.arange(width)[None, :]
    h = np.maximum(xs - nleft, nleft + width - 1 - xs).astype(np.float64)
    if span > n:
        h = h + float((span - n) // 2)
    r = np.abs(j - xs[:, None])
    hh = h[:, None]
    w = np.where(r <= 0.001 * hh, 1.0, (1.0 - (r / np.where(hh > 0, hh, 1.0)) ** 3) ** 3)
    w = np.where(r <= 0.999 * hh, w, 0.0)[None, :, :]
    for arr in (j, w, h):
        arr.setflags(write=False)
    return j, w, h


def _estimate(
    y: FloatArray,
    span: int,
    degree: int,
    xs: FloatArray,
    nleft: np.ndarray,
    rw: FloatArray | None,
    width: int,
) -> tuple[FloatArray, np.ndarray]:
    """Local fit of every row of ``y`` (shape m x n) at positions ``xs`` (1-based), each from
    the ``width`` points starting at ``nleft`` (1-based); returns the fits (m x e) and where
    they succeeded.

    The weighted sums are taken as matrix products over the offsets k = j - nleft, which is
    R's ``stlest`` rearranged: mean = nleft + sum(w k) / sum(w), and the degree-1 fit is
    (S0 + b (S1 - (mean - nleft) S0)) / sum(w) with S0 = sum(w y), S1 = sum(w k y).
    """
    n = y.shape[1]
    j, w, h = _geometry(n, span, width, xs.tobytes(), nleft.tobytes())
    k = np.arange(width, dtype=np.float64)
    if rw is not None:
        w = rw[:, j - 1] * w
    a = w.sum(axis=2)
    ok = a > 0.0
    safe = np.where(ok, a, 1.0)
    wy = w * y[:, j - 1]
    s0 = wy.sum(axis=2)
    if degree <= 0:
        return s0 / safe, ok
    off = (w @ k) / safe
    c = (w @ (k * k)) / safe - off * off
    mean = nleft[None, :] + off
    use = (h[None, :] > 0) & (np.sqrt(np.maximum(c, 0.0)) > 0.001 * (n - 1))
    b = np.where(use, (xs[None, :] - mean) / np.where(use, c, 1.0), 0.0)
    return (s0 + b * ((wy @ k) - off * s0)) / safe, ok


def _estimate_chunked(
    y: FloatArray,
    span: int,
    degree: int,
    xs: FloatArray,
    nleft: np.ndarray,
    rw: FloatArray | None,
    width: int,
) -> tuple[FloatArray, np.ndarray]:
    step = max(1, _CHUNK // max(1, y.shape[0] * width))
    fits, oks = [], []
    for s in range(0, len(xs), step):
        f, o = _estimate(y, span, degree, xs[s : s + step], nleft[s : s + step], rw, width)
        fits.append(f)
        oks.append(o)
    return np.concatenate(fits, axis=1), np.concatenate(oks, axis=1)


def _windows(n: int, span: int, jump: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Fitting points (1-based) and the left edge of each one's window, as R's ``stless``."""
    at = np.arange(1, n + 1, jump)
    if span >= n:
        return at, np.ones(len(at), dtype=np.int64), n
    nsh = (span + 1) // 2
    if jump == 1:
        nleft = np.clip(at - nsh + 1, 1, n - span + 1)
    else:
        nleft = np.where(at < nsh, 1, np.where(at >= n - nsh + 1, n - span + 1, at - nsh + 1))
    return at, nleft.astype(np.int64), span


def loess(
    y: FloatArray, span: int, degree: int, jump: int, rw: FloatArray | None = None
) -> FloatArray:
    """Smooth every row of ``y`` (m x n) by loess as R's ``stless``: tricube weights over
    ``span`` neighbours, local degree 0 or 1, fitted at every ``jump``-th point and linearly
    interpolated between; ``rw`` are robustness weights (same shape as ``y``)."""
    n = y.shape[1]
    if n < 2:
        return y.copy()
    jump = max(1, min(jump, n - 1))
    at, nleft, width = _windows(n, span, jump)
    fit, ok = _estimate_chunked(y, span, degree, at.astype(np.float64), nleft, rw, width)
    fit = np.where(ok, fit, y[:, at - 1])
    if jump == 1:
        return fit
    out = np.empty_like(y)
    last = int(at[-1])
    idx = np.arange(1, last + 1)
    seg = (idx - 1) // jump
    nxt = np.minimum(seg + 1, len(at) - 1)
    delta = (fit[:, nxt] - fit[:, seg]) / jump
    out[:, :last] = fit[:, seg] + delta * ((idx - 1) % jump)
    out[:, at - 1] = fit
    if last != n:
        fn, okn = _estimate(y, span, degree, np.array([float(n)]), nleft[-1:], rw, width)
        out[:, n - 1] = np.where(okn[:, 0], fn[:, 0], y[:, n - 1])
        if last != n - 1:
            k = np.arange(last + 1, n)
            slope = (out[:, n - 1 : n] - fit[:, -1:]) / (n - last)
            out[:, k - 1] = fit[:, -1:] + slope * (k - last)
    return out


def _subseries_smooth(y: FloatArray, p: _Params, rw: FloatArray | None) -> FloatArray:
    """Smooth each cycle-subseries and extend it one cycle at each end (R's ``stlss``);
    returns n + 2 * period values."""
    n, period = len(y), p.period
    out = np.empty(n + 2 * period)
    ks = (n - np.arange(1, period + 1)) // period + 1
    for k in np.unique(ks):
        cols = np.nonzero(ks == k)[0]
        rows = cols[:, None] + period * np.arange(k)[None, :]
        sub = y[rows]
        sub_rw = None if rw is None else rw[rows]
        smooth = loess(sub, p.ns, p.sdeg, p.sjump, sub_rw)
        width = min(p.ns, int(k))
        lo, ok_lo = _estimate(sub, p.ns, p.sdeg, np.array([0.0]), np.array([1]), sub_rw, width)
        hi, ok_hi = _estimate(
            sub,
            p.ns,
            p.sdeg,
            np.array([k + 1.0]),
            np.array([max(1, k - p.ns + 1)]),
            sub_rw,
            width,
        )
        ext = np.empty((len(cols), k + 2))
        ext[:, 1:-1] = smooth
        ext[:, 0] = np.where(ok_lo[:, 0], lo[:, 0], smooth[:, 0])
        ext[:, -1] = np.where(ok_hi[:, 0], hi[:, 0], smooth[:, -1])
        out[cols[:, None] + period * np.arange(k + 2)[None, :]] = ext
    return out


def _moving_average(x: FloatArray, length: int) -> FloatArray:
    c = np.concatenate(([0.0], np.cumsum(x)))
    return (c[length:] - c[:-length]) / length  # type: ignore[no-any-return]


def _inner(
    y: FloatArray, p: _Params, trend: FloatArray, rw: FloatArray | None
) -> tuple[FloatArray, FloatArray]:
    """One inner iteration (R's ``stlstp`` with ni = 1): returns (seasonal, trend)."""
    n = len(y)
    cycle = _subseries_smooth(y - trend, p, rw)
    low = _moving_average(_moving_average(_moving_average(cycle, p.period), p.period), 3)
    low = loess(low[None, :], p.nl, p.ldeg, p.ljump)[0]
    seasonal = cycle[p.period : p.period + n] - low
    rw2 = None if rw is None else rw[None, :]
    trend = loess((y - seasonal)[None, :], p.nt, p.tdeg, p.tjump, rw2)[0]
    return seasonal, trend


def robustness_weights(y: FloatArray, fit: FloatArray) -> FloatArray:
    """Tukey's biweight of |y - fit| / (6 median |y - fit|), as R's ``stlrwt``."""
    r = np.abs(y - fit)
    cmad = 6.0 * float(np.median(r))
    w = (1.0 - (r / cmad) ** 2) ** 2 if cmad > 0 else np.zeros_like(r)
    return np.where(r <= 0.001 * cmad, 1.0, np.where(r <= 0.999 * cmad, w, 0.0))


def _params(n: int, period: int, s_window: int | str) -> _Params:
    periodic = isinstance(s_window, str)
    if periodic and s_window != "periodic":
        raise ValueError(f"s_window must be an odd integer or 'periodic', not {s_window!r}")
    ns = 10 * n + 1 if periodic else int(s_window)
    nt = _nextodd(math.ceil(1.5 * period / (1.0 - 1.5 / ns)))
    nl = _nextodd(period)
    return _Params(
        period=max(2, period),
        ns=_odd_at_least_3(ns),
        nt=_odd_at_least_3(nt),
        nl=_odd_at_least_3(nl),
        sdeg=0,
        tdeg=1,
        ldeg=1,
        sjump=math.ceil(ns / 10),
        tjump=math.ceil(nt / 10),
        ljump=math.ceil(nl / 10),
    )


def stl(
    x: FloatArray, period: int, s_window: int | str = "periodic", robust: bool = False
) -> StlResult:
    """Decompose ``x`` as R's ``stl(ts(x, frequency=period), s.window, robust=robust)`` with
    its default degrees, windows and jumps (inner 1 / outer 15 when robust, else 2 / 0).

    Args:
        x: the series, evenly spaced, without missing values.
        period: points per season (at least 2; the series must span more than two).
        s_window: ``"periodic"`` or the odd span of the seasonal loess.
        robust: down-weight outliers with robustness iterations.

    Returns:
        The seasonal, trend and remainder components and the robustness weights.
    """
    y = np.asarray(x, dtype=np.float64)
    n = len(y)
    if period < 2 or n <= 2 * period:
        raise ValueError("series is not periodic or has less than two periods")
    p = _params(n, period, s_window)
    inner, outer = (1, 15) if robust else (2, 0)
    trend = np.zeros(n)
    rw: FloatArray | None = None
    for k in range(outer + 1):
        for _ in range(inner):
            seasonal, trend = _inner(y, p, trend, rw)
        if k < outer:
            rw = robustness_weights(y, seasonal + trend)
    if isinstance(s_window, str):
        cyc = np.arange(n) % period
        means = np.bincount(cyc, weights=seasonal, minlength=period) / np.bincount(cyc)
        seasonal = means[cyc]
    weights = np.ones(n) if rw is None else rw
    return StlResult(seasonal, trend, y - seasonal - trend, weights)
