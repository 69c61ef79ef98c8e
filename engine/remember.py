"""Provides what ties the engine to its history file: opening it without stopping the monitor,
and warming a new detector with the points its series left there before a restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from detectors.auto_rows import AutoRows
from engine.series import History
from engine.span import Span, SpanError, read_span

WARM_POINTS = 2000
"""Points replayed into a new detector: about what ``auto`` keeps of a series' own past to
judge its surprises, so a restart does not begin from a blank baseline."""
SEASONS = 2
"""A seasonal detector (one with a ``season`` in seconds) gets two seasons, the least from
which Holt-Winters' seasonal terms and band are what they were before the restart."""
WARM_GROUP = 1000
"""Series of a bank warmed together: their points take 32 MB at most."""
MOST_POINTS = 200_000
"""Never more than this for one series (two days at 1 Hz is 172,800): bounded start-up."""


class Recent(Protocol):
    """The part of the history store that warming needs."""

    def recent(self, key: str, n: int) -> list[Any]: ...


def warm(detector: Any, history: Recent, key: str) -> int:
    """Replay the series' last stored points through a new detector, oldest first.

    Args:
        detector: a streaming detector (``update(t, x)``), just created.
        history: the history store.
        key: the metric.

    Returns:
        How many points were replayed.
    """
    points = history.recent(key, WARM_POINTS)
    season = getattr(detector, "season", None)
    if isinstance(season, int | float) and season > 0 and len(points) >= 2:
        span = points[-1].time - points[0].time
        if span < SEASONS * season:
            step = max(span / (len(points) - 1), 1e-3)
            want = min(int(SEASONS * season / step) + 2, MOST_POINTS)
            if want > len(points):
                points = history.recent(key, want)
    for p in points:
        detector.update(p.time, p.value)
    return len(points)


def warm_rows(rows: AutoRows, history: Recent, keys: list[str]) -> int:
    """Replay each new series' last ``WARM_POINTS`` stored points into its row of a bank, as
    ``warm`` does into an ``auto`` of its own, a group of series at a time so that their
    points in memory stay bounded.

    Args:
        rows: the bank, holding ``keys`` in rows just added.
        history: the history store.
        keys: the new series.

    Returns:
        How many points were replayed, all series together.
    """
    done = 0
    for start in range(0, len(keys), WARM_GROUP):
        points = {}
        for key in keys[start : start + WARM_GROUP]:
            past = history.recent(key, WARM_POINTS)
            points[key] = (
                np.array([p.time for p in past], dtype=np.float64),
                np.array([p.value for p in past], dtype=np.float64),
            )
            done += len(past)
        rows.warm(points)
    return done


class StoreArchive:
    """The history store as the engine's archive: appends, reads for a span (from the tier
    that fits it), the recent points a new detector is warmed with, and closing."""

    def __init__(self, store: Any) -> None:
        """Args:
        store: an open ``engine.history.HistoryStore``.
        """
        self.store = store

    def append(self, key: str, t: float, x: float, anomalous: bool = False) -> object:
        """Queue one point (never blocks: the store's writer thread saves it)."""
        return self.store.append(key, t, x, anomalous)

    def set_unit(self, key: str, unit: str) -> None:
        """Tell the file the unit of a series, for ``gongwatch history``."""
        self.store.set_unit(key, unit)

    def read(
        self, key: str, since: float, until: float | None = None, count: int | None = None
    ) -> History:
        """The points of ``key`` from ``since`` to ``until``, oldest first (rollup means where
        the span asks for a coarser tier), at most the newest ``count``."""
        points = self.store.points(key, since, until)
        if count is not None:
            points = points[-count:] if count > 0 else []
        return _history(points)

    def tail(self, key: str, count: int) -> History:
        """The last ``count`` raw points of ``key``, oldest first: what the engine keeps in
        memory of a series, for an engine that keeps fewer."""
        return _history(self.store.recent(key, count))

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """``key`` from ``since`` to ``until`` as at most ``points`` points, from the tier that
        fits the span (see ``engine.span.read_span``).

        Raises:
            SpanError: the file could not be read.
        """
        try:
            return read_span(self.store, key, since, until, points)
        except sqlite3.Error as exc:
            raise SpanError(f"cannot read {self.store.path}: {exc}") from exc

    def recent(self, key: str, n: int) -> list[Any]:
        """The last ``n`` raw points of ``key``."""
        return list(self.store.recent(key, n))

    def close(self) -> None:
        """Seal and save every point still queued."""
        self.store.close()


def _history(points: list[Any]) -> History:
    t = np.array([p.time for p in points], dtype=np.float64)
    x = np.array([p.value for p in points], dtype=np.float64)
    flags = np.array([p.anomalous for p in points], dtype=bool)
    return History(t, x, flags)


def open_archive(config: Any, report: Callable[[str], None]) -> StoreArchive | None:
    """Open the history file the configuration names as an archive; None, said once, when it
    cannot be (the monitor runs on without it).

    Args:
        config: the engine's configuration (its ``history_store`` settings).
        report: where the one line goes when the file cannot be opened.
    """
    from engine.history import HistoryStore, SchemaError

    settings = config.history_store
    try:
        return StoreArchive(HistoryStore(settings, on_event=report))
    except (OSError, sqlite3.Error, SchemaError, RuntimeError, ValueError) as exc:
        report(f"history off: cannot open {settings.file}: {exc}")
        return None
