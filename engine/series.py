"""Provides the in-memory series store: one fixed-size ring buffer per metric key."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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

    def extend(
        self,
        keys: Sequence[str],
        times: Sequence[float],
        values: Sequence[float],
        flags: Sequence[bool],
    ) -> object:
        """Keep one point of each series of ``keys`` (a poll's), as ``append`` keeps each, in
        order; what it returns is not used."""
        ...

    def read(
        self, key: str, since: float, until: float | None = None, count: int | None = None
    ) -> History:
        """Return the points of ``key`` from ``since`` to ``until`` (now when None), oldest
        first, at most the newest ``count`` when given."""
        ...


GROW = 64
"""Fewest rows the store grows by; it grows by a quarter of what it holds when that is more."""


class SeriesStore:
    """Bounded history of every metric: memory stays flat however long the monitor runs.

    The points are kept in three arrays of one row per metric (times, values, verdicts), each
    row a ring of ``capacity`` points, so that a poll's values are written in one numpy step
    (``extend``) however many series it brings.
    """

    def __init__(self, capacity: int = 600) -> None:
        """Args:
        capacity: points kept per metric; older points are overwritten.
        """
        self.capacity = capacity
        self._rows: dict[str, int] = {}
        self._t = np.zeros((0, capacity))
        self._x = np.zeros((0, capacity))
        self._anom = np.zeros((0, capacity), dtype=bool)
        self._n = np.zeros(0, dtype=np.int64)
        """Points each row has been given (the next one goes at ``n % capacity``)."""
        self._lock = threading.Lock()

    def append(self, key: str, t: float, x: float, anomalous: bool = False) -> None:
        """Add a point to the series ``key`` (created on first use)."""
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._add(key)
            i = self._n[row] % self.capacity
            self._t[row, i], self._x[row, i], self._anom[row, i] = t, x, anomalous
            self._n[row] += 1

    def extend(
        self,
        keys: Sequence[str],
        t: Sequence[float],
        x: Sequence[float],
        anomalous: Sequence[bool],
    ) -> None:
        """Add one point to each series of ``keys`` (as ``append`` for each, in order)."""
        if len(set(keys)) != len(keys):
            # A series with two points in one call: each must take the next slot in turn.
            for point in zip(keys, t, x, anomalous, strict=True):
                self.append(*point)
            return
        with self._lock:
            rows = self._rows
            idx = np.array([rows[k] if k in rows else self._add(k) for k in keys], dtype=np.int64)
            at = self._n[idx] % self.capacity
            self._t[idx, at], self._x[idx, at], self._anom[idx, at] = t, x, anomalous
            self._n[idx] += 1

    def _add(self, key: str) -> int:
        """Give ``key`` an empty row (under the lock), growing the arrays when they are full."""
        row = len(self._rows)
        if row == len(self._n):
            self._t, self._x, self._anom, self._n = (
                _grown(a, row + max(GROW, row // 4))
                for a in (self._t, self._x, self._anom, self._n)
            )
        self._rows[key] = row
        # Write the row now: left to the system, its pages would be mapped one by one as the
        # ring fills, so memory would rise for ``capacity`` polls (50 minutes at 5 s) before it
        # levels off, which looks like a leak. Written here, a metric costs from its first
        # point what it costs for good.
        for a in (self._t, self._x, self._anom):
            a[row] = 0
        return row

    def tail(self, key: str, count: int | None = None) -> History:
        """Return a copy of the last ``count`` points of ``key`` (all kept when None)."""
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                empty = np.zeros(0)
                return History(empty, empty.copy(), np.zeros(0, dtype=bool))
            cap, n = self.capacity, int(self._n[row])
            count = min(self.capacity if count is None else count, n, cap)
            idx = (np.arange(n - count, n) % cap) if count > 0 else np.arange(0)
            return History(self._t[row, idx], self._x[row, idx], self._anom[row, idx])

    def load(self, key: str, history: History) -> None:
        """Replace the series ``key`` with ``history`` (its newest points, if it holds more)."""
        keep = min(len(history), self.capacity)
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._add(key)
            if keep:
                self._t[row, :keep] = history.t[len(history) - keep :]
                self._x[row, :keep] = history.x[len(history) - keep :]
                self._anom[row, :keep] = history.anomalous[len(history) - keep :]
            self._n[row] = keep

    def keys(self) -> list[str]:
        """Return the keys that have at least one point."""
        with self._lock:
            return list(self._rows)


def _grown(a: npt.NDArray[Any], rows: int) -> npt.NDArray[Any]:
    """Return ``a`` with ``rows`` rows, the new ones zero (left untouched until a metric takes
    one: the system maps their pages only once they are written)."""
    out = np.zeros((rows, *a.shape[1:]), dtype=a.dtype)
    out[: len(a)] = a
    return out
