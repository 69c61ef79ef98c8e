"""Provides the anomaly detectors: pure numpy, no I/O, no clock, no UI."""

from detectors import (  # noqa: F401  (importing a module registers its detectors)
    auto,
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
