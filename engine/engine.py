"""Provides the engine: schedules collectors off the UI thread, keeps series, runs detectors."""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import detectors
from collectors.base import Batch, Collector, Reading, Status, against_limits
from detectors.base import QUIET, Verdict
from engine.config import Config
from engine.exporters import Exporters
from engine.format import value as format_value
from engine.remember import warm
from engine.series import History, SeriesStore

SEVERITY_RANK = {"none": 0, "warning": 1, "critical": 2}
MAX_RESTART_DELAY = 600.0
"""Most seconds a source whose thread keeps failing waits before the next try."""


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


Observer = Callable[[Batch, list[MetricState]], None]


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


class Engine:
    """Runs collectors in their own threads and turns their batches into snapshots.

    It has no UI: the TUI, ``gongwatch once`` and the benchmarks all drive it the same way.
    It is the embedded ``engine.view.EngineView``: the TUI reads it through that protocol.
    """

    def __init__(
        self,
        config: Config,
        collectors: Iterable[Collector] = (),
        monotonic: Callable[[], float] = time.monotonic,
        history: Any = None,
    ) -> None:
        """Args:
        config: chooses detectors per metric and sizes the history.
        collectors: the sources to run.
        monotonic: clock for anomaly durations.
        history: the history store (``engine.history.HistoryStore``) every judged point is
            written to and new detectors are warmed from; the engine closes it on stop.
        """
        self.config = config
        self.collectors = list(collectors)
        self.store = SeriesStore(config.history)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._metrics: dict[str, MetricState] = {}
        self._detectors: dict[str, Any] = {}
        self._detector_names: dict[str, str] = {}
        """The detector name of every key seen: its glob rules are matched once, not per poll."""
        self._sources = {c.name: SourceState(c.name, c.interval) for c in self.collectors}
        self._events: deque[Event] = deque(maxlen=200)
        self._event_seq = 0
        self._version = 0
        self._snapshot = Snapshot(0)
        self._observers: list[Observer] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.history_store = history
        self._units: set[str] = set()
        """Keys whose unit the history file has been told."""
        self.exporters = Exporters(self)
        """The outputs the configuration asks for; they start and stop with the engine."""

    def subscribe(self, observer: Observer) -> None:
        """Call ``observer(batch, changed_states)`` after every batch, in the collector thread."""
        self._observers.append(observer)

    def start(self) -> None:
        """Start one thread per collector; each schedules its next poll when its last one ends."""
        self._stop.clear()
        self.exporters.start()
        for c in self.collectors:
            th = threading.Thread(target=self._run, args=(c,), name=f"poll-{c.name}", daemon=True)
            self._threads.append(th)
            th.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask every collector thread to stop and wait for them a little."""
        self._stop.set()
        for th in self._threads:
            th.join(timeout)
        self._threads.clear()
        for c in self.collectors:
            close = getattr(c, "close", None)
            if callable(close):
                close()
        self.exporters.stop()
        if self.history_store is not None:
            self.history_store.close()  # seals and saves every point still queued

    def _run(self, collector: Collector) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.ingest(self.poll_one(collector))
            except BaseException as exc:
                # Whatever escapes a poll or its judging (even SystemExit from a library), a
                # thread that ends silently would leave its values frozen, like a quiet machine:
                # say so, then try again later, backing off while it keeps failing.
                failures += 1
                base = min(max(collector.interval, 0.5), 60.0)
                delay = min(base * 2 ** (failures - 1), MAX_RESTART_DELAY)
                self._stopped(collector, exc)
                self._stop.wait(delay)
                continue
            if failures:
                failures = 0
                self._restarted(collector)
            self._stop.wait(collector.interval)

    def _stopped(self, collector: Collector, exc: BaseException) -> None:
        """Record that a source's thread stopped, and why (one event per new reason)."""
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        with self._lock:
            old = self._sources.get(collector.name) or SourceState(collector.name, 0.0)
            if old.stopped != reason:
                self._event(collector.name, "error", f"stopped: {reason} (restarting)")
            self._sources[collector.name] = replace(old, stopped=reason, restarts=old.restarts + 1)
            self._version += 1

    def _restarted(self, collector: Collector) -> None:
        with self._lock:
            old = self._sources.get(collector.name) or SourceState(collector.name, 0.0)
            self._sources[collector.name] = replace(old, stopped=None)
            self._event(collector.name, "info", "running again")
            self._version += 1

    def poll_one(self, collector: Collector) -> Batch:
        """Poll a collector once; a bug in it becomes an error line, never a dead thread."""
        start = time.perf_counter()
        try:
            batch = collector.poll()
        except Exception as exc:  # a collector bug must not kill its thread: report it
            batch = Batch(collector.name, errors=(f"internal error: {type(exc).__name__}: {exc}",))
        with self._lock:
            src = self._sources.get(batch.source) or SourceState(batch.source, collector.interval)
            self._sources[batch.source] = replace(src, duration=time.perf_counter() - start)
        return batch

    def ingest(self, batch: Batch) -> list[MetricState]:
        """Store a batch's readings, judge them, and publish a new snapshot."""
        now = self._monotonic()
        changed = [self._judge(r, now) for r in batch.readings]
        with self._lock:
            for st in changed:
                self._metrics[st.key] = st
            self._update_source(batch)
            self._version += 1
        for observer in self._observers:
            observer(batch, changed)
        return changed

    def _judge(self, reading: Reading, now: float) -> MetricState:
        verdict = QUIET
        name = self._detector_names.get(reading.key)
        if name is None:
            name = self._detector_names[reading.key] = self.config.detector_for(reading.key)
        if reading.value is not None and math.isfinite(reading.value):
            verdict = self._detect(reading, name)
        verdict = combine(reading, verdict)
        if reading.value is not None and math.isfinite(reading.value):
            self.store.append(reading.key, reading.time, reading.value, verdict.anomalous)
            if self.history_store is not None:
                self._remember(reading, verdict.anomalous)
        prev = self._metrics.get(reading.key)
        since = None
        if verdict.anomalous:
            since = prev.anomalous_since if prev and prev.anomalous_since is not None else now
        return MetricState(reading, verdict, name, since)

    def _remember(self, reading: Reading, anomalous: bool) -> None:
        """Queue the point for the history file (never blocks: the store's writer saves it)."""
        if reading.key not in self._units:
            self._units.add(reading.key)
            self.history_store.set_unit(reading.key, reading.unit)
        self.history_store.append(reading.key, reading.time, float(reading.value or 0.0), anomalous)

    def _detect(self, reading: Reading, name: str) -> Verdict:
        det = self._detectors.get(reading.key)
        if det is None:
            det = self._detectors[reading.key] = detectors.create(name)
            if self.history_store is not None:
                # The series' points from before a restart: its baseline and season go on.
                try:
                    warm(det, self.history_store, reading.key)
                except (ArithmeticError, ValueError, OSError, sqlite3.Error) as exc:
                    self._event(reading.key, "error", f"could not warm {name} from history: {exc}")
        try:
            return det.update(reading.time, reading.value)  # type: ignore[no-any-return]
        except (ArithmeticError, ValueError, FloatingPointError) as exc:
            self._event(reading.key, "error", f"detector {name} failed: {exc}")
            return QUIET

    def _update_source(self, batch: Batch) -> None:
        old = self._sources.get(batch.source) or SourceState(batch.source, 0.0)
        problems = ((batch.unavailable,) if batch.unavailable else ()) + batch.errors
        before = ((old.unavailable,) if old.unavailable else ()) + old.errors
        for text in problems:
            if text not in before:
                level = "warning" if text == batch.unavailable else "error"
                self._event(batch.source, level, text)
        if before and not problems:
            self._event(batch.source, "info", "recovered")
        self._sources[batch.source] = replace(
            old,
            polls=old.polls + 1,
            last_poll=time.time(),
            unavailable=batch.unavailable,
            errors=batch.errors,
        )

    def note(self, source: str, level: str, text: str) -> None:
        """Add an event from beside the collectors (a calendar feed that cannot be read)."""
        with self._lock:
            self._event(source, level, text)
            self._version += 1

    def _event(self, source: str, level: str, text: str) -> None:
        self._event_seq += 1
        self._events.append(Event(self._event_seq, time.time(), source, level, text))

    def report(self, source: str, level: str, text: str) -> None:
        """Add an event from any thread (an exporter that lost its server, say).

        Args:
            source: what it is about (a source, a metric key, an exporter).
            level: ``error``, ``warning`` or ``info``.
            text: one line for a person.
        """
        with self._lock:
            self._event(source, level, text)
            self._version += 1

    def snapshot(self) -> Snapshot:
        """Return the latest snapshot (the same object until something changes)."""
        with self._lock:
            if self._snapshot.version != self._version:
                self._snapshot = Snapshot(
                    self._version, dict(self._metrics), dict(self._sources), tuple(self._events)
                )
            return self._snapshot

    def history(self, key: str, count: int | None = None) -> History:
        """Return the recent points of one metric."""
        return self.store.tail(key, count)

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """Return the events of the latest snapshot numbered after ``seq``, oldest first."""
        return tuple(e for e in self.snapshot().events if e.seq > seq)
