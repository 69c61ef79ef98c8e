"""Provides the Gaussian density detector: p(x) from a mean and a variance fitted on a window
of recent points, anomalous when p(x) < epsilon; and its multivariate form, the product of the
densities of several series of one machine (load averages, memory, processes, zombies).

Densities are those of the standardised values, ``p = prod phi((x_j - mu_j) / sigma_j)``, so
epsilon does not depend on units. By default epsilon is the density of one series standing
four standard deviations out while the others sit at their means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from detectors.base import QUIET, FloatArray, Verdict, register
from detectors.scoring import finite, ratio_score

_LOG_PHI0 = -0.5 * math.log(2 * math.pi)
"""log of the standard normal density at 0."""


def default_epsilon(dims: int, z: float = 4.0) -> float:
    """The density of ``dims`` standardised values with one at ``z`` and the rest at 0."""
    return math.exp(dims * _LOG_PHI0 - 0.5 * z * z)


class _Window:
    """Running sums over the last ``size`` vectors of ``dims`` values."""

    def __init__(self, size: int, dims: int) -> None:
        self.size = size
        self.buf = np.zeros((size, dims))
        self.n = 0
        self.sum = np.zeros(dims)
        self.sumsq = np.zeros(dims)

    def push(self, x: FloatArray) -> None:
        slot = self.n % self.size
        if self.n >= self.size:
            old = self.buf[slot]
            self.sum -= old
            self.sumsq -= old * old
        self.buf[slot] = x
        self.sum += x
        self.sumsq += x * x
        self.n += 1
        if self.n % (64 * self.size) == 0:
            self.sum = self.buf.sum(axis=0)
            self.sumsq = (self.buf * self.buf).sum(axis=0)

    def fit(self, floor: float) -> tuple[FloatArray, FloatArray, int]:
        k = min(self.n, self.size)
        mean = self.sum / k
        var = np.maximum(self.sumsq / k - mean * mean, 0.0)
        scale = np.maximum(floor * np.abs(mean), 1e-12)
        return mean, np.sqrt(np.maximum(var, scale * scale)), k


class MultiGaussian:
    """The multivariate Gaussian detector over ``dims`` series sampled together (independent
    features, as the product of their densities)."""

    def __init__(
        self,
        dims: int,
        window: int = 300,
        epsilon: float | None = None,
        warmup: int = 30,
        rel_floor: float = 0.01,
        names: Sequence[str] | None = None,
    ) -> None:
        """Args:
        dims: how many series.
        window: points the mean and variance are fitted on.
        epsilon: density below which the point is anomalous (default: one series at 4 sigma).
        warmup: points needed before any verdict.
        rel_floor: a series' sigma never drops below this fraction of |mean| (flat series).
        names: names of the series, for the verdict's reason.
        """
        if dims < 1 or window < 2 or warmup < 2:
            raise ValueError("dims >= 1, window >= 2 and warmup >= 2 are required")
        self.dims = dims
        self.epsilon = default_epsilon(dims) if epsilon is None else epsilon
        if not 0 < self.epsilon < math.exp(dims * _LOG_PHI0):
            raise ValueError("epsilon must be positive and below the density's peak")
        self.warmup = min(warmup, window)
        self.rel_floor = rel_floor
        self.names = list(names) if names is not None else [f"x{i}" for i in range(dims)]
        self._radius = math.sqrt(2 * (dims * _LOG_PHI0 - math.log(self.epsilon)))
        self._win = _Window(window, dims)

    def update(self, t: float, xs: FloatArray | Sequence[float]) -> Verdict:
        """Judge the vector ``xs`` against the window before it, then add it. Points with a
        missing value are skipped."""
        x = np.asarray(xs, dtype=np.float64)
        if x.shape != (self.dims,) or not np.all(np.isfinite(x)):
            return QUIET
        verdict = QUIET
        if self._win.n >= self.warmup:
            mean, sigma, _ = self._win.fit(self.rel_floor)
            z = (x - mean) / sigma
            z2 = float(z @ z)
            logp = self.dims * _LOG_PHI0 - 0.5 * z2
            bad = logp < math.log(self.epsilon)
            worst = int(np.argmax(np.abs(z)))
            verdict = Verdict(
                ratio_score(math.sqrt(z2) / self._radius),
                bad,
                float(mean[0]) if self.dims == 1 else None,
                float(mean[0] - self._radius * sigma[0]) if self.dims == 1 else None,
                float(mean[0] + self._radius * sigma[0]) if self.dims == 1 else None,
                "warning" if bad else "none",
                f"log p={logp:.1f}; {self.names[worst]} z={z[worst]:+.1f}",
            )
        self._win.push(x)
        return verdict


@register("gaussian", "streaming", "Gaussian density p(x) over a window, anomalous below epsilon")
class Gaussian:
    """The univariate Gaussian detector: ``MultiGaussian`` over one series."""

    def __init__(
        self,
        window: int = 300,
        epsilon: float | None = None,
        warmup: int = 30,
        rel_floor: float = 0.01,
    ) -> None:
        """Args: as ``MultiGaussian`` with one series."""
        self._multi = MultiGaussian(1, window, epsilon, warmup, rel_floor, names=["x"])

    @property
    def epsilon(self) -> float:
        """The density threshold."""
        return self._multi.epsilon

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` against the window before it, then add it."""
        if not finite(x):
            return QUIET
        return self._multi.update(t, np.array([float(x)]))
