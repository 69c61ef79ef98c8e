"""Provides the anomaly detectors: pure numpy, no I/O, no clock, no UI."""

from detectors import (  # noqa: F401  (importing a module registers its detectors)
    cv,
    edm,
    gaussian,
    holtwinters,
    limits,
    robust,
    season,
    shesd,
    smoothing,
)
from detectors.base import QUIET, Verdict, create, info, names, register

__all__ = ["QUIET", "Verdict", "create", "info", "names", "register"]

# "auto" is the monitor's default: the best streaming detector for live server metrics.
register("auto", "streaming", "the default detector for live metrics")(robust.RobustZ)
