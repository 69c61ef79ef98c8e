"""Provides history files for the tests: days of one series written through the real store."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.history import HistoryConfig, HistoryStore

DAY = 86400.0


def daily_series(end: float, days: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of a series with a daily shape and a little noise, ending at ``end``,
    with a two-minute surge 20 hours before the end."""
    t = end - np.arange(int(days * DAY / step))[::-1] * step
    rng = np.random.default_rng(11)
    x = 50 + 10 * np.sin(2 * math.pi * (t % DAY) / DAY) + rng.normal(0, 0.5, len(t))
    surge = (t >= end - 20 * 3600) & (t < end - 20 * 3600 + 120)
    x[surge] = 200.0
    return t, x.round(2)


def fill(path: Path, key: str, t: np.ndarray, x: np.ndarray, unit: str = "%") -> None:
    """Write the points into the history file at ``path`` (created), with the default tiers,
    the way the engine does: through ``HistoryStore.append``, closed so all is saved."""
    with HistoryStore(HistoryConfig(), path=path) as store:
        store.set_unit(key, unit)
        for when, value in zip(t.tolist(), x.tolist(), strict=True):
            store.append(key, when, value, value > 90)
