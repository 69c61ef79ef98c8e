"""Provides the small helpers the streaming detectors share: turning a ratio to a threshold into
a score in [0, 1], and a fixed-size ring of recent values."""

from __future__ import annotations

import math

import numpy as np

from detectors.base import FloatArray, Verdict


def ratio_score(ratio: float) -> float:
    """Map how far past normal a point is, as a multiple of the detector's threshold (1 = on
    the threshold), to a score in [0, 1): r / (1 + r), so the threshold scores 0.5."""
    if not math.isfinite(ratio):
        return 1.0 if ratio > 0 else 0.0
    r = max(0.0, ratio)
    return r / (1.0 + r)


def band_verdict(ratio: float, expected: float, half: float, reason: str) -> Verdict:
    """The verdict on a point ``ratio`` times the threshold away from ``expected``, whose band
    of ordinary values is ``expected ± half``: anomalous (a warning) past the threshold."""
    bad = ratio > 1.0
    return Verdict(
        ratio_score(ratio),
        bad,
        expected,
        expected - half,
        expected + half,
        "warning" if bad else "none",
        reason,
    )


def finite(x: object) -> bool:
    """True when ``x`` is a usable number (not None, NaN or infinite)."""
    return isinstance(x, (int, float, np.floating, np.integer)) and math.isfinite(float(x))


class Ring:
    """The last ``size`` values pushed, in a preallocated array."""

    __slots__ = ("_buf", "_n", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self._buf = np.empty(size, dtype=np.float64)
        self._n = 0

    def push(self, x: float) -> None:
        """Add ``x``, dropping the oldest value when full."""
        self._buf[self._n % self.size] = x
        self._n += 1

    def __len__(self) -> int:
        return min(self._n, self.size)

    def values(self) -> FloatArray:
        """The values held (in no particular order)."""
        return self._buf[: len(self)]

    def oldest(self) -> float:
        """The value that the next push will drop (only meaningful when full)."""
        return float(self._buf[self._n % self.size])
