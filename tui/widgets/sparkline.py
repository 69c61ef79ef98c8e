"""Provides sparklines drawn as text, so many of them cost one string each."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BARS = "▁▂▃▄▅▆▇█"
"""Eight levels, lowest first."""


def sparkline(
    values: Sequence[float] | np.ndarray,
    width: int,
    lo: float | None = None,
    hi: float | None = None,
) -> str:
    """Return the last ``width`` values as a line of block characters, right-aligned.

    Args:
        values: the series, oldest first; NaN draws as a blank.
        width: characters available.
        lo: value drawn as the lowest bar (default: the minimum shown).
        hi: value drawn as the highest bar (default: the maximum shown).
    """
    if width <= 0:
        return ""
    x = np.asarray(values, dtype=np.float64)[-width:]
    if x.size == 0:
        return " " * width
    finite = np.isfinite(x)
    if not finite.any():
        return " " * width
    low = float(np.min(x[finite])) if lo is None else lo
    high = float(np.max(x[finite])) if hi is None else hi
    span = high - low
    if span <= 0:
        # A flat line sits at the bottom when it is zero, in the middle otherwise.
        level = np.full(x.shape, 0 if high == 0 else 3)
    else:
        level = np.clip(((x - low) / span * (len(BARS) - 1)).round(), 0, len(BARS) - 1)
    chars = [BARS[int(v)] if ok else " " for v, ok in zip(level, finite, strict=True)]
    return " " * (width - len(chars)) + "".join(chars)
