"""Provides HistoryStore: the history file written by a thread of its own, readable meanwhile.

``append`` only puts the point on a bounded in-memory queue and returns; every
``flush_interval`` seconds the writer thread takes what has come and saves it (so a killed
process loses at most that much), expires what the tiers no longer keep, and checkpoints the
WAL so it stays small. It takes the queue sooner when asked (a flush, a read) or when the
queue is a quarter full.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.history.config import HistoryConfig
from engine.history.reader import HistoryReader
from engine.history.schema import connect, migrate
from engine.history.writer import Retention, Unsaved, Writer

WRITE_CACHE_KIB = 128
"""SQLite page cache of the writing connection, KiB. A save touches the pages of the newest
rows, which a small cache holds; a larger one only fills, slowly, with pages written once and
never read again (SQLite's 2 MiB default took a monitor with few series half an hour to fill,
and an expiry pass fills it with the old pages it walks). The writer spends the same CPU with
128 KiB as with 2 MiB (`benchmarks/history.py`)."""

_DRAIN_BATCH = 2000
"""Points taken under the writer's lock at a time, so a reader never waits long."""


@dataclass(frozen=True, slots=True)
class HistoryStats:
    """Counters of a store since it was opened."""

    appended: int
    """Points accepted by ``append``."""
    dropped: int
    """Points refused because the queue was full."""
    queued: int
    """Points waiting for the writer now."""
    flushes: int
    """Transactions that saved points."""
    recovered: int
    """Open chunks found in the file at start, left by a process that died."""


_Points = tuple[Sequence[str], Sequence[float], Sequence[float], Sequence[bool]]


class _Request:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.done = threading.Event()


class HistoryStore(HistoryReader):
    """The history file of the running engine: appends from any thread, reads from any thread.

    Use it as a context manager, or call :meth:`close`; closing seals and saves everything.
    """

    def __init__(
        self,
        config: HistoryConfig | None = None,
        *,
        path: str | Path | None = None,
        flush_interval: float = 5.0,
        checkpoint_interval: float = 60.0,
        expire_interval: float = 300.0,
        chunk_points: int = 240,
        chunk_span: float | None = None,
        queue_size: int = 100_000,
        compress: bool = True,
        clock: Callable[[], float] = time.monotonic,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        """Open (creating or migrating as needed) a history file and start its writer.

        Args:
            config: the ``[history]`` settings: file and retention of each tier.
            path: the file, overriding ``config.path``.
            flush_interval: seconds between saves; a killed process loses at most this much.
            checkpoint_interval: seconds between WAL checkpoints.
            expire_interval: seconds between deletions of what the tiers no longer keep.
            chunk_points: points in a chunk, at most (4 minutes of a 1 Hz series).
            chunk_span: seconds of points in a chunk, at most; None means as long as raw
                points are kept (so a sparse series' chunk still expires in time).
            queue_size: points that may wait for the writer; beyond, ``append`` drops them.
            compress: zlib-compress sealed chunks when that makes them smaller.
            clock: monotonic seconds, for the intervals above (a test or benchmark moves it).
            on_event: called from the writer thread with one line for the user (drops, disk
                errors); by default the line goes to ``events`` only.
        """
        config = config or HistoryConfig()
        file = Path(path).expanduser() if path is not None else config.file
        file.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(file)
        conn.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
        migrate(conn)
        self.events: deque[str] = deque(maxlen=100)
        """The last lines the store had to say."""
        self._on_event = on_event
        retention = Retention(config.raw, config.minute, config.quarter)
        self._writer = Writer(
            conn, retention, chunk_span or config.raw, chunk_points, compress, self._event
        )
        # Sealing what a process that died left open is the writer thread's first work, not
        # its opener's: a screen's first frame does not wait for it (readers see the chunks
        # open or sealed, never half-moved).
        self._recovered = 0
        super().__init__(file, config)
        self._inbox: deque[_Points] = deque()
        """What ``append`` and ``extend`` queued, in order: keys, times, values, flags."""
        self._queued = 0
        """Points in the inbox (changed under ``_count``)."""
        self._count = threading.Lock()
        self._queue_size = queue_size
        self._wake_at = max(1, queue_size // 4)
        """Points queued at which the writer is woken before its next flush is due."""
        self._requests: deque[_Request] = deque()
        self._units: dict[str, str] = {}
        self._wake = threading.Event()
        self._appended = 0
        self._dropped = 0
        self._reported_drops = 0
        self._flushes = 0
        self._failure: BaseException | None = None
        self._clock = clock
        self._intervals = (flush_interval, expire_interval, checkpoint_interval)
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def _event(self, line: str) -> None:
        self.events.append(line)
        if self._on_event is not None:
            self._on_event(line)

    def append(self, key: str, t: float, value: float, anomalous: bool = False) -> bool:
        """Queue one point for the file; never blocks.

        Args:
            key: the metric key.
            t: seconds since the epoch.
            value: the reading.
            anomalous: whether the detectors called it anomalous (counted by the rollups).

        Returns:
            False when the queue was full and the point was dropped (see ``stats().dropped``).
        """
        return self.extend((key,), (t,), (value,), (anomalous,)) == 1

    def extend(
        self,
        keys: Sequence[str],
        times: Sequence[float],
        values: Sequence[float],
        flags: Sequence[bool],
    ) -> int:
        """Queue several points (a poll's) as ``append`` queues each, in one step; never
        blocks.

        Returns:
            How many were queued: all, or none when they do not fit in the queue (see
            ``stats().dropped``).
        """
        count = len(keys)
        with self._count:
            if self._queued + count > self._queue_size:
                self._dropped += count
                return 0
            self._queued += count
            self._appended += count
            self._inbox.append((keys, times, values, flags))
            crowded = self._queued >= self._wake_at
        if crowded:
            self._wake.set()
        return count

    def set_unit(self, key: str, unit: str) -> None:
        """Record the unit of a key (saved with the next flush)."""
        self._units[key] = unit

    def stats(self) -> HistoryStats:
        """The store's counters."""
        return HistoryStats(
            self._appended, self._dropped, self._queued, self._flushes, self._recovered
        )

    def flush(self, timeout: float = 60.0) -> None:
        """Save every point appended before this call; returns when they are in the file.

        Raises:
            TimeoutError: the writer did not finish in ``timeout`` seconds.
            RuntimeError: the writer thread has stopped on an error.
        """
        self._ask("flush", timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Seal and save everything, checkpoint the WAL, stop the writer, close the file."""
        if self._thread.is_alive():
            self._ask("close", timeout)
        self._thread.join(timeout)
        self._writer.conn.close()
        super().close()

    def _ask(self, kind: str, timeout: float) -> None:
        if self._failure is not None:
            raise RuntimeError(f"history writer stopped: {self._failure}") from self._failure
        request = _Request(kind)
        self._requests.append(request)
        self._wake.set()
        if not request.done.wait(timeout):
            if self._failure is not None:
                raise RuntimeError(f"history writer stopped: {self._failure}") from self._failure
            raise TimeoutError(f"history writer did not {kind} within {timeout:g}s")

    def _before_read(self) -> None:
        # Points still queued are not in any chunk yet; let the writer take them first.
        if self._inbox and self._thread.is_alive():
            self._ask("drain", 10.0)

    def _writer_lock(self) -> contextlib.AbstractContextManager[object]:
        return self._writer.lock

    def _unsaved(self, key: str) -> Unsaved:
        return self._writer.unsaved(key)

    def _run(self) -> None:
        try:
            self._recovered = self._writer.recover()
            self._loop()
        except BaseException as error:
            # The writer must not die silently: appends would pile up unseen.
            self._failure = error
            self._event(f"history writer stopped: {error!r}")
            for request in self._requests:
                request.done.set()

    def _loop(self) -> None:
        flush_every, expire_every, checkpoint_every = self._intervals
        now = self._clock()
        due = [now + flush_every, now + expire_every, now + checkpoint_every]
        while True:
            # Points are taken when they are saved, a few seconds' worth in one go: each wake
            # of this thread costs, and so do points taken a few at a time.
            self._wake.wait(timeout=max(0.0, min(due) - self._clock()))
            self._wake.clear()
            self._drain()
            answered = []
            while self._requests:
                request = self._requests.popleft()
                self._drain()
                if request.kind == "close":
                    self._close()
                    request.done.set()
                    return
                if request.kind == "flush":
                    self._flush()
                answered.append(request)
            now = self._clock()
            if now >= due[0]:
                self._flush()
                due[0] = now + flush_every
            if now >= due[1]:
                self._writer.expire()
                due[1] = now + expire_every
            if now >= due[2]:
                self._writer.checkpoint()
                due[2] = now + checkpoint_every
            # Answered after the round, so a flush() also sees the upkeep that fell due.
            for request in answered:
                request.done.set()

    def _close(self) -> None:
        with self._writer.lock:
            self._writer.seal_all()
        self._flush()
        self._writer.expire(compact_now=True)
        self._writer.checkpoint()

    def _drain(self) -> None:
        while self._units:
            key, unit = self._units.popitem()
            self._writer.set_unit(key, unit)
        inbox, add = self._inbox, self._writer.add_many
        while inbox:
            taken = 0
            with self._writer.lock:
                while inbox and taken < _DRAIN_BATCH:
                    keys, times, values, flags = inbox.popleft()
                    add(keys, times, values, flags)
                    taken += len(keys)
            with self._count:
                self._queued -= taken
        if self._dropped > self._reported_drops:
            self._event(f"history: writer falling behind, {self._dropped} points dropped so far")
            self._reported_drops = self._dropped

    def _flush(self) -> None:
        with self._writer.lock:
            if self._writer.flush():
                self._flushes += 1
