"""Provides sparklines drawn as text, so many of them cost one string each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

BARS = "▁▂▃▄▅▆▇█"
"""Eight levels, lowest first."""
_TOP = len(BARS) - 1
_CHARS = BARS + " "
"""The bars, then the blank that stands for a point that is not a number."""


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
    finite = np.isfinite(x)
    every = bool(finite.all())
    if x.size == 0 or not (every or finite.any()):
        return " " * width
    shown = x if every else x[finite]
    low = float(shown.min()) if lo is None else lo
    high = float(shown.max()) if hi is None else hi
    span = high - low
    if span <= 0:
        # A flat line sits at the bottom when it is zero, in the middle otherwise.
        level = np.full(x.shape, 0 if high == 0 else 3, dtype=np.intp)
    else:
        scaled = (x - low) / span * _TOP if every else np.where(finite, x - low, 0.0) / span * _TOP
        level = scaled.round().clip(0, _TOP).astype(np.intp)
    if not every:
        level[~finite] = _TOP + 1  # a blank
    # Drawn by looking each level up in a string: a few screens of these a second, and numpy's
    # per-element objects cost more than the numbers themselves.
    levels = cast("list[int]", level.tolist())
    return " " * (width - x.size) + "".join(map(_CHARS.__getitem__, levels))
