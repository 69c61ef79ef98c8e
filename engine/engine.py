"""Provides the engine: schedules collectors off the UI thread, keeps series, runs detectors."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from collectors.base import Batch, Collector, Reading, Status, against_limits
from detectors.base import Verdict
from engine.config import Config
from engine.dispatch import QUEUE_SIZE, Dispatcher
from engine.exporters import Exporters
from engine.format import value as format_value
from engine.judging import Judges
from engine.series import Archive, History, SeriesStore

SEVERITY_RANK = {"none": 0, "warning": 1, "critical": 2}
MAX_RESTART_DELAY = 600.0
"""Most seconds a source whose thread keeps failing waits before the next try."""
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
        archive: Archive | None = None,
        observer_queue: int = QUEUE_SIZE,
    ) -> None:
        """Args:
        config: chooses detectors per metric and sizes the history.
        collectors: the sources to run.
        monotonic: clock for anomaly durations.
        archive: a history store that keeps every point on disk; the engine appends to it
            (from the observers' thread), ``history`` reads from it when asked for a span,
            and each new series' detector is first fed its stored points (its warm start).
        observer_queue: batches that may wait for the observers before new ones are dropped.
        """
        self.config = config
        self.collectors = list(collectors)
        self.store = SeriesStore(config.history)
        self.archive = archive
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._metrics: dict[str, MetricState] = {}
        self._detector_names: dict[str, str] = {}
        """The detector name of every key seen: its glob rules are matched once, not per poll."""
        self._sources = {c.name: SourceState(c.name, c.interval) for c in self.collectors}
        self._events: deque[Event] = deque(maxlen=200)
        self._event_seq = 0
        self._version = 0
        self._snapshot = Snapshot(0)
        self._judges = Judges(self.report, archive)
        self._dispatcher = Dispatcher(self.report, observer_queue)
        if archive is not None:
            self._dispatcher.subscribe(self._archive)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._units: set[str] = set()
        """Keys whose unit the archive has been told."""
        self.exporters = Exporters(self)
        """The outputs the configuration asks for; they start and stop with the engine."""

    def subscribe(self, observer: Observer) -> None:
        """Call ``observer(batch, changed_states)`` after every batch.

        Once the engine is started, observers run on one thread of their own, off the
        collector threads: a slow observer delays the others, never a poll. An observer's
        exception becomes an event.
        """
        self._dispatcher.subscribe(observer)

    def unsubscribe(self, observer: Observer) -> None:
        """Stop calling ``observer``."""
        self._dispatcher.unsubscribe(observer)

    @property
    def dropped(self) -> int:
        """Batches the observers missed because they fell behind."""
        return self._dispatcher.dropped

    @property
    def running(self) -> bool:
        """Whether the collector threads run."""
        return bool(self._threads)

    def start(self) -> None:
        """Start one thread per collector; each schedules its next poll when its last one ends."""
        self._stop.clear()
        self.exporters.start()
        self._dispatcher.start()
        for c in self.collectors:
            th = threading.Thread(target=self._run, args=(c,), name=f"poll-{c.name}", daemon=True)
            self._threads.append(th)
            th.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the collector threads and the observers' thread, waiting for them a little."""
        self._stop.set()
        for th in self._threads:
            th.join(timeout)
        self._threads.clear()
        self._dispatcher.stop(timeout)
        for c in self.collectors:
            close = getattr(c, "close", None)
            if callable(close):
                close()
        self.exporters.stop()
        close = getattr(self.archive, "close", None)
        if callable(close):
            close()  # seals and saves every point still queued

    def reconfigure(self, config: Config, collectors: Iterable[Collector]) -> None:
        """Run on a new configuration and sources, keeping the metrics and their history.

        Stops the collector threads, swaps, and starts them again if they were running.
        Metrics whose detector changed get a fresh one at their next point; the ``auto``
        series of sources no longer polled are forgotten.
        """
        running = self.running
        if running:
            self.stop()
        with self._lock:
            self.config = config
            self.collectors = list(collectors)
            self._detector_names.clear()
            self._judges.keep_sources({c.name for c in self.collectors})
            old = self._sources
            self._sources = {
                c.name: replace(
                    old.get(c.name) or SourceState(c.name, c.interval), interval=c.interval
                )
                for c in self.collectors
            }
            self._version += 1
        if running:
            self.start()

    def _archive(self, batch: Batch, changed: list[MetricState]) -> None:
        assert self.archive is not None
        for st in changed:
            r = st.reading
            if r.value is not None and math.isfinite(r.value):
                if r.key not in self._units and hasattr(self.archive, "set_unit"):
                    self._units.add(r.key)
                    self.archive.set_unit(r.key, r.unit)
                self.archive.append(r.key, r.time, r.value, st.verdict.anomalous)

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
        names = [self._detector_name(r.key) for r in batch.readings]
        verdicts = self._judges.judge(batch.source, batch.readings, names)
        changed = [
            self._state(r, v, name, now)
            for r, v, name in zip(batch.readings, verdicts, names, strict=True)
        ]
        with self._lock:
            for st in changed:
                self._metrics[st.key] = st
            self._update_source(batch)
            self._version += 1
        self._dispatcher.publish(batch, changed)
        return changed

    def _detector_name(self, key: str) -> str:
        name = self._detector_names.get(key)
        if name is None:
            name = self._detector_names[key] = self.config.detector_for(key)
        return name

    def _state(self, reading: Reading, verdict: Verdict, name: str, now: float) -> MetricState:
        verdict = combine(reading, verdict)
        if reading.value is not None and math.isfinite(reading.value):
            self.store.append(reading.key, reading.time, reading.value, verdict.anomalous)
        prev = self._metrics.get(reading.key)
        since = None
        if verdict.anomalous:
            since = prev.anomalous_since if prev and prev.anomalous_since is not None else now
        return MetricState(reading, verdict, name, since)

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

    def history(
        self,
        key: str,
        count: int | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> History:
        """Return the points of one metric: the recent ones kept in memory, or, with ``since``
        and an archive, what the archive holds from ``since`` to ``until`` (wall-clock)."""
        if since is not None and self.archive is not None:
            return self.archive.read(key, since, until, count)
        hist = self.store.tail(key, count)
        if since is None and until is None:
            return hist
        keep = (hist.t >= (since or -math.inf)) & (hist.t <= (until or math.inf))
        return History(hist.t[keep], hist.x[keep], hist.anomalous[keep])

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """Return the events of the latest snapshot numbered after ``seq``, oldest first."""
        return tuple(e for e in self.snapshot().events if e.seq > seq)
