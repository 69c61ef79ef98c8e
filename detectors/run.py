"""Provides what the command line calls to run a detector over a whole series:
``score_series`` and ``OPTIONS``, the description of every detector's options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detectors.base import FloatArray, create, info


def score_series(name: str, t: FloatArray, x: FloatArray, **options: Any) -> FloatArray:
    """Anomaly scores in [0, 1] for every row of a series.

    Streaming detectors run causally, one row at a time, so the score of row i depends on rows
    up to i only; batch detectors score 1.0 on the anomalies they find and 0.0 elsewhere.

    Args:
        name: a registered detector name (``detectors.names()``).
        t: times of the rows, epoch seconds, ascending.
        x: values of the rows (NaN for missing).
        **options: the detector's options (see ``OPTIONS[name]``).

    Returns:
        One score per row.
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if t.shape != x.shape:
        raise ValueError("t and x must have the same length")
    det = create(name, **options)
    if info(name).kind == "batch":
        return det.detect(t, x).astype(np.float64)  # type: ignore[no-any-return]
    out = np.zeros(len(x))
    update = det.update
    for i, (ti, xi) in enumerate(zip(t.tolist(), x.tolist(), strict=True)):
        out[i] = update(ti, xi).score
    return out


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a detector, enough for a command line to build a flag from it
    (``max_anoms`` becomes ``--max-anoms``)."""

    name: str
    """Keyword argument of the detector."""
    type: type
    """``int``, ``float``, ``str`` or ``bool``; ``tuple`` for a comma-separated list of floats."""
    default: Any
    """Default value (None: unset)."""
    help: str
    """One line for ``--help``."""
    choices: tuple[str, ...] | None = None
    """Allowed values of a ``str`` option."""


def _o(
    name: str, typ: type, default: Any, text: str, choices: tuple[str, ...] | None = None
) -> Option:
    return Option(name, typ, default, text, choices)


_WINDOW = "points in the rolling window"
OPTIONS: dict[str, tuple[Option, ...]] = {
    "auto": (
        _o("window", int, 200, "points the mean and deviation are taken over"),
        _o("rest", int, 100, "a point must beat the z of this many points before it"),
        _o("threshold", float, 5.0, "z above which a reported point is anomalous"),
        _o("warmup", int, 50, "points needed before any verdict"),
        _o("rel_floor", float, 0.01, "deviation floor as a fraction of |mean|"),
        _o("season", bool, True, "learn daily and weekly profiles from the timestamps"),
        _o("season_ratio", float, 0.7, "use a season whose error is below this times the plain"),
        _o("cap", float, 10.0, "z is capped here before it is normalised"),
        _o("memory", int, 1000, "points the long-run average of z is taken over"),
        _o("rarity", int, 10000, "points the exceedance rates of the score are taken over"),
    ),
    "robust_z": (
        _o("window", int, 120, _WINDOW),
        _o("threshold", float, 6.0, "robust z beyond which a point is anomalous"),
        _o("warmup", int, 20, "points needed before any verdict"),
        _o("rel_floor", float, 0.01, "deviation floor as a fraction of |median|"),
        _o("abs_floor", float, 1e-6, "deviation floor, absolute"),
    ),
    "limits": (
        _o("low", float, None, "warning below this value"),
        _o("high", float, None, "warning above this value"),
        _o("crit_low", float, None, "critical below this value"),
        _o("crit_high", float, None, "critical above this value"),
    ),
    "cv": (
        _o("window", int, 30, _WINDOW),
        _o("threshold", float, 0.5, "coefficient of variation beyond which it is anomalous"),
        _o("tolerance", float, 0.1, "fraction of the window that must hold values"),
    ),
    "season": (
        _o("shifts", tuple, (86400.0, 604800.0), "seconds back to compare with, comma-separated"),
        _o("threshold", float, 0.5, "relative deviation beyond which it is anomalous"),
        _o("resolution", float, 60.0, "seconds per bucket of remembered history"),
        _o("tolerance", float, 300.0, "how far from the exact moment a past sample may be (s)"),
    ),
    "holtwinters": (
        _o("season", float, 86400.0, "season length in seconds"),
        _o("step", float, None, "seconds between points (default: the first interval)"),
        _o("delta", float, 3.0, "band half-width in smoothed deviations"),
        _o("alpha", float, 0.1, "level smoothing"),
        _o("beta", float, 0.0035, "trend smoothing"),
        _o("gamma", float, 0.1, "seasonal and deviation smoothing"),
    ),
    "gaussian": (
        _o("window", int, 300, _WINDOW),
        _o("epsilon", float, None, "density below which it is anomalous (default: 4 sigma)"),
        _o("warmup", int, 30, "points needed before any verdict"),
        _o("rel_floor", float, 0.01, "sigma floor as a fraction of |mean|"),
    ),
    "sma": (
        _o("window", int, 10, "points averaged"),
        _o("band", float, None, "band half-width in standard deviations (none: no band)"),
    ),
    "ema": (
        _o("span", float, 10.0, "span in points (alpha = 2 / (span + 1))"),
        _o("halflife", float, None, "seconds after which a point's weight halves"),
        _o("band", float, None, "band half-width in standard deviations (none: no band)"),
    ),
    "shesd": (
        _o("period", int, 1440, "points per season"),
        _o("max_anoms", float, 0.10, "most anomalies, as a fraction of the points"),
        _o("direction", str, "both", "which anomalies", ("pos", "neg", "both")),
        _o("alpha", float, 0.05, "significance level of the test"),
    ),
    "edm": (
        _o("min_size", int, 30, "fewest points between two breakouts"),
        _o("method", str, "multi", "at most one change, or many", ("amoc", "multi")),
        _o("beta", float, None, "penalty per added breakout (multi; default 0.008)"),
        _o("degree", int, 1, "penalty growth: 0 constant, 1 linear, 2 quadratic"),
        _o("percent", float, None, "required relative gain per added breakout (multi)"),
        _o("exact", bool, True, "exact medians, or the interval-tree approximation (amoc)"),
    ),
}
"""The options of every registered detector, by detector name."""
