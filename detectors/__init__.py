"""Provides the anomaly detectors: pure numpy, no I/O, no clock, no UI.

Each detector's module registers it by name (``detectors.base.BUILTIN`` says which module):
``create``, ``info`` and ``names`` import the modules they need.
"""

from detectors.base import QUIET, Verdict, create, info, names, register

__all__ = ["QUIET", "Verdict", "create", "info", "names", "register"]
