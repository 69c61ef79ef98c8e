"""Provides the engine: schedules collectors off the UI thread, keeps series, runs detectors."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np

from collectors.base import Batch, Collector, Reading, SelfPolling, Status
from detectors.base import Verdict
from engine.backfill import Backfills
from engine.config import Config
from engine.dispatch import QUEUE_SIZE, Dispatcher
from engine.exporters import Exporters
from engine.judging import Judges
from engine.series import Archive, History, SeriesStore
from engine.span import Span, memory_span
from engine.state import (
    SEVERITY_RANK,
    STALE_INTERVALS,
    Event,
    MetricState,
    Snapshot,
    SourceState,
    combine,
    stale_sources,
)

LIMIT_STATUSES = frozenset((Status.WARNING, Status.CRITICAL))
"""The statuses of a reading past its own limits, which overrule the detectors' verdict."""
MAX_RESTART_DELAY = 600.0
"""Most seconds a source whose thread keeps failing waits before the next try."""

Observer = Callable[[Batch, list[MetricState]], None]


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
        memory: int | None = None,
    ) -> None:
        """Args:
        config: chooses detectors per metric and sizes the history.
        collectors: the sources to run.
        monotonic: clock for anomaly durations.
        archive: a history store that keeps every point on disk; the engine appends to it
            (from the observers' thread), ``history`` reads from it when asked for a span,
            and each new series' detector is first fed its stored points (its warm start).
        observer_queue: batches that may wait for the observers before new ones are dropped.
        memory: points kept in memory per metric (default: the configuration's ``history``);
            with an archive that can tell its recent points, ``history`` asked for more reads
            them there.
        """
        self.config = config
        self.collectors = list(collectors)
        self.store = SeriesStore(memory or config.history)
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
        self._snapshot = Snapshot(0, sources=dict(self._sources))
        self._judges = Judges(self.report, archive)
        self._dispatcher = Dispatcher(self.report, observer_queue)
        if archive is not None:
            self._dispatcher.subscribe(self._archive)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._self_polling: list[SelfPolling] = []
        """Sources polling on a loop they share, not in threads of the engine's."""
        self._units: set[str] = set()
        """Keys whose unit the archive has been told."""
        self.exporters = Exporters(self)
        """The outputs the configuration asks for; they start and stop with the engine."""
        self.backfills = Backfills(self)
        self._judging: dict[str, threading.Lock] = {}
        """Held while a source's batch (or its past) is judged."""

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
    def stopping(self) -> bool:
        """Whether ``stop`` was asked for (the threads are ending)."""
        return self._stop.is_set()

    def detector_name(self, key: str) -> str:
        """Return the name of the detector that judges ``key``."""
        name = self._detector_names.get(key)
        if name is None:
            name = self._detector_names[key] = self.config.detector_for(key)
        return name

    def rewarm(self, source: str, points: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Make the detectors of some of ``source``'s series again from these points (times
        and values, oldest first): their past, then what they have judged since."""
        names = {key: self.detector_name(key) for key in points}
        self._judges.rewarm(source, points, names)

    @property
    def running(self) -> bool:
        """Whether the sources are being polled."""
        return bool(self._threads or self._self_polling)

    def start(self) -> None:
        """Start one thread per collector; each schedules its next poll when its last one ends."""
        self.exporters.start()
        self._start_polling()

    def _start_polling(self) -> None:
        self._stop.clear()
        self._dispatcher.start()
        for c in self.collectors:
            if isinstance(c, SelfPolling):
                self._self_polling.append(c)
                c.start_polling(partial(self._delivered, c))
            else:
                th = threading.Thread(
                    target=self._run, args=(c,), name=f"poll-{c.name}", daemon=True
                )
                self._threads.append(th)
                th.start()
            past = self.backfills.start(c, self._judging.setdefault(c.name, threading.Lock()))
            if past is not None:
                self._threads.append(past)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the collector threads, the observers' thread and the exporters, and close the
        archive, waiting for them a little."""
        self._halt(timeout)
        self.exporters.stop()
        close = getattr(self.archive, "close", None)
        if callable(close):
            close()  # seals and saves every point still queued

    def _halt(self, timeout: float) -> None:
        """Stop the collector threads and the observers' thread; close the collectors."""
        self._stop.set()
        for polled in self._self_polling:
            polled.stop_polling()
        self._self_polling.clear()
        for th in self._threads:
            th.join(timeout)
        self._threads.clear()
        self._dispatcher.stop(timeout)
        for c in self.collectors:
            close = getattr(c, "close", None)
            if callable(close):
                close()

    def reconfigure(self, config: Config, collectors: Iterable[Collector]) -> None:
        """Run on a new configuration and sources, keeping the metrics and their history.

        Stops the collector threads, swaps, and starts them again if they were running; the
        archive stays open and the exporters keep serving, those whose settings changed
        replaced (see ``Exporters.reconfigure``). Metrics whose detector changed get a fresh
        one at their next point; the ``auto`` series of sources no longer polled are
        forgotten.
        """
        running = self.running
        if running:
            self._halt(2.0)
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
        self.exporters.reconfigure(config.integrations)
        if running:
            self._start_polling()

    def _archive(self, batch: Batch, changed: list[MetricState]) -> None:
        assert self.archive is not None
        held = self.backfills.hold(batch, changed)  # its past goes in first
        keys: list[str] = []
        times: list[float] = []
        values: list[float] = []
        flags: list[bool] = []
        units, isfinite = self._units, math.isfinite
        for st in changed:
            r = st.reading
            if r.value is not None and isfinite(r.value):
                if r.key not in units and hasattr(self.archive, "set_unit"):
                    units.add(r.key)
                    self.archive.set_unit(r.key, r.unit)
                keys.append(r.key)
                times.append(r.time)
                values.append(r.value)
                flags.append(st.verdict.anomalous)
        if keys and not held:
            self.archive.extend(keys, times, values, flags)

    def _run(self, collector: Collector) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                batch = self.poll_one(collector)
                with self._judging.setdefault(collector.name, threading.Lock()):
                    self.ingest(batch)
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

    def _delivered(self, collector: Collector, batch: Batch, seconds: float) -> None:
        """Take the batch of a source that polls by itself, as ``_run`` takes a poll's."""
        if self._stop.is_set():
            return
        self._took(batch, collector, seconds)
        try:
            with self._judging.setdefault(collector.name, threading.Lock()):
                self.ingest(batch)
        except Exception as exc:  # its next batch is delivered all the same: say so
            self._stopped(collector, exc)
            return
        source = self._sources.get(collector.name)
        if source is not None and source.stopped is not None:
            self._restarted(collector)

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
        self._took(batch, collector, time.perf_counter() - start)
        return batch

    def _took(self, batch: Batch, collector: Collector, seconds: float) -> None:
        with self._lock:
            src = self._sources.get(batch.source) or SourceState(batch.source, collector.interval)
            self._sources[batch.source] = replace(src, duration=seconds)

    def ingest(self, batch: Batch) -> list[MetricState]:
        """Store a batch's readings, judge them, and publish a new snapshot."""
        now = self._monotonic()
        names = [self.detector_name(r.key) for r in batch.readings]
        verdicts = self._judges.judge(batch.source, batch.readings, names)
        changed = self._states(batch.readings, verdicts, names, now)
        with self._lock:
            for st in changed:
                self._metrics[st.key] = st
            for key in batch.gone:
                self._metrics.pop(key, None)
            self._update_source(batch)
            self._version += 1
        self._dispatcher.publish(batch, changed)
        return changed

    def _states(
        self,
        readings: Sequence[Reading],
        verdicts: Sequence[Verdict],
        names: Sequence[str],
        now: float,
    ) -> list[MetricState]:
        """Return the new state of each reading's metric; keep the values in memory, all of
        the poll's at once."""
        out = []
        keys: list[str] = []
        times: list[float] = []
        values: list[float] = []
        flags: list[bool] = []
        metrics, alarms, isfinite = self._metrics, LIMIT_STATUSES, math.isfinite
        for reading, verdict, name in zip(readings, verdicts, names, strict=True):
            if reading.status in alarms:
                verdict = combine(reading, verdict)
            x = reading.value
            if x is not None and isfinite(x):
                keys.append(reading.key)
                times.append(reading.time)
                values.append(x)
                flags.append(verdict.anomalous)
            since = None
            if verdict.anomalous:
                prev = metrics.get(reading.key)
                since = prev.anomalous_since if prev and prev.anomalous_since is not None else now
            out.append(MetricState(reading, verdict, name, since))
        self.store.extend(keys, times, values, flags)
        return out

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
        want = self.config.history if count is None else count
        tail = getattr(self.archive, "tail", None)
        if since is None and until is None and want > self.store.capacity and callable(tail):
            return tail(key, want)  # type: ignore[no-any-return]
        hist = self.store.tail(key, count)
        if since is None and until is None:
            return hist
        keep = (hist.t >= (since or -math.inf)) & (hist.t <= (until or math.inf))
        return History(hist.t[keep], hist.x[keep], hist.anomalous[keep])

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """Return one metric from ``since`` to ``until`` as at most ``points`` points: from
        the archive's tier that fits the span, or from memory when there is no archive.

        Reads the history file: call it off the screen's thread.

        Raises:
            SpanError: the archive could not be read.
        """
        read = getattr(self.archive, "span", None)
        if read is None:
            return memory_span(self.store.tail(key), since, until, points)
        found: Span = read(key, since, until, points)
        return found

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """Return the events of the latest snapshot numbered after ``seq``, oldest first."""
        # Read from the events themselves: a snapshot (a copy of every metric's state) is
        # made only for who reads the metrics, not each second for the daemon's log.
        with self._lock:
            if not self._events or self._events[-1].seq <= seq:
                return ()
            return tuple(e for e in self._events if e.seq > seq)


__all__ = [
    "MAX_RESTART_DELAY", "SEVERITY_RANK", "STALE_INTERVALS", "Engine", "Event", "MetricState",
    "Observer", "Snapshot", "SourceState", "combine", "stale_sources",
]  # fmt: skip
