"""Provides what a snapshot is made of: each metric's latest state, each source's health, the
events, and how a reading's own limits overrule the statistics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from collectors.base import Reading, Status, against_limits
from detectors.base import Verdict
from engine.format import value as format_value

SEVERITY_RANK = {"none": 0, "warning": 1, "critical": 2}
STALE_INTERVALS = 3.0
"""A source whose last poll is older than this many of its intervals is stale."""


@dataclass(frozen=True, slots=True)
class MetricState:
    """The latest of one metric: its reading and what the detectors think of it."""

    reading: Reading
    verdict: Verdict
    detector: str
    """Name of the streaming detector that judges this metric."""
    anomalous_since: float | None = None
    """Monotonic time the current run of anomalous verdicts began; None when ordinary."""

    @property
    def key(self) -> str:
        return self.reading.key


@dataclass(frozen=True, slots=True)
class SourceState:
    """How one collector is doing."""

    name: str
    interval: float
    polls: int = 0
    last_poll: float | None = None
    """Wall-clock time the last poll finished."""
    duration: float = 0.0
    """Seconds the last poll took."""
    unavailable: str | None = None
    errors: tuple[str, ...] = ()
    stopped: str | None = None
    """Why the source's thread stopped (``RuntimeError: ...``) while it waits to restart; None
    while it runs."""
    restarts: int = 0
    """How many times its thread was restarted after an unexpected error."""

    def is_stale(self, now: float | None = None) -> bool:
        """Whether the source has gone quiet: no poll finished in three of its intervals.

        A source that never finished a poll is not stale (it is still starting); a slow first
        poll shows as ``polls == 0``.

        Args:
            now: wall-clock time to judge at (default: now).
        """
        if self.last_poll is None or self.interval <= 0:
            return False
        now = time.time() if now is None else now
        return now - self.last_poll > STALE_INTERVALS * self.interval


def stale_sources(sources: dict[str, SourceState], now: float | None = None) -> list[str]:
    """Return the names of the stale sources, sorted: every pane and ``status`` use this."""
    return sorted(name for name, src in sources.items() if src.is_stale(now))


@dataclass(frozen=True, slots=True)
class Event:
    """Something worth one line to the user: a new problem, a recovery."""

    seq: int
    """Numbers the events in order, so a reader can ask for those after the last it saw."""
    time: float
    source: str
    level: str
    """``error``, ``warning`` or ``info``."""
    text: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable view of everything the UI renders."""

    version: int
    metrics: dict[str, MetricState] = field(default_factory=dict)
    sources: dict[str, SourceState] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


def combine(reading: Reading, verdict: Verdict) -> Verdict:
    """Let the hardware's own limits overrule the statistics: an alarm is an anomaly."""
    if reading.status not in (Status.WARNING, Status.CRITICAL):
        return verdict
    severity = "critical" if reading.status == Status.CRITICAL else "warning"
    # The limit comes first in the reason: "above max 80°C" says more than any statistic.
    why = _why(reading)
    if verdict.anomalous and verdict.reason:
        why = f"{why} · {verdict.reason}"
    if SEVERITY_RANK[verdict.severity] >= SEVERITY_RANK[severity] and verdict.anomalous:
        return replace(verdict, reason=why)
    score = max(verdict.score, 1.0 if severity == "critical" else 0.9)
    return replace(verdict, score=score, anomalous=True, severity=severity, reason=why)


LIMIT_WORDS = {
    "above crit": "above critical",
    "below lcrit": "below critical",
    "above max": "above max",
    "below min": "below min",
}
"""How a crossed limit reads in a verdict (the sensors' own short words, spelt out)."""


def _why(reading: Reading) -> str:
    """Say why a reading is past its limits, in words and with the limit's unit ("above max
    80°C"), else what its source said."""
    r = reading
    _, why = against_limits(r.value, r.low, r.high, r.crit, r.lcrit)
    bounds = {"above crit": r.crit, "below lcrit": r.lcrit, "above max": r.high, "below min": r.low}
    bound = bounds.get(why or "")
    if why is not None and bound is not None:
        return f"{LIMIT_WORDS[why]} {format_value(bound, r.unit)}"
    return r.text or f"{r.status} limit"
