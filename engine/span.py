"""Provides ``Span``: one metric over a span of time, at most a given number of points, read
from the history tier that fits the span (or from memory) and reduced to even buckets, each
with its mean, smallest and largest sample, sample count and anomalies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from engine.series import History

if TYPE_CHECKING:
    from engine.history import HistoryReader, Tier

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_POINTS = 4000
"""Most points a span holds, whatever is asked: what the daemon sends for one chart."""
RAW_SPAN = 6 * 3600.0
"""Spans up to this are read from the raw points when the file still keeps them."""
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
         86400, 172800, 604800)  # fmt: skip
"""Bucket sizes a span is reduced to, seconds: each divides the next larger day or minute,
so buckets line up with clock times and a day holds a whole number of them."""
TIER_STEP = {"raw": 0.0, "minute": 60.0, "quarter": 900.0, "memory": 0.0}
"""Seconds one point of each tier covers (0: single samples)."""


class SpanError(RuntimeError):
    """The points of a span could not be read; the message is one line for a person."""


@dataclass(frozen=True, slots=True)
class Span:
    """The points of one metric over a span of time, oldest first.

    Each point is a bucket of ``step`` seconds starting at ``t`` (or a single sample when
    ``step`` is 0): its mean, its smallest and largest sample, how many samples it holds and
    how many of those the detectors called anomalous.
    """

    tier: str
    """Where the points were read: ``raw``, ``minute`` or ``quarter`` (the history file's
    tiers) or ``memory`` (the recent points the engine keeps, when it has no file)."""
    step: float
    """Seconds each point covers; 0 when each point is one sample."""
    t: FloatArray
    """Times, seconds since the epoch: a sample's time or its bucket's start."""
    x: FloatArray
    """Values: the sample, or the bucket's mean."""
    low: FloatArray
    """Smallest sample of each bucket."""
    high: FloatArray
    """Largest sample of each bucket."""
    count: IntArray
    """Samples in each bucket."""
    anomalies: IntArray
    """Samples of each bucket the detectors called anomalous."""

    def __len__(self) -> int:
        return len(self.t)

    @property
    def anomalous(self) -> npt.NDArray[np.bool_]:
        """Whether any sample of each point was anomalous."""
        return self.anomalies > 0

    @property
    def envelope(self) -> bool:
        """Whether some point stands for several samples (its min and max say more)."""
        return bool(len(self.count)) and int(self.count.max()) > 1

    def history(self) -> History:
        """The points as a ``History`` (means, and whether each had an anomaly)."""
        return History(self.t, self.x, self.anomalous)


def from_rows(tier: str, rows: np.ndarray, seconds: float, points: int) -> Span:
    """Build a span from rows ``(t, min, max, sum, count, anomalies)`` of one tier, reduced to
    even buckets when there are more than ``points`` of them.

    Args:
        tier: the tier the rows come from (see ``Span.tier``).
        rows: the rows, oldest first.
        seconds: how long the span is.
        points: at most this many points (capped at ``MAX_POINTS``).
    """
    points = max(1, min(points, MAX_POINTS))
    step = TIER_STEP[tier]
    if len(rows) > points:
        step = bucket_step(seconds, points, step)
        rows = reduce_rows(rows, step)
    t, low, high, total, count, anomalies = rows.T
    return Span(tier, step, t.copy(), total / count, low.copy(), high.copy(),
                count.astype(np.int64), anomalies.astype(np.int64))  # fmt: skip


def bucket_step(seconds: float, points: int, least: float = 0.0) -> float:
    """The smallest of ``STEPS`` above ``least`` whose buckets cut ``seconds`` in at most
    ``points`` (one more when the span does not start on a bucket's edge)."""
    for step in STEPS:
        if step > least and seconds / step + 1 <= points:
            return float(step)
    return float(max(STEPS[-1], seconds / max(points - 1, 1)))


def reduce_rows(rows: np.ndarray, step: float) -> np.ndarray:
    """Merge rows ``(t, min, max, sum, count, anomalies)`` into buckets of ``step`` seconds
    starting on multiples of ``step``: min of mins, max of maxes, sums of the rest."""
    if not len(rows):
        return rows
    buckets = np.floor(rows[:, 0] / step) * step
    times, starts = np.unique(buckets, return_index=True)
    out = np.empty((len(times), 6))
    out[:, 0] = times
    out[:, 1] = np.minimum.reduceat(rows[:, 1], starts)
    out[:, 2] = np.maximum.reduceat(rows[:, 2], starts)
    out[:, 3:] = np.add.reduceat(rows[:, 3:], starts, axis=0)
    return out


def chart_tier(reader: HistoryReader, key: str, since: float, until: float, points: int) -> Tier:
    """The tier a chart of ``[since, until]`` reads: raw points for a few hours, 1-minute
    rollups up to as long as they are kept, 15-minute rollups beyond; raw points for longer
    spans too when the file still keeps them there and they are few (a slow series)."""
    from engine.history import Tier

    seconds, keep = until - since, reader.config
    if seconds <= min(RAW_SPAN, keep.raw):
        return Tier.RAW
    if seconds <= keep.raw and reader.raw_count(key, since, until) <= points:
        return Tier.RAW
    return Tier.MINUTE if seconds <= keep.minute else Tier.QUARTER


def read_span(reader: HistoryReader, key: str, since: float, until: float, points: int) -> Span:
    """Read ``key`` from ``since`` to ``until`` from a history file, as at most ``points``
    points, from the tier :func:`chart_tier` chooses.

    Raises:
        sqlite3.Error: the file could not be read.
    """
    points = max(1, min(points, MAX_POINTS))
    tier = chart_tier(reader, key, since, until, points)
    rows = reader.rows(key, since, until, tier)
    return from_rows(tier.name.lower(), rows, until - since, points)


def memory_span(history: History, since: float, until: float, points: int) -> Span:
    """The recent points kept in memory that fall in ``[since, until]``, as a span."""
    keep = (history.t >= since) & (history.t <= until)
    rows = np.empty((int(keep.sum()), 6))
    rows[:, 0] = history.t[keep]
    rows[:, 1] = rows[:, 2] = rows[:, 3] = history.x[keep]
    rows[:, 4] = 1.0
    rows[:, 5] = history.anomalous[keep]
    return from_rows("memory", rows, until - since, points)
