"""Provides ``PushExporter``: the common part of the outputs that send to a server (Graphite,
InfluxDB, MQTT). The engine's observer only enqueues; a thread of the exporter's own sends,
buffering in a bounded queue while the server is away and catching up when it is back."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from collectors.base import Batch
from engine.engine import MetricState

T = TypeVar("T")
Report = Callable[[str, str, str], None]
"""``report(source, level, text)``: one line for the engine's events."""

CAPACITY = 100_000
"""Points kept while the server is away; beyond it the oldest are dropped and counted."""
CHUNK = 5_000
"""Points sent at most in one write."""
BACKOFF = (1.0, 30.0)
"""First and longest wait, in seconds, between attempts to reach a server that is away."""


class SendError(Exception):
    """The server could not take the points now; they stay queued and are sent again."""


class PushExporter(Generic[T]):
    """Queues what each batch brings and sends it from a thread of its own.

    Subclasses give ``name`` and ``target``, and implement ``encode`` (batch to items, in
    the observer: cheap, no I/O), ``send`` (raise ``SendError`` or ``OSError`` when the
    server cannot take them) and ``disconnect``.
    """

    name = "push"
    target = ""
    """Where it sends, for messages (``tcp://127.0.0.1:2003``)."""

    def __init__(self, report: Report, timeout: float, capacity: int = CAPACITY) -> None:
        """Args:
        report: tells the engine's events of a lost or regained server.
        timeout: seconds one attempt to reach or write to the server may take.
        capacity: items kept while the server is away.
        """
        self.report, self.timeout, self.capacity = report, timeout, capacity
        self.sent = 0
        self.dropped = 0
        self._queue: deque[T] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down: str | None = None
        """Why the server is away, while it is; None when it takes points."""
        self._dropped_while_down = 0

    # -- the engine's side: never blocks ------------------------------------------------------

    def observe(self, batch: Batch, changed: list[MetricState]) -> None:
        """Engine observer: encode the batch and enqueue it (oldest dropped when full)."""
        if self._thread is None:
            return
        self.enqueue(self.encode(batch, changed))

    def enqueue(self, items: Iterable[T]) -> None:
        """Add items to the queue and wake the sender."""
        with self._lock:
            for item in items:
                if len(self._queue) >= self.capacity:
                    self._queue.popleft()
                    self._count_dropped(1)
                self._queue.append(item)
        self._wake.set()

    def _count_dropped(self, n: int) -> None:
        self.dropped += n
        self._dropped_while_down += n

    def queue_stats(self) -> tuple[int, int]:
        """Return (items waiting, items dropped so far)."""
        with self._lock:
            return len(self._queue), self.dropped

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the sending thread (the server need not be up)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"export-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending; a server that does not answer costs at most its timeout here."""
        thread, self._thread = self._thread, None
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(self.timeout + 1.0)
        self.disconnect()

    # -- the sender's thread ---------------------------------------------------------------

    def _run(self) -> None:
        wait = BACKOFF[0]
        while not self._stop.is_set():
            if self._down is None:
                self._wake.wait()
            else:  # new points must not hurry the retries of a server that is away
                self._stop.wait(wait)
            self._wake.clear()
            while not self._stop.is_set():
                with self._lock:
                    chunk = [self._queue.popleft() for _ in range(min(CHUNK, len(self._queue)))]
                if not chunk:
                    break
                try:
                    self.send(chunk)
                except (SendError, OSError) as exc:
                    was_down = self._down is not None
                    self._requeue(chunk)
                    self._lost(str(exc) or type(exc).__name__)
                    wait = min(wait * 2, BACKOFF[1]) if was_down else BACKOFF[0]
                    break
                self.sent += len(chunk)
                self._back()
                wait = BACKOFF[0]

    def _requeue(self, chunk: Sequence[T]) -> None:
        with self._lock:
            room = self.capacity - len(self._queue)
            keep = chunk[max(0, len(chunk) - room) :] if room < len(chunk) else chunk
            self._count_dropped(len(chunk) - len(keep))
            self._queue.extendleft(reversed(keep))

    def _lost(self, why: str) -> None:
        self.disconnect()
        if self._down is None:
            self._dropped_while_down = 0
            self.report(self.name, "error", f"cannot send to {self.target}: {why}; buffering")
        self._down = why

    def _back(self) -> None:
        if self._down is None:
            return
        self._down = None
        lost = self._dropped_while_down
        more = f" ({lost} dropped while it was away)" if lost else ""
        self.report(self.name, "info", f"{self.target} takes points again{more}")

    # -- what subclasses implement ---------------------------------------------------------

    def encode(self, batch: Batch, changed: list[MetricState]) -> list[T]:
        """Return the items a batch adds (no I/O: this runs in the engine's observer)."""
        raise NotImplementedError

    def send(self, items: Sequence[T]) -> None:
        """Send items, connecting first if need be; raise when the server cannot take them."""
        raise NotImplementedError

    def disconnect(self) -> None:
        """Drop the connection, if any (the next ``send`` connects again)."""
