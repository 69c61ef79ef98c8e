"""Provides sealing: a finished chunk encoded once, in whatever is smallest for its points.

A chunk is encoded when it is full, so its points are all known, and two things Gorilla's
XOR cannot see often save half the bytes: timestamps whose gaps share a unit (a 5-minute
series needs no milliseconds), and readings with few digits after the point (``12.5`` is
``125`` tenths), written as deltas of integers in prefix codes whose widths suit the chunk.
Then zlib, when it helps.
"""

from __future__ import annotations

import zlib

import numpy as np

from engine.history.bits import DEFAULT_LADDER
from engine.history.codec import ULPS, ZLIB, ChunkEncoder
from engine.history.open_chunk import OpenChunk

MAX_DIGITS = 15
NEAR_SHARE = 0.95
"""Share of a chunk's values its digits must write (to a few ulps) for decimal to be tried."""
_PERCENTILES = (30, 50, 70, 85, 95)


def seal(chunk: OpenChunk, compress: bool = True) -> bytes:
    """Encode a finished chunk once, in the smallest of the encodings tried."""
    n = chunk.count
    times = np.frombuffer(chunk.times, dtype=np.int64, count=n)
    values = np.frombuffer(chunk.values, dtype=np.float64, count=n)
    unit = int(np.gcd.reduce(np.diff(times))) or 1 if len(times) > 1 else 1
    digits = decimal_digits(values)
    ladder: tuple[int, ...] = DEFAULT_LADDER
    if digits is not None:
        ladder, decimal_cost = choose_ladder(values, digits)
        if decimal_cost >= xor_bits(values):
            digits, ladder = None, DEFAULT_LADDER
    encoder = ChunkEncoder(unit, digits, ladder)
    append = encoder.append
    for time_ms, value in zip(chunk.times[:n], chunk.values[:n], strict=True):
        append(time_ms, value)
    best = encoder.data()
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


def _near(values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which values are within a few ulps of their digits, their integers (0 if not), and
    which of the near ones are not exact."""
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(values) & (np.abs(values) * scale < 2**53)
        ints = np.where(finite, np.round(values * scale), 0.0)
        ulps = values.view(np.int64) - (ints / scale).view(np.int64)
    near = finite & (ulps >= -ULPS) & (ulps < ULPS)
    return near, ints.astype(np.int64), near & (ulps != 0)


def percentiles(values: np.ndarray, qs: tuple[int, ...]) -> np.ndarray:
    """``np.percentile(values, qs)`` (its linear method, the same floats), without it.

    NumPy's own loads ``numpy.ma`` (through ``np.unique``) the first time: 2 MiB that a
    process writing history would otherwise take on at its first sealed chunk.
    """
    ordered = np.sort(values)
    at = np.asarray(qs, dtype=np.float64) / 100.0 * (len(ordered) - 1)
    below = np.floor(at).astype(np.int64)
    above = np.minimum(below + 1, len(ordered) - 1)
    a, b, t = ordered[below], ordered[above], at - below
    # NumPy's lerp: from the nearer end, so q = 100 gives the largest value exactly.
    diff = b - a
    out: np.ndarray = np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)
    return out


def choose_ladder(values: np.ndarray, digits: int) -> tuple[tuple[int, ...], float]:
    """Payload widths for the decimal deltas of a chunk: the default, or its own if cheaper.

    Returns:
        The widths, and about how many bits the values take with them.
    """
    near, ints, tweaked = _near(values, 10.0**digits)
    first = ints[0] if near[0] else 0
    chain = np.concatenate(([first], ints[1:][near[1:]])).astype(np.int64)
    steps = np.diff(chain)
    zigzag = ((steps << 1) ^ (steps >> 63)).astype(np.uint64)
    # Bit lengths from log2; a rounding up only widens a code, never truncates.
    need = np.zeros(len(zigzag), dtype=np.int64)
    nonzero = zigzag > 0
    need[nonzero] = np.floor(np.log2(zigzag[nonzero].astype(np.float64))).astype(np.int64) + 1
    # Values off their digits by a few ulps take an escape, the others a raw double.
    extra = 11 * int(np.count_nonzero(tweaked[1:])) + 71 * int(np.count_nonzero(~near[1:]))
    ladder: tuple[int, ...] = DEFAULT_LADDER
    if nonzero.any():
        largest = int(need.max())
        own = sorted({*percentiles(need[nonzero], _PERCENTILES).astype(int).tolist(), largest})
        own_ladder = tuple(w for w in own if w > 0)[-5:]
        if _cost(need, own_ladder) + len(own_ladder) * 8 < _cost(need, DEFAULT_LADDER):
            ladder = own_ladder
    return ladder, _cost(need, ladder) + len(ladder) * 8 + extra


def xor_bits(values: np.ndarray) -> int:
    """Bits Gorilla's XOR encoding takes for the values after the first."""
    total, window_lead, window_trail = 0, -1, 0
    for xor in (values[1:].view(np.uint64) ^ values[:-1].view(np.uint64)).tolist():
        if xor == 0:
            total += 1
            continue
        lead = min(64 - xor.bit_length(), 31)
        trail = (xor & -xor).bit_length() - 1
        if window_lead >= 0 and lead >= window_lead and trail >= window_trail:
            total += 66 - window_lead - window_trail
        else:
            total += 77 - lead - trail
            window_lead, window_trail = lead, trail
    return total


def _cost(need: np.ndarray, ladder: tuple[int, ...]) -> float:
    """Bits the decimal deltas take with a ladder (those beyond it cost a raw double)."""
    cost = np.where(need == 0, 1, 64 + len(ladder) + 2)
    placed = need == 0
    for rank, width in enumerate(ladder):
        fits = ~placed & (need <= width)
        cost[fits] = rank + 2 + width
        placed |= fits
    return float(cost.sum())
