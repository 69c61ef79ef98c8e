"""Provides replay: a detector run over stored history, and the anomalous runs it finds.

Each series is judged in time order, causally: a streaming detector sees each point once, and
its verdict on a point depends on that point and earlier ones only. A batch detector gets the
whole span at once (it is not causal by nature; its runs have a peak score of 1).

The per-machine detector (``gaussian-machine``) judges vectors rather than points: the load,
memory, processes and zombies series of one machine are aligned in time and each aligned
vector goes to the multivariate Gaussian (see :func:`align`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import detectors
from detectors.base import FloatArray, Verdict
from detectors.gaussian import MultiGaussian

MACHINE_DETECTOR = "gaussian-machine"
"""The name ``--detector`` gives the multivariate Gaussian over the series of one machine."""

MACHINE_FEATURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("load", ("load/shortterm", "load/1m")),
    ("memory", ("memory/used",)),
    ("processes", ("processes/ps_state-running", "procs/total")),
    ("zombies", ("processes/ps_state-zombies", "procs/zombies")),
)
"""The series of a machine the multivariate Gaussian judges together: a name, and the key
endings that stand for it (collectd's as imported, then gongwatch's own)."""


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive points a detector called anomalous."""

    metric: str
    start: float
    """Time of the first anomalous point, seconds since the epoch."""
    end: float
    """Time of the last one."""
    points: int
    peak: float
    """The highest score of the run, in [0, 1]."""
    reason: str
    """The detector's reason at the peak."""

    def to_json(self) -> dict[str, object]:
        """The run as the JSON object ``gongwatch replay --json`` prints."""
        return {
            "metric": self.metric,
            "start": self.start,
            "end": self.end,
            "points": self.points,
            "peak": round(self.peak, 6),
            "reason": self.reason,
        }


def runs(metric: str, times: Sequence[float], verdicts: Iterable[Verdict]) -> list[Run]:
    """Group the anomalous verdicts of a series into runs of consecutive points."""
    found: list[Run] = []
    start = end = 0.0
    count = 0
    peak: Verdict | None = None
    for t, verdict in zip(times, verdicts, strict=True):
        if verdict.anomalous:
            if count == 0:
                start, peak = t, verdict
            elif peak is None or verdict.score > peak.score:
                peak = verdict
            end, count = t, count + 1
        elif count:
            found.append(_run(metric, start, end, count, peak))
            count = 0
    if count:
        found.append(_run(metric, start, end, count, peak))
    return found


def _run(metric: str, start: float, end: float, count: int, peak: Verdict | None) -> Run:
    assert peak is not None
    return Run(metric, start, end, count, peak.score, peak.reason)


def resolution_breaks(t: FloatArray, k: int = 3, factor: float = 2.0) -> list[int]:
    """Where a series changes resolution: the indices of the points that begin a new step.

    An imported RRD file gives a week at 500 s, then a day at 70 s, then hours at 10 s. A
    detector fitted on averaged rows would find the first raw ones out of the ordinary (they
    vary more), so each resolution is judged on its own. A break is where ``k`` regular gaps
    (within 1.5 times of each other) are followed by ``k`` regular gaps more than ``factor``
    times longer or shorter; the one gap between them is left out, as a seam may have any
    length. A lone long gap (a restart, an outage) is no break.
    """
    gaps = np.diff(t)
    breaks: list[int] = []
    i = k + 1
    while i + k <= len(gaps):
        before, after = gaps[i - k - 1 : i - 1], gaps[i : i + k]
        if (
            before.max() <= 1.5 * before.min()
            and after.max() <= 1.5 * after.min()
            and max(before.mean(), after.mean()) > factor * min(before.mean(), after.mean())
        ):
            breaks.append(i)
            i += k
        else:
            i += 1
    return breaks


def _segments(n: int, breaks: list[int]) -> list[tuple[int, int]]:
    edges = [0, *breaks, n]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def replay_series(
    name: str, metric: str, t: FloatArray, x: FloatArray, notes: list[str] | None = None
) -> list[Run]:
    """The runs a registered detector finds in one series, a new detector for each of its
    resolutions (see :func:`resolution_breaks`).

    A batch detector may refuse a span (too short for its period); that span is left out and
    one line saying so goes to ``notes``.

    Raises:
        KeyError: no detector has that name (the message lists the names).
    """
    entry = detectors.info(name)
    verdicts: list[Verdict] = []
    for a, b in _segments(len(t), resolution_breaks(t)):
        detector = entry.factory()
        with np.errstate(all="ignore"):
            if entry.kind == "batch":
                verdicts += _batch_verdicts(detector, name, metric, t[a:b], x[a:b], notes)
            else:
                pairs = zip(t[a:b].tolist(), x[a:b].tolist(), strict=True)
                verdicts += [detector.update(ti, xi) for ti, xi in pairs]
    return runs(metric, t.tolist(), verdicts)


def _batch_verdicts(
    detector: Any, name: str, metric: str, t: FloatArray, x: FloatArray, notes: list[str] | None
) -> list[Verdict]:
    try:
        mask = detector.detect(t, x)
    except ValueError as error:
        if notes is not None:
            notes.append(f"{metric}: {name} left {len(t)} points out: {error}")
        return [detectors.QUIET] * len(t)
    found = Verdict(1.0, True, reason=f"{name} found it in the span")
    return [found if bad else detectors.QUIET for bad in mask.tolist()]


def step(t: FloatArray) -> float:
    """A series' step: the median time between its points (0 for fewer than two)."""
    return float(np.median(np.diff(t))) if len(t) > 1 else 0.0


def align(series: Sequence[tuple[FloatArray, FloatArray]]) -> tuple[FloatArray, FloatArray]:
    """Align several series in time: the vectors the multivariate detector judges.

    The series with the finest step gives the times. At each of them, every other series
    contributes its nearest point, if that point lies within one step of that series;
    otherwise the vector has a gap (NaN) there and the detector skips it.

    Returns:
        The times, and a matrix with one row per time and one column per series.
    """
    base = min(range(len(series)), key=lambda i: (step(series[i][0]) or np.inf, i))
    times = series[base][0]
    columns = []
    for t, x in series:
        if len(t) == 0:
            columns.append(np.full(len(times), np.nan))
            continue
        right = np.clip(np.searchsorted(t, times), 0, len(t) - 1)
        left = np.clip(right - 1, 0, len(t) - 1)
        nearest = np.where(np.abs(t[left] - times) <= np.abs(t[right] - times), left, right)
        tolerance = step(t) or np.inf
        near = np.abs(t[nearest] - times) <= tolerance
        columns.append(np.where(near, x[nearest], np.nan))
    return times, np.column_stack(columns)


def machines(keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """The machines among the keys: prefix -> {feature name: key}, two features at least.

    A machine is the part of a key before a feature's ending: ``import/web1`` for
    ``import/web1/load/shortterm``, ``system`` for ``system/load/1m``.
    """
    found: dict[str, dict[str, str]] = {}
    for key in keys:
        for feature, endings in MACHINE_FEATURES:
            for ending in endings:
                if key == ending or key.endswith("/" + ending):
                    prefix = key[: -len(ending)].rstrip("/")
                    found.setdefault(prefix, {}).setdefault(feature, key)
    return {m: f for m, f in sorted(found.items()) if len(f) >= 2}


def replay_machine(
    machine: str, features: dict[str, str], series: dict[str, tuple[FloatArray, FloatArray]]
) -> list[Run]:
    """The runs the multivariate Gaussian finds in the aligned series of one machine."""
    names = [name for name, _ in MACHINE_FEATURES if name in features]
    times, matrix = align([series[features[name]] for name in names])
    verdicts: list[Verdict] = []
    for a, b in _segments(len(times), resolution_breaks(times)):
        detector = MultiGaussian(len(names), names=names)
        rows = zip(times[a:b].tolist(), matrix[a:b], strict=True)
        verdicts += [detector.update(t, row) for t, row in rows]
    label = f"{machine or '(machine)'} [{'+'.join(names)}]"
    return runs(label, times.tolist(), verdicts)
