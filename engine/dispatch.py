"""Provides the dispatcher: the engine's observers run on one thread of their own, fed by a
bounded queue, so a slow subscriber (a history write, a hung alert command) never delays a poll.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from collectors.base import Batch

Report = Callable[[str, str, str], None]
"""``report(source, level, text)``: how the dispatcher tells the engine what went wrong."""
Observer = Callable[[Batch, list], None]  # type: ignore[type-arg]

QUEUE_SIZE = 1000
"""Batches that may wait for the observers; beyond that new ones are dropped and counted."""


class Dispatcher:
    """Hands every batch to the observers, in order, on one thread.

    Until ``start`` (and after ``stop``) it calls them inline, in the caller's thread: code that
    feeds an engine by hand (tests, ``once``) sees the observers' effect at once.
    """

    def __init__(self, report: Report, size: int = QUEUE_SIZE) -> None:
        """Args:
        report: told of an observer's exception and of drops, as one line each.
        size: batches the queue holds.
        """
        self._report = report
        self._observers: list[Observer] = []
        self._queue: queue.Queue[tuple[Batch, list] | None] = queue.Queue(size)  # type: ignore[type-arg]
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.dropped = 0
        """Batches dropped because the queue was full, since the engine was made."""
        self._reported = 0

    def subscribe(self, observer: Observer) -> None:
        """Add an observer (called with each batch and the metric states it changed)."""
        self._observers.append(observer)

    def unsubscribe(self, observer: Observer) -> None:
        """Remove an observer; a no-op for one not subscribed."""
        if observer in self._observers:
            self._observers.remove(observer)

    def start(self) -> None:
        """Start the thread (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="observers", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Let the thread finish what is queued, then end it."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the observers run on the dispatcher's thread."""
        return self._thread is not None

    def publish(self, batch: Batch, changed: list) -> None:  # type: ignore[type-arg]
        """Queue a batch for the observers (or call them now, when not started). Never blocks."""
        if self._thread is None:
            self._deliver(batch, changed)
            return
        try:
            self._queue.put_nowait((batch, changed))
        except queue.Full:
            self.dropped += 1
        if self.dropped != self._reported and self._queue.qsize() < self._queue.maxsize // 2:
            # Said once the queue has room again, so a flood of drops is one line, not many.
            self._report(
                "engine", "warning",
                f"observers fell behind: {self.dropped - self._reported} batches dropped "
                f"({self.dropped} in all)",
            )  # fmt: skip
            self._reported = self.dropped

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            self._deliver(*item)

    def _deliver(self, batch: Batch, changed: list) -> None:  # type: ignore[type-arg]
        for observer in list(self._observers):
            try:
                observer(batch, changed)
            except Exception as exc:  # one subscriber's bug must not silence the others
                name = getattr(observer, "__qualname__", type(observer).__name__)
                self._report("engine", "error", f"{name} failed: {type(exc).__name__}: {exc}")
