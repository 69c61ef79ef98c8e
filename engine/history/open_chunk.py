"""Provides OpenChunk: the points of a chunk still growing, kept plain until it is sealed.

Encoding a chunk as it grows and again when it is sealed would cost twice; so the points of
an open chunk stay in plain arrays and are encoded once, at sealing. Every flush saves only
the points that came since the last one, as a plain segment (16 bytes a point: a few seconds
of one chunk per series in the file at any time), so a flush writes little; sealing the chunk
replaces its segments.
"""

from __future__ import annotations

import sys
from array import array
from itertools import groupby

from engine.history.bits import varint

RAW_POINTS = 2
"""Flag bit of a blob holding plain little-endian int64 times then float64 values."""


class OpenChunk:
    """The points of one series' open chunk."""

    __slots__ = ("marks", "saved", "times", "values")

    def __init__(self) -> None:
        self.times = array("q")
        """The points' times in milliseconds."""
        self.values = array("d")
        """The points' values."""
        self.marks = array("B")
        """1 for each anomalous point, else 0."""
        self.saved = 0
        """Points already saved as segments."""

    def append(self, time_ms: int, value: float, anomalous: bool = False) -> None:
        """Add one point."""
        self.times.append(time_ms)
        self.values.append(value)
        self.marks.append(anomalous)

    @property
    def count(self) -> int:
        """Points in the chunk."""
        return len(self.times)

    @property
    def first_time(self) -> int:
        """Time of the first point (ms); the chunk must not be empty."""
        return self.times[0]

    @property
    def last_time(self) -> int:
        """Time of the last point (ms); the chunk must not be empty."""
        return self.times[-1]

    def data(self, start: int = 0) -> bytes:
        """The points from ``start`` on as a plain blob (see ``RAW_POINTS``)."""
        times, values = self.times[start:], self.values[start:]
        if sys.byteorder != "little":
            times.byteswap()
            values.byteswap()
        return bytes((RAW_POINTS,)) + times.tobytes() + values.tobytes()

    def flags(self, start: int = 0) -> bytes:
        """The anomaly flags from ``start`` on as run lengths (empty when none is anomalous)."""
        marks = self.marks[start:]
        if not any(marks):
            return b""
        runs = [] if marks[0] == 0 else [0]
        runs += [sum(1 for _ in run) for _, run in groupby(marks)]
        return b"".join(varint(run) for run in runs)

    def segment(self, start: int) -> tuple[int, int, int, bytes, bytes]:
        """The points from ``start`` on as a chunk row: start, end, count, data, flags."""
        times = self.times
        return (times[start], times[-1], len(times) - start, self.data(start), self.flags(start))
