"""Provides the few special functions the detectors need, in plain numpy: the regularized
incomplete beta function, Student's t distribution (tail and quantile), R-style medians."""

from __future__ import annotations

import math

import numpy as np

from detectors.base import FloatArray

_TINY = 1e-300
_EPS = 1e-16
_MAX_CF_TERMS = 2000


def _lbeta(a: FloatArray, b: FloatArray) -> FloatArray:
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    return lgamma(a) + lgamma(b) - lgamma(a + b)  # type: ignore[no-any-return]


def _beta_cf(a: FloatArray, b: FloatArray, x: FloatArray) -> FloatArray:
    """The continued fraction of the incomplete beta function (modified Lentz), element-wise.

    Converges quickly for ``x < (a + 1) / (a + b + 2)``; the caller arranges that.
    """
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    for m in range(1, _MAX_CF_TERMS + 1):
        m2 = 2.0 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            delta = d * c
            h = np.where(active, h * delta, h)
        active &= np.abs(delta - 1.0) > _EPS
        if not active.any():
            break
    return h  # type: ignore[no-any-return]


def betainc(
    a: FloatArray | float,
    b: FloatArray | float,
    x: FloatArray | float,
    lbeta: FloatArray | None = None,
) -> FloatArray:
    """Regularized incomplete beta function I_x(a, b), element-wise, for a, b > 0 and x in
    [0, 1]; accurate to about 1e-14 relative, also far in the tails.

    Args:
        a: first shape parameter.
        b: second shape parameter.
        x: where to evaluate.
        lbeta: log B(a, b) when the caller already has it (saves the log-gammas).
    """
    a_, b_, x_ = np.broadcast_arrays(
        np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(x, np.float64)
    )
    lb = _lbeta(a_, b_) if lbeta is None else np.broadcast_to(lbeta, x_.shape)
    out = np.zeros(x_.shape)
    out[x_ >= 1.0] = 1.0
    inner = (x_ > 0.0) & (x_ < 1.0)
    if not inner.any():
        return out
    a1, b1, x1, lb1 = a_[inner], b_[inner], x_[inner], lb[inner]
    flip = x1 >= (a1 + 1.0) / (a1 + b1 + 2.0)
    aa, bb, xx = np.where(flip, b1, a1), np.where(flip, a1, b1), np.where(flip, 1.0 - x1, x1)
    front = np.exp(aa * np.log(xx) + bb * np.log1p(-xx) - lb1) / aa
    val = front * _beta_cf(aa, bb, xx)
    out[inner] = np.where(flip, 1.0 - val, val)
    return out


def t_sf(
    t: FloatArray | float, df: FloatArray | float, lbeta: FloatArray | None = None
) -> FloatArray:
    """Upper tail P(T > t) of Student's t with ``df`` degrees of freedom, element-wise
    (``lbeta``: log B(df/2, 1/2) if known)."""
    t_, df_ = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(df, np.float64))
    half = 0.5 * betainc(0.5 * df_, 0.5, df_ / (df_ + t_ * t_), lbeta)
    return np.where(t_ >= 0.0, half, 1.0 - half)  # type: ignore[no-any-return]


def t_pdf(t: FloatArray | float, df: FloatArray | float) -> FloatArray:
    """Density of Student's t with ``df`` degrees of freedom, element-wise."""
    t_, df_ = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(df, np.float64))
    logc = -_lbeta(0.5 * df_, np.full_like(df_, 0.5)) - 0.5 * np.log(df_)
    return np.exp(logc - 0.5 * (df_ + 1.0) * np.log1p(t_ * t_ / df_))  # type: ignore[no-any-return]


def t_isf(q: FloatArray | float, df: FloatArray | float, iterations: int = 60) -> FloatArray:
    """Return t with P(T > t) = q (0 < q <= 0.5), element-wise: the Student's t quantile at
    ``1 - q``, as R's ``qt(1 - q, df)``, to about 1e-12 relative.

    Newton's method on log P(T > t), started from a Cornish-Fisher expansion of an
    asymptotic normal quantile and kept inside a bracket by bisection.
    """
    q_, df_ = np.broadcast_arrays(np.asarray(q, np.float64), np.asarray(df, np.float64))
    if np.any((q_ <= 0.0) | (q_ > 0.5)):
        raise ValueError("q must be in (0, 0.5]")
    lq = np.log(q_)
    y = -2.0 * lq
    z = np.sqrt(np.maximum(y - np.log(np.maximum(y, 1e-300)) - math.log(2 * math.pi), 0.0))
    t = z + (z**3 + z) / (4.0 * df_)
    lo, hi = np.zeros_like(t), np.full_like(t, np.inf)
    lb = _lbeta(0.5 * df_, np.full_like(df_, 0.5))
    logc = -lb - 0.5 * np.log(df_)
    for _ in range(iterations):
        sf = t_sf(t, df_, lb)
        below = sf > q_
        lo = np.where(below, t, lo)
        hi = np.where(below, hi, t)
        pdf = np.exp(logc - 0.5 * (df_ + 1.0) * np.log1p(t * t / df_))
        step = (np.log(np.maximum(sf, 1e-300)) - lq) * sf / np.maximum(pdf, 1e-300)
        new = t + step
        bad = (new < lo) | (new > hi) | ~np.isfinite(new)
        mid = np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * lo + 1.0)
        new = np.where(bad, mid, new)
        done = np.all(np.abs(new - t) <= 1e-12 * np.maximum(1.0, np.abs(t)))
        t = new
        if done:
            break
    return t  # type: ignore[no-any-return]


def r_median(values: FloatArray) -> float:
    """The median as R's ``median`` computes it (mean of the two middle values, correctly
    rounded)."""
    n = len(values)
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, (half - 1, half))
    return float(0.5 * part[half - 1] + 0.5 * part[half])
