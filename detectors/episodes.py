"""Provides a scorer for known disturbances in a live recording, on arrays: whether each one
was caught in time, and how many false-alarm episodes the quiet stretches between them raised.

A disturbance is caught when a point at or after its start, and at most ``within`` seconds
after it, is flagged on any of the metrics it is expected to move; its delay is that point's
time minus the start. Quiet time is the recording's span outside every disturbance window
``[start, end + tail]``. A false-alarm episode is a run of flagged quiet points of one metric,
where flags closer than ``merge`` seconds belong to the same run. Reading files is the
caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.base import FloatArray

BoolArray = npt.NDArray[np.bool_]

WITHIN = 10.0
"""Seconds after its start within which a disturbance must be flagged to count as caught."""
TAIL = 60.0
"""Seconds after a disturbance's end that still belong to it, not to quiet time."""
MERGE = 30.0
"""Flags on one metric closer than this many seconds are one episode."""


@dataclass(frozen=True, slots=True)
class Disturbance:
    """One labelled disturbance."""

    kind: str
    start: float
    """Epoch seconds."""
    end: float
    """Epoch seconds."""
    keys: tuple[str, ...]
    """Metric keys it is expected to move."""


@dataclass(frozen=True, slots=True)
class Catch:
    """How one disturbance fared."""

    disturbance: Disturbance
    delay: float | None
    """Seconds from its start to the first flag on an expected metric; None when none came
    within ``within`` seconds."""
    key: str | None
    """The metric that flagged first."""


def quiet_mask(t: FloatArray, disturbances: Sequence[Disturbance], tail: float = TAIL) -> BoolArray:
    """True for the times ``t`` outside every window ``[start, end + tail]``."""
    t = np.asarray(t, dtype=np.float64)
    quiet = np.ones(t.shape, dtype=bool)
    for d in disturbances:
        quiet &= (t < d.start) | (t > d.end + tail)
    return quiet


def quiet_seconds(
    span: tuple[float, float], disturbances: Sequence[Disturbance], tail: float = TAIL
) -> float:
    """Length of the quiet time inside ``span``: the span minus the union of the windows."""
    lo, hi = span
    windows = sorted((max(lo, d.start), min(hi, d.end + tail)) for d in disturbances)
    busy = 0.0
    reach = lo
    for a, b in windows:
        a = max(a, reach)  # the part already counted by an overlapping window is skipped
        if b > a:
            busy += b - a
            reach = b
    return max(0.0, hi - lo - busy)


def episodes(t: FloatArray, flags: BoolArray, merge: float = MERGE) -> list[tuple[float, float]]:
    """Runs of flagged points, as ``(first, last)`` times; flags less than ``merge`` seconds
    apart join one run. ``t`` must be ascending."""
    times = np.asarray(t, dtype=np.float64)[np.asarray(flags, dtype=bool)]
    if times.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(times) >= merge)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [times.size - 1]))
    return [(float(times[a]), float(times[b])) for a, b in zip(firsts, lasts, strict=True)]


def catch(
    d: Disturbance,
    flagged: Mapping[str, tuple[FloatArray, BoolArray]],
    within: float = WITHIN,
) -> Catch:
    """Find the first flag on any of ``d``'s metrics in ``[start, start + within]``.

    Args:
        d: the disturbance.
        flagged: per metric key, its times and flags.
        within: seconds after the start that still count.
    """
    best: tuple[float, str] | None = None
    for key in d.keys:
        if key not in flagged:
            continue
        t, flags = flagged[key]
        hit = np.flatnonzero(flags & (t >= d.start) & (t <= d.start + within))
        if hit.size and (best is None or t[hit[0]] < best[0]):
            best = (float(t[hit[0]]), key)
    if best is None:
        return Catch(d, None, None)
    return Catch(d, best[0] - d.start, best[1])


def false_alarms(
    t: FloatArray,
    flags: BoolArray,
    disturbances: Sequence[Disturbance],
    tail: float = TAIL,
    merge: float = MERGE,
) -> list[tuple[float, float]]:
    """The false-alarm episodes of one metric: runs of its flags in quiet time."""
    quiet = quiet_mask(t, disturbances, tail)
    return episodes(t, np.asarray(flags, dtype=bool) & quiet, merge)
