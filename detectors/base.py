"""Provides the Verdict record, the detector interfaces and the registry of detectors by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a detector thinks of one point."""

    score: float
    """Anomaly score in [0, 1]; 0 is ordinary."""
    anomalous: bool
    """True when the point is an anomaly by this detector's own rule."""
    expected: float | None = None
    """What the detector expected the value to be, if it models one."""
    low: float | None = None
    """Lower edge of the band of ordinary values, if it has one."""
    high: float | None = None
    """Upper edge of the band of ordinary values, if it has one."""
    severity: str = "none"
    """``none``, ``warning`` or ``critical``."""
    reason: str = ""
    """A few words on why, for the UI (``above crit 90 °C``, ``z=7.2``)."""

    def __post_init__(self) -> None:
        # Every detector's verdict is built here, so this is the one place a score is kept in
        # [0, 1]: arithmetic near the ends of the float range (inf - inf, inf / inf) can give
        # NaN, and no reader of a score (the CLI's output, a threshold) should ever see one.
        s = self.score
        if not 0.0 <= s <= 1.0:  # also true for NaN
            clipped = (1.0 if self.anomalous else 0.0) if s != s else min(max(s, 0.0), 1.0)
            object.__setattr__(self, "score", clipped)


QUIET = Verdict(score=0.0, anomalous=False)
"""The verdict for a point a detector has no opinion on (warming up, no value)."""


@runtime_checkable
class StreamingDetector(Protocol):
    """A causal detector: ``update`` sees each point once, in time order, and its verdict on a
    point depends on that point and earlier ones only. No I/O, no clock: time is an argument."""

    def update(self, t: float, x: float) -> Verdict:
        """Take the point ``x`` at time ``t`` (seconds) and judge it."""
        ...


@runtime_checkable
class BatchDetector(Protocol):
    """A detector over a whole window of history."""

    def detect(
        self, t: FloatArray, x: FloatArray, progress: Callable[[float], object] | None = None
    ) -> npt.NDArray[np.bool_]:
        """Return a mask of the anomalous points of ``x`` (times ``t``, seconds); a long search
        tells ``progress`` the share of it done, in [0, 1], now and then."""
        ...


@dataclass(frozen=True, slots=True)
class DetectorInfo:
    """An entry of the registry."""

    name: str
    kind: str
    """``streaming`` or ``batch``."""
    factory: Callable[..., Any]
    summary: str


_REGISTRY: dict[str, DetectorInfo] = {}


def register(
    name: str, kind: str, summary: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Class decorator: make a detector available by ``name`` to the CLI, engine and benchmarks."""
    if kind not in ("streaming", "batch"):
        raise ValueError(f"kind must be streaming or batch, not {kind!r}")

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = DetectorInfo(name, kind, factory, summary)
        return factory

    return deco


BUILTIN = {
    "auto": "detectors.auto",
    "cv": "detectors.cv",
    "edm": "detectors.edm",
    "ema": "detectors.smoothing",
    "gaussian": "detectors.gaussian",
    "holtwinters": "detectors.holtwinters",
    "limits": "detectors.limits",
    "robust_z": "detectors.robust",
    "season": "detectors.season",
    "shesd": "detectors.shesd",
    "sma": "detectors.smoothing",
}
"""The built-in detectors by name, and the module that registers each: a detector's module is
imported when it is first asked for, so a monitor judging with ``auto`` alone does not load
the code of every other detector (S-H-ESD, its STL, EDM ...)."""


def names(kind: str | None = None) -> list[str]:
    """Return the registered detector names, sorted, optionally of one kind."""
    for module in sorted(set(BUILTIN.values())):
        import_module(module)
    return sorted(n for n, i in _REGISTRY.items() if kind is None or i.kind == kind)


def info(name: str) -> DetectorInfo:
    """Return the registry entry of ``name``; KeyError names the choices."""
    if name not in _REGISTRY and name in BUILTIN:
        import_module(BUILTIN[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown detector {name!r} (choose from {', '.join(names())})") from None


def create(name: str, **options: Any) -> Any:
    """Build a new detector by registry name with its options."""
    return info(name).factory(**options)
