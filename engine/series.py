"""Provides the in-memory series store: one fixed-size ring buffer per metric key."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class History:
    """A copy of the recent points of one metric, oldest first."""

    t: npt.NDArray[np.float64]
    """Wall-clock times, seconds since the epoch."""
    x: npt.NDArray[np.float64]
    """Values."""
    anomalous: npt.NDArray[np.bool_]
    """The verdict on each point when it arrived."""

    def __len__(self) -> int:
        return len(self.t)


class Archive(Protocol):
    """A history store that keeps every point for longer than memory does (SQLite, tiers).

    The engine appends to it from its observers' thread, so ``append`` may take its time
    without delaying a poll; ``read`` answers ``EngineView.history`` for a span of time.
    """

    def append(self, key: str, t: float, x: float, anomalous: bool = False) -> object:
        """Keep one point of the series ``key`` (wall-clock ``t``, value ``x``); what it
        returns (whether the point was taken) is not used."""
        ...

    def read(
        self, key: str, since: float, until: float | None = None, count: int | None = None
    ) -> History:
        """Return the points of ``key`` from ``since`` to ``until`` (now when None), oldest
        first, at most the newest ``count`` when given."""
        ...


class _Ring:
    __slots__ = ("anom", "n", "t", "x")

    def __init__(self, capacity: int) -> None:
        self.t = np.zeros(capacity)
        self.x = np.zeros(capacity)
        self.anom = np.zeros(capacity, dtype=bool)
        self.n = 0

    def append(self, t: float, x: float, anomalous: bool) -> None:
        i = self.n % len(self.t)
        self.t[i], self.x[i], self.anom[i] = t, x, anomalous
        self.n += 1

    def tail(self, count: int) -> History:
        cap = len(self.t)
        count = min(count, self.n, cap)
        idx = (np.arange(self.n - count, self.n) % cap) if count else np.arange(0)
        return History(self.t[idx], self.x[idx], self.anom[idx])


class SeriesStore:
    """Bounded history of every metric: memory stays flat however long the monitor runs."""

    def __init__(self, capacity: int = 600) -> None:
        """Args:
        capacity: points kept per metric; older points are overwritten.
        """
        self.capacity = capacity
        self._rings: dict[str, _Ring] = {}
        self._lock = threading.Lock()

    def append(self, key: str, t: float, x: float, anomalous: bool = False) -> None:
        """Add a point to the series ``key`` (created on first use)."""
        with self._lock:
            ring = self._rings.get(key)
            if ring is None:
                ring = self._rings[key] = _Ring(self.capacity)
            ring.append(t, x, anomalous)

    def tail(self, key: str, count: int | None = None) -> History:
        """Return a copy of the last ``count`` points of ``key`` (all kept when None)."""
        with self._lock:
            ring = self._rings.get(key)
            if ring is None:
                empty = np.zeros(0)
                return History(empty, empty.copy(), np.zeros(0, dtype=bool))
            return ring.tail(self.capacity if count is None else count)

    def load(self, key: str, history: History) -> None:
        """Replace the series ``key`` with ``history`` (its newest points, if it holds more)."""
        ring = _Ring(self.capacity)
        for t, x, a in zip(history.t[-self.capacity :], history.x[-self.capacity :],
                           history.anomalous[-self.capacity :], strict=True):  # fmt: skip
            ring.append(float(t), float(x), bool(a))
        with self._lock:
            self._rings[key] = ring

    def keys(self) -> list[str]:
        """Return the keys that have at least one point."""
        with self._lock:
            return list(self._rings)
