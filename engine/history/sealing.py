"""Provides sealing: a finished chunk encoded again in whatever is smallest for its points.

The incremental Gorilla encoding is the right one while a chunk grows; once it is full its
points are known, and two things XOR cannot see often save half the bytes: timestamps whose
gaps share a unit (a 5-minute series needs no milliseconds), and readings with few digits
after the point (``12.5`` is ``125`` tenths), written as deltas of integers in prefix codes
whose widths suit the chunk. Then zlib, when it helps.
"""

from __future__ import annotations

import zlib

import numpy as np

from engine.history.bits import DEFAULT_LADDER
from engine.history.codec import ULPS, ZLIB, ChunkEncoder

MAX_DIGITS = 15
NEAR_SHARE = 0.95
"""Share of a chunk's values its digits must write (to a few ulps) for decimal to be tried."""
_PERCENTILES = (30, 50, 70, 85, 95)


def seal(chunk: ChunkEncoder, compress: bool = True) -> bytes:
    """Return the blob of a finished chunk in the smallest of the encodings tried."""
    best = chunk.data()
    times = np.frombuffer(chunk.times, dtype=np.int64)
    values = np.frombuffer(chunk.values, dtype=np.float64)
    unit = int(np.gcd.reduce(np.diff(times))) or 1 if len(times) > 1 else 1
    digits = decimal_digits(values)
    if unit > 1 or digits is not None:
        ladder = DEFAULT_LADDER if digits is None else choose_ladder(values, digits)
        again = ChunkEncoder(unit, digits, ladder)
        for time_ms, value in zip(chunk.times, chunk.values, strict=True):
            again.append(time_ms, value)
        blob = again.data()
        if len(blob) < len(best):
            best = blob
    if compress:
        packed = zlib.compress(best[1:], 9)
        if len(packed) + 1 < len(best):
            return bytes((ZLIB,)) + packed
    return best


def decimal_digits(values: np.ndarray) -> int | None:
    """The fewest digits after the point that write nearly every value (to a few ulps).

    Returns:
        None when no number of digits up to 15 does for 95 % of the values.
    """
    if not len(values):
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        for digits in range(MAX_DIGITS + 1):
            near = _near(values, 10.0**digits)[0]
            if near.mean() >= NEAR_SHARE:
                return digits
    return None


def _near(values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    ints = np.round(values * scale)
    ulps = values.view(np.int64) - (ints / scale).view(np.int64)
    near = (np.abs(ints) < 2**53) & (np.abs(ulps) < ULPS) & np.isfinite(values)
    return near, ints


def choose_ladder(values: np.ndarray, digits: int) -> tuple[int, ...]:
    """Payload widths for the decimal deltas of a chunk: the default, or its own if cheaper."""
    with np.errstate(invalid="ignore", over="ignore"):
        near, ints = _near(values, 10.0**digits)
    chain = ints[1:][near[1:]].astype(np.int64)
    if len(chain) < 2:
        return DEFAULT_LADDER
    steps = np.diff(chain)
    zigzag = ((steps << 1) ^ (steps >> 63)).astype(np.uint64)
    # Bit lengths from log2; a rounding up only widens a code, never truncates.
    need = np.zeros(len(zigzag), dtype=np.int64)
    nonzero = zigzag > 0
    need[nonzero] = np.floor(np.log2(zigzag[nonzero].astype(np.float64))).astype(np.int64) + 1
    if not nonzero.any():
        return DEFAULT_LADDER
    largest = int(need.max())
    own = sorted({*np.percentile(need[nonzero], _PERCENTILES).astype(int).tolist(), largest})
    own_ladder = tuple(w for w in own if w > 0)[-5:]
    if _cost(need, own_ladder) + len(own_ladder) * 8 < _cost(need, DEFAULT_LADDER):
        return own_ladder
    return DEFAULT_LADDER


def _cost(need: np.ndarray, ladder: tuple[int, ...]) -> float:
    """Bits the decimal deltas take with a ladder (those beyond it cost a raw double)."""
    cost = np.where(need == 0, 1, 64 + len(ladder) + 2)
    placed = need == 0
    for rank, width in enumerate(ladder):
        fits = ~placed & (need <= width)
        cost[fits] = rank + 2 + width
        placed |= fits
    return float(cost.sum())
