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
    """The points of one series' open chunk, in arrays that hold ``capacity`` points from the
    start.

    The arrays are written (with zeros) when the chunk is made, and kept for the series' next
    chunk once this one is sealed: a series then costs from its first point what it costs for
    good. Arrays grown a point at a time would raise the monitor's memory for as long as a
    chunk takes to fill (20 minutes at 5 s), which looks like a leak.
    """

    __slots__ = ("count", "marks", "saved", "times", "values")

    def __init__(self, capacity: int = 0) -> None:
        """Args:
        capacity: points the arrays hold before they must grow (a chunk's most).
        """
        self.times = array("q", bytes(8 * capacity))
        """The points' times in milliseconds (the first ``count``)."""
        self.values = array("d", bytes(8 * capacity))
        """The points' values."""
        self.marks = array("B", bytes(capacity))
        """1 for each anomalous point, else 0."""
        self.count = 0
        """Points in the chunk."""
        self.saved = 0
        """Points already saved as segments."""

    def append(self, time_ms: int, value: float, anomalous: bool = False) -> None:
        """Add one point."""
        n = self.count
        if n == len(self.times):
            more = max(16, n)
            self.times.frombytes(bytes(8 * more))
            self.values.frombytes(bytes(8 * more))
            self.marks.frombytes(bytes(more))
        self.times[n] = time_ms
        self.values[n] = value
        self.marks[n] = anomalous
        self.count = n + 1

    def clear(self) -> None:
        """Empty the chunk (once sealed), keeping its arrays for the next one."""
        self.count = self.saved = 0

    @property
    def first_time(self) -> int:
        """Time of the first point (ms); the chunk must not be empty."""
        return self.times[0]

    @property
    def last_time(self) -> int:
        """Time of the last point (ms); the chunk must not be empty."""
        return self.times[self.count - 1]

    def data(self, start: int = 0) -> bytes:
        """The points from ``start`` on as a plain blob (see ``RAW_POINTS``)."""
        times, values = self.times[start : self.count], self.values[start : self.count]
        if sys.byteorder != "little":
            times.byteswap()
            values.byteswap()
        return bytes((RAW_POINTS,)) + times.tobytes() + values.tobytes()

    def flags(self, start: int = 0) -> bytes:
        """The anomaly flags from ``start`` on as run lengths (empty when none is anomalous)."""
        marks = self.marks[start : self.count]
        if not any(marks):
            return b""
        runs = [] if marks[0] == 0 else [0]
        runs += [sum(1 for _ in run) for _, run in groupby(marks)]
        return b"".join(varint(run) for run in runs)

    def segment(self, start: int) -> tuple[int, int, int, bytes, bytes]:
        """The points from ``start`` on as a chunk row: start, end, count, data, flags."""
        return (
            self.times[start],
            self.last_time,
            self.count - start,
            self.data(start),
            self.flags(start),
        )
