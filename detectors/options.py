"""Provides ``OPTIONS``, the description of every detector's options with the range of each,
and ``check_options``, which refuses a value out of its range in one line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a detector, enough for a command line to build a flag from it
    (``max_anoms`` becomes ``--max-anoms``) and to check a value given to it."""

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
    low: float | None = None
    """Least value a number may take (inclusive); every number of a ``tuple`` option too."""
    high: float | None = None
    """Greatest value a number may take (inclusive)."""
    unit: str = ""
    """Unit of the range in messages (``seconds``, ``points``)."""

    def check(self, value: Any) -> str | None:
        """Return what is wrong with ``value`` for this option in a few words, or None.

        NaN and infinities are refused, and numbers must lie in ``[low, high]``: a value a
        person would never mean (a window of 10^12 points, a season of ``inf`` seconds) is
        refused here rather than exhausting memory or looping inside a detector.
        """
        if value is None:
            return None
        if self.choices is not None:
            return None if value in self.choices else f"choose from {', '.join(self.choices)}"
        if self.type is tuple:
            if not value:
                return "expected at least one number"
            return next((e for v in value if (e := self._check_number(v)) is not None), None)
        if self.type in (int, float):
            return self._check_number(value)
        return None

    def _check_number(self, value: float) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {type(value).__name__}"
        unit = f" {self.unit}" if self.unit else ""
        if not math.isfinite(value) or not (
            (self.low is None or value >= self.low) and (self.high is None or value <= self.high)
        ):
            lo, hi, got = _num(self.low), _num(self.high), _num(value)
            if self.low is not None and self.high is not None:
                return f"must be between {lo} and {hi}{unit}, got {got}"
            if self.low is not None:
                return f"must be at least {lo}{unit}, got {got}"
            if self.high is not None:
                return f"must be at most {hi}{unit}, got {got}"
            return f"must be a finite number, got {got}"
        return None


def _num(value: float | None) -> str:
    """A bound or value as people write it: ``31,622,400`` rather than ``3.16224e+07``."""
    if value is None or not math.isfinite(value) or value != int(value) or abs(value) >= 1e15:
        return f"{value:g}" if value is not None else ""
    return f"{int(value):,}"


def check_options(name: str, options: dict[str, Any]) -> None:
    """Check options given to the detector ``name`` against its description.

    Raises:
        ValueError: one line naming the option and what is wrong (an unknown option, a value
            out of its range, NaN or infinite).
    """
    takes = {o.name: o for o in OPTIONS.get(name, ())}
    for key, value in options.items():
        opt = takes.get(key)
        if opt is None:
            raise ValueError(f"detector {name} has no option {key!r}")
        if (err := opt.check(value)) is not None:
            raise ValueError(f"{key}: {err}")


def _o(
    name: str,
    typ: type,
    default: Any,
    text: str,
    choices: tuple[str, ...] | None = None,
    *,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
) -> Option:
    return Option(name, typ, default, text, choices, low, high, unit)


_WINDOW = "points in the rolling window"
_MAX_POINTS = 100_000.0
"""Most points any window, season or memory may hold: 800 kB a series, and far beyond what
a rolling statistic needs."""
_YEAR = 366 * 86400.0
# Thresholds and band widths in deviations lie in [0.01, 1000]: 0 would flag everything, 1000
# nothing. Values (limits) lie in ±1e300: anything a series holds, kept off the overflow edge.
OPTIONS: dict[str, tuple[Option, ...]] = {
    "auto": (
        _o(
            "threshold",
            float,
            0.25,
            "score at or above which a point is anomalous (0.25: p = 1 in 316)",
            low=0.01,
            high=1.0,
        ),
        _o(
            "scale_memory",
            int,
            300,
            "points the error scale is averaged over",
            low=1,
            high=_MAX_POINTS,
            unit="points",
        ),
        _o(
            "average",
            int,
            1,
            "points the log-surprise is averaged over",
            low=1,
            high=1000,
            unit="points",
        ),
        _o(
            "memory",
            int,
            2000,
            "points the surprise's tail is fitted over",
            low=2,
            high=10 * _MAX_POINTS,
            unit="points",
        ),
        _o(
            "rest",
            int,
            1000,
            "after a peak, the bar to speak again falls by 1/rest per point",
            low=1,
            high=10 * _MAX_POINTS,
            unit="points",
        ),
        _o(
            "warmup",
            int,
            30,
            "points learned before any verdict",
            low=1,
            high=_MAX_POINTS,
            unit="points",
        ),
    ),
    "robust_z": (
        _o("window", int, 120, _WINDOW, low=3, high=_MAX_POINTS, unit="points"),
        _o(
            "threshold",
            float,
            6.0,
            "robust z beyond which a point is anomalous",
            low=0.01,
            high=1000.0,
        ),
        _o(
            "warmup",
            int,
            20,
            "points needed before any verdict",
            low=3,
            high=_MAX_POINTS,
            unit="points",
        ),
        _o(
            "rel_floor", float, 0.01, "deviation floor as a fraction of |median|", low=0.0, high=1.0
        ),
        _o("abs_floor", float, 1e-6, "deviation floor, absolute", low=0.0, high=1e300),
    ),
    "limits": (
        _o("low", float, None, "warning below this value", low=-1e300, high=1e300),
        _o("high", float, None, "warning above this value", low=-1e300, high=1e300),
        _o("crit_low", float, None, "critical below this value", low=-1e300, high=1e300),
        _o("crit_high", float, None, "critical above this value", low=-1e300, high=1e300),
    ),
    "cv": (
        _o("window", int, 30, _WINDOW, low=2, high=_MAX_POINTS, unit="points"),
        _o(
            "threshold",
            float,
            0.5,
            "coefficient of variation beyond which it is anomalous",
            low=0.001,
            high=1e6,
        ),
        _o(
            "tolerance",
            float,
            0.1,
            "fraction of the window that must hold values",
            low=0.001,
            high=1.0,
        ),
    ),
    "season": (
        _o(
            "shifts",
            tuple,
            (86400.0, 604800.0),
            "seconds back to compare with, comma-separated",
            low=1.0,
            high=_YEAR,
            unit="seconds",
        ),
        _o(
            "threshold",
            float,
            0.5,
            "relative deviation beyond which it is anomalous",
            low=0.001,
            high=1000.0,
        ),
        _o(
            "resolution",
            float,
            60.0,
            "seconds per bucket of remembered history",
            low=1.0,
            high=86400.0,
            unit="seconds",
        ),
        _o(
            "tolerance",
            float,
            300.0,
            "how far from the exact moment a past sample may be (s)",
            low=0.0,
            high=86400.0,
            unit="seconds",
        ),
    ),
    "holtwinters": (
        _o(
            "season",
            float,
            86400.0,
            "season length in seconds (0: none)",
            low=0.0,
            high=_YEAR,
            unit="seconds",
        ),
        _o(
            "step",
            float,
            None,
            "seconds between points (default: the first interval)",
            low=0.001,
            high=_YEAR,
            unit="seconds",
        ),
        _o("delta", float, 3.0, "band half-width in smoothed deviations", low=0.01, high=1000.0),
        _o("alpha", float, 0.1, "level smoothing", low=0.0, high=1.0),
        _o("beta", float, 0.0035, "trend smoothing", low=0.0, high=1.0),
        _o("gamma", float, 0.1, "seasonal and deviation smoothing", low=0.0, high=1.0),
    ),
    "gaussian": (
        _o("window", int, 300, _WINDOW, low=2, high=_MAX_POINTS, unit="points"),
        _o(
            "epsilon",
            float,
            None,
            "density below which it is anomalous (default: 4 sigma)",
            low=1e-300,
            high=1e300,
        ),
        _o(
            "warmup",
            int,
            30,
            "points needed before any verdict",
            low=2,
            high=_MAX_POINTS,
            unit="points",
        ),
        _o("rel_floor", float, 0.01, "sigma floor as a fraction of |mean|", low=0.0, high=1.0),
    ),
    "sma": (
        _o("window", int, 10, "points averaged", low=1, high=_MAX_POINTS, unit="points"),
        _o(
            "band",
            float,
            None,
            "band half-width in standard deviations (none: no band)",
            low=0.01,
            high=1000.0,
        ),
    ),
    "ema": (
        _o(
            "span",
            float,
            10.0,
            "span in points (alpha = 2 / (span + 1))",
            low=1.0,
            high=_MAX_POINTS,
            unit="points",
        ),
        _o(
            "halflife",
            float,
            None,
            "seconds after which a point's weight halves",
            low=0.001,
            high=_YEAR,
            unit="seconds",
        ),
        _o(
            "band",
            float,
            None,
            "band half-width in standard deviations (none: no band)",
            low=0.01,
            high=1000.0,
        ),
    ),
    "shesd": (
        _o("period", int, 1440, "points per season", low=2, high=_MAX_POINTS, unit="points"),
        _o(
            "max_anoms",
            float,
            0.10,
            "most anomalies, as a fraction of the points",
            low=0.0001,
            high=0.4999,
        ),
        _o("direction", str, "both", "which anomalies", ("pos", "neg", "both")),
        _o("alpha", float, 0.05, "significance level of the test", low=1e-9, high=0.5),
    ),
    "edm": (
        _o(
            "min_size",
            int,
            30,
            "fewest points between two breakouts",
            low=2,
            high=_MAX_POINTS,
            unit="points",
        ),
        _o("method", str, "multi", "at most one change, or many", ("amoc", "multi")),
        _o(
            "beta",
            float,
            None,
            "penalty per added breakout (multi; default 0.008)",
            low=0.0,
            high=1e6,
        ),
        _o("degree", int, 1, "penalty growth: 0 constant, 1 linear, 2 quadratic", low=0, high=2),
        _o(
            "percent",
            float,
            None,
            "required relative gain per added breakout (multi)",
            low=0.0,
            high=1e6,
        ),
        _o("exact", bool, True, "exact medians, or the interval-tree approximation (amoc)"),
    ),
}
"""The options of every registered detector, by detector name."""
