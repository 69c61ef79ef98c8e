"""Provides what ties the engine to its history file: opening it without stopping the monitor,
and warming a new detector with the points its series left there before a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

WARM_POINTS = 2000
"""Points replayed into a new detector: about what ``auto`` keeps of a series' own past to
judge its surprises, so a restart does not begin from a blank baseline."""
SEASONS = 2
"""A seasonal detector (one with a ``season`` in seconds) gets two seasons, the least from
which Holt-Winters' seasonal terms and band are what they were before the restart."""
MOST_POINTS = 200_000
"""Never more than this for one series (two days at 1 Hz is 172,800): bounded start-up."""


class RecentPoint(Protocol):
    """What the history hands back for a point: its time and value."""

    time: float
    value: float


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


def open_history(config: Any, report: Callable[[str], None]) -> Any | None:
    """Open the history file the configuration names; None, said once, when it cannot be.

    Args:
        config: the engine's configuration (its ``history_store`` settings).
        report: where the one line goes when the file cannot be opened.
    """
    import sqlite3

    from engine.history import HistoryStore, SchemaError

    settings = config.history_store
    try:
        return HistoryStore(settings, on_event=report)
    except (OSError, sqlite3.Error, SchemaError, RuntimeError, ValueError) as exc:
        report(f"history off: cannot open {settings.file}: {exc}")
        return None


def attach_history(engine: Any) -> None:
    """Give an engine that is about to start its history file (from its configuration), with
    what cannot be opened said as one of its events."""
    engine.history_store = open_history(
        engine.config, lambda text: engine.report("history", "warning", text)
    )
