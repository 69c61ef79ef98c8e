"""Provides ``bound_split_cache``: Rich's cache of split segments sized for a screen that
redraws its changed lines every second.

Rich keeps the last 16,384 segments it split at a cell (``Segment._split_cells``), with their
halves. The compositor splits a line wherever another widget begins on it; a monitor's changed
lines are new segments each second, so that cache fills with lines long gone from the screen,
tens to a hundred a minute, toward about 13 MiB over hours, and they are hardly used again
(49 hits in 284 by minute four of the full setup). A few hundred entries hold what repeats.
"""

from __future__ import annotations

import functools

from rich.segment import Segment

SPLIT_SEGMENTS = 256
"""Split segments Rich remembers."""


def bound_split_cache(size: int = SPLIT_SEGMENTS) -> bool:
    """Give Rich a cache of ``size`` split segments (for this process); return False and leave
    it as it is when it is no larger already, or not the cache this was written for."""
    current = Segment.__dict__.get("_split_cells")
    cached = getattr(current, "__func__", None)
    split = getattr(cached, "__wrapped__", None)
    info = getattr(cached, "cache_info", None)
    if split is None or info is None or (info().maxsize or 0) <= size:
        return False
    Segment._split_cells = classmethod(functools.lru_cache(maxsize=size)(split))  # type: ignore[arg-type,assignment,method-assign]
    cached.cache_clear()  # type: ignore[union-attr]
    return True
